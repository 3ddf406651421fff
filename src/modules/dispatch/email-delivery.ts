import { trackingLinks } from '../tracking/tracking-links.js';
import { changeTouchpoint, insertAttempt } from './dispatch.repository.js';
import {
  type AttemptInfo,
  type DispatchContext,
  type DispatchOutcome,
  type EmailDelivery,
  settle,
} from './dispatch-context.js';
import { htmlFromText, messageIdFor, withOpenPixel } from './email-sender.js';

/** Sends a frozen email and records the attempt and, unless it is to be retried, the outcome. */
export async function deliverEmail(
  ctx: DispatchContext,
  delivery: EmailDelivery,
  attempt: AttemptInfo,
): Promise<DispatchOutcome> {
  const { touchpoint: tp, customer, content } = delivery;
  const sender = ctx.email;
  const to = customer.email;
  if (!sender || !to) {
    // Only reachable for a touchpoint frozen before SMTP_URL was unset or the address erased.
    return ctx.db.transaction().execute((trx) =>
      settle(ctx, trx, {
        touchpoint: tp,
        customer,
        status: 'skipped',
        change: { statusReason: sender ? 'no_address' : 'smtp_not_configured' },
        now: ctx.clock.now(),
        delivered: true,
        content,
      }),
    );
  }
  const links = trackingLinks(await ctx.signingKey(), ctx.publicUrl, {
    workspaceId: tp.workspaceId,
    touchpointId: tp.id,
  });
  const messageId = tp.providerMessageId ?? messageIdFor(tp.id, ctx.publicUrl);
  const result = await sender.send({
    from: ctx.emailFrom,
    to,
    subject: content.subject,
    html: withOpenPixel(content.html ?? htmlFromText(content.text), links.openPixel),
    text: content.text,
    messageId,
    unsubscribeUrl: links.unsubscribe,
  });
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const record = (status: 'succeeded' | 'failed', error: string | null, number: number) =>
      insertAttempt(trx, {
        workspaceId: tp.workspaceId,
        touchpointId: tp.id,
        attempt: number,
        at: now,
        status,
        error,
        providerMessageId: messageId,
      });
    if (result.ok) {
      const outcome = await settle(ctx, trx, {
        touchpoint: tp,
        customer,
        status: 'sent',
        // delivered_at: when the receiving SMTP server accepted the message (its 250 answer).
        change: {
          statusReason: null,
          sentAt: now,
          deliveredAt: now,
          providerMessageId: messageId,
          countAttempt: true,
        },
        event: 'touchpoint.sent',
        now,
        delivered: true,
        content,
      });
      if (outcome.kind === 'settled') await record('succeeded', null, tp.attempts + 1);
      return outcome;
    }
    if (result.permanent || attempt.final) {
      const reason = result.permanent ? 'smtp_rejected' : 'smtp_unavailable';
      const outcome = await settle(ctx, trx, {
        touchpoint: tp,
        customer,
        status: 'failed',
        change: { statusReason: reason, providerMessageId: messageId, countAttempt: true },
        event: 'touchpoint.failed',
        now,
        delivered: true,
        content,
      });
      if (outcome.kind === 'settled') await record('failed', result.error, tp.attempts + 1);
      return { kind: 'rejected', error: result.error };
    }
    const count = await changeTouchpoint(
      trx,
      tp.workspaceId,
      tp.id,
      ['sending'],
      { status: 'sending', providerMessageId: messageId, countAttempt: true },
      now,
    );
    if (count !== undefined) await record('failed', result.error, count);
    return { kind: 'retry', error: result.error };
  });
}
