import type { Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import { effectiveConsent } from '../customers/consent.js';
import { templateLookups } from '../templates/preview.service.js';
import { trackingLinks } from '../tracking/tracking-links.js';
import {
  type DispatchTouchpointRow,
  dispatchSurroundings,
  insertAttempt,
  type LockedCustomer,
  lockCustomers,
  lockTouchpoints,
} from './dispatch.repository.js';
import {
  countOutcome,
  type DispatchContext,
  type DispatchItem,
  type DispatchStep,
  type EmailDelivery,
  type QueuedSettlement,
  settle,
  settleQueued,
} from './dispatch-context.js';
import { type Decision, decideDispatch, type Renderer } from './dispatch-decision.js';
import { renderTouchpoint, type StoredContent } from './render-touchpoint.js';

interface Counted {
  readonly touchpoint: DispatchTouchpointRow;
  readonly status: string;
}

/**
 * Decides the jobs of one workspace in one transaction, set-wise: their customers and
 * touchpoints locked (customers first, the order ingest uses), what surrounds them read, and
 * their changes and events written, a statement each for the whole group. A customer's
 * touchpoints due together are decided one after the other (rounds), each seeing the changes
 * of the one before, so that frequency caps hold as they would for jobs run one at a time.
 * Outcomes are counted once the transaction has committed.
 */
export async function decideGroup(
  ctx: DispatchContext,
  workspaceId: string,
  items: readonly DispatchItem[],
): Promise<DispatchStep[]> {
  const counted: Counted[] = [];
  const now = ctx.clock.now();
  const steps = await ctx.db.transaction().execute(async (trx) => {
    const customers = await lockCustomers(trx, workspaceId, unique(items.map((i) => i.customerId)));
    const touchpoints = await lockTouchpoints(trx, workspaceId, unique(items.map((i) => i.touchpointId)));
    const steps: DispatchStep[] = [];
    const due: Due[] = [];
    const seen = new Set<string>();
    for (const [index, item] of items.entries()) {
      const touchpoint = touchpoints.get(item.touchpointId);
      const customer = customers.get(item.customerId);
      if (!touchpoint || !customer || touchpoint.customerId !== customer.id) {
        steps[index] = { kind: 'noop', reason: 'gone' };
      } else if (seen.has(touchpoint.id)) {
        // The same touchpoint twice in one group: the first decides it.
        steps[index] = { kind: 'noop', reason: 'moved' };
      } else if (
        touchpoint.status === 'sending' &&
        touchpoint.channel === 'email' &&
        touchpoint.contentText
      ) {
        seen.add(touchpoint.id);
        steps[index] = await resumeEmail(ctx, trx, touchpoint, customer);
      } else if (touchpoint.status !== 'queued') {
        steps[index] = { kind: 'noop', reason: touchpoint.status };
      } else if (touchpoint.dueAt.getTime() !== item.dueAtMs) {
        // A job queued for an earlier due time (the touchpoint was postponed since) does nothing.
        steps[index] = { kind: 'noop', reason: 'stale' };
      } else {
        seen.add(touchpoint.id);
        due.push({ index, touchpoint, customer });
      }
    }
    if (due.length === 0) return steps;

    const surroundings = await dispatchSurroundings(
      trx,
      workspaceId,
      due.map((d) => d.touchpoint),
    );
    const lookups = templateLookups(trx);
    const signingKey = await ctx.signingKey();
    for (const round of rounds(due)) {
      const decided: {
        readonly due: Due;
        readonly decision: Decision;
        readonly settled: Pick<QueuedSettlement, 'change' | 'event'>;
      }[] = [];
      for (const d of round) {
        const { touchpoint, customer } = d;
        const render: Renderer = async (s) =>
          renderTouchpoint(trx, {
            touchpoint,
            customer,
            surroundings: s,
            now,
            links: trackingLinks(signingKey, ctx.publicUrl, {
              workspaceId: touchpoint.workspaceId,
              touchpointId: touchpoint.id,
            }),
            lookups,
          });
        const s = surroundings.get(touchpoint.id);
        if (!s) throw new Error(`no surroundings for touchpoint ${touchpoint.id}`);
        const decision = await decideDispatch(trx, {
          touchpoint,
          customer,
          surroundings: s,
          now,
          render,
          smtp: ctx.email !== undefined,
        });
        decided.push({ due: d, decision, settled: settlement(touchpoint, decision) });
      }
      const changed = await settleQueued(
        trx,
        workspaceId,
        decided.map(({ due: d, settled }) => ({ ...d, ...settled })),
        now,
      );
      for (const { due: d, decision, settled } of decided) {
        const { index, touchpoint } = d;
        if (!changed.has(touchpoint.id)) {
          steps[index] = { kind: 'noop', reason: 'moved' };
          continue;
        }
        steps[index] = stepAfter(d, decision, settled.change);
        if (decision.kind === 'fail') {
          // The attempt keeps the why (the template's own error) for the person who fixes it.
          await insertAttempt(trx, {
            workspaceId,
            touchpointId: touchpoint.id,
            attempt: touchpoint.attempts + 1,
            at: now,
            status: 'failed',
            error: decision.detail.slice(0, 500),
            providerMessageId: null,
          });
        }
        // An email is counted when its delivery is recorded.
        if (!(decision.kind === 'send' && touchpoint.channel === 'email')) {
          // A postponement is counted as such (its touchpoint goes back to `scheduled`).
          counted.push({
            touchpoint,
            status: decision.kind === 'postpone' ? 'postponed' : settled.change.status,
          });
        }
      }
    }
    return steps;
  });
  for (const { touchpoint, status } of counted) countOutcome(ctx, touchpoint, status, now);
  return steps;
}

interface Due {
  readonly index: number;
  readonly touchpoint: DispatchTouchpointRow;
  readonly customer: LockedCustomer;
}

/** Splits touchpoints into rounds with at most one touchpoint of a customer each, in order. */
function rounds(due: readonly Due[]): Due[][] {
  const result: Due[][] = [];
  const taken = new Map<string, number>();
  for (const d of due) {
    const round = taken.get(d.customer.id) ?? 0;
    taken.set(d.customer.id, round + 1);
    const members = result[round];
    if (members) members.push(d);
    else result[round] = [d];
  }
  return result;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** The change a decision makes to its queued touchpoint, and the event it emits. */
function settlement(
  tp: DispatchTouchpointRow,
  decision: Decision,
): Pick<QueuedSettlement, 'change' | 'event'> {
  switch (decision.kind) {
    case 'cancel':
      return { change: { status: 'cancelled', statusReason: decision.reason } };
    case 'skip':
      return {
        change: {
          status: 'skipped',
          statusReason: decision.reason,
          ...(decision.rendered ? renderedFields(decision.rendered) : {}),
        },
      };
    case 'fail':
      return {
        change: { status: 'failed', statusReason: decision.reason, countAttempt: true },
        event: 'touchpoint.failed',
      };
    case 'postpone':
      return { change: { status: 'scheduled', statusReason: decision.reason, dueAt: decision.until } };
    case 'send': {
      const fields = renderedFields(decision.rendered);
      if (tp.channel === 'task') {
        return { change: { status: 'pending', statusReason: null, ...fields }, event: 'task.created' };
      }
      // A webhook step: the deliveries (outbox relay) carry it from here and settle it sent or failed.
      if (tp.channel === 'webhook') {
        return { change: { status: 'sending', statusReason: null, ...fields }, event: 'touchpoint.due' };
      }
      // An email: frozen here, sent after the commit.
      return { change: { status: 'sending', statusReason: null, ...fields } };
    }
  }
}

/** What the job does after its touchpoint's change committed. */
function stepAfter(
  { touchpoint, customer }: Due,
  decision: Decision,
  change: QueuedSettlement['change'],
): DispatchStep {
  switch (decision.kind) {
    case 'postpone':
      return { kind: 'postponed', until: decision.until, reason: decision.reason };
    case 'send':
      if (touchpoint.channel === 'email') {
        const content = decision.rendered.content as EmailDelivery['content'];
        return { kind: 'deliver', delivery: { touchpoint, customer, content } };
      }
      break;
    default:
      break;
  }
  return { kind: 'settled', status: change.status, reason: change.statusReason };
}

/**
 * An email whose content was frozen (a retry, or a run cut short after freezing): deliver what
 * was rendered — unless the customer unsubscribed meanwhile (RFC 8058: it holds at once) or was
 * erased; then the retry stops here.
 */
async function resumeEmail(
  ctx: DispatchContext,
  trx: Transaction<DB>,
  touchpoint: DispatchTouchpointRow,
  customer: LockedCustomer,
): Promise<DispatchStep> {
  const optedOut = effectiveConsent(customer.consent as Record<string, unknown>).email.status === 'opted_out';
  if (optedOut || !customer.email) {
    return settle(ctx, trx, {
      touchpoint,
      customer,
      status: 'skipped',
      change: { statusReason: optedOut ? 'consent' : 'no_address' },
      now: ctx.clock.now(),
      delivered: true,
    });
  }
  const content = JSON.parse(touchpoint.contentText as string) as EmailDelivery['content'];
  return { kind: 'deliver', delivery: { touchpoint, customer, content } };
}

function renderedFields(rendered: { content: StoredContent; templateVersion: number; variant: string }) {
  return { content: rendered.content, templateVersion: rendered.templateVersion, variant: rendered.variant };
}
