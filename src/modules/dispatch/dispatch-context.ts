import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import type { DB } from '../../db/types.js';
import { emitEvent, type OutgoingEventType, touchpointEventData } from '../outbox/outbox.js';
import {
  changeTouchpoint,
  type DispatchTouchpointRow,
  type LockedCustomer,
  type TouchpointChange,
} from './dispatch.repository.js';
import type { DispatchMetrics } from './dispatch-metrics.js';
import type { EmailSender } from './email-sender.js';
import type { StoredContent } from './render-touchpoint.js';

export interface DispatchContext {
  readonly db: Database;
  readonly clock: Clock;
  readonly log: Logger;
  readonly publicUrl: string;
  readonly emailFrom: string;
  readonly signingKey: () => Promise<Buffer>;
  /** Undefined when SMTP_URL is not set: emails are rendered and stored, not sent. */
  readonly email: EmailSender | undefined;
  readonly metrics: DispatchMetrics;
}

/** What became of one run of a dispatch job; the processor maps it onto BullMQ. */
export type DispatchOutcome =
  | { readonly kind: 'noop'; readonly reason: string }
  | { readonly kind: 'settled'; readonly status: string; readonly reason?: string | null }
  | { readonly kind: 'postponed'; readonly until: Date; readonly reason: string }
  /** Recorded as failed; retrying cannot help. */
  | { readonly kind: 'rejected'; readonly error: string }
  /** Recorded as a failed attempt; the touchpoint stays `sending` for the next one. */
  | { readonly kind: 'retry'; readonly error: string };

export interface AttemptInfo {
  /** True on the job's last attempt: a temporary failure then becomes final. */
  readonly final: boolean;
}

/** The touchpoint and customer an email is for, with its frozen content. */
export interface EmailDelivery {
  readonly touchpoint: DispatchTouchpointRow;
  readonly customer: LockedCustomer;
  readonly content: StoredContent & { readonly channel: 'email' };
}

/** Writes a status with its outbox event in the caller's transaction, and counts it. */
export async function settle(
  ctx: DispatchContext,
  trx: Transaction<DB>,
  s: {
    readonly touchpoint: DispatchTouchpointRow;
    readonly customer: LockedCustomer;
    readonly status: string;
    readonly change: Omit<TouchpointChange, 'status'>;
    readonly event?: OutgoingEventType;
    readonly now: Date;
    /** True when recording the outcome of an email delivery (the touchpoint is `sending`). */
    readonly delivered?: boolean;
    /** The frozen content, when the change does not carry it. */
    readonly content?: unknown;
  },
): Promise<DispatchOutcome> {
  const { touchpoint: tp, customer } = s;
  // Deciding moves it out of `queued`; recording a delivery, out of `sending`.
  const from = s.delivered ? ['sending'] : ['queued'];
  const changed = await changeTouchpoint(
    trx,
    tp.workspaceId,
    tp.id,
    from,
    { status: s.status, ...s.change },
    s.now,
  );
  if (changed === undefined) return { kind: 'noop', reason: 'moved' };
  if (s.event) {
    const content = s.change.content ?? s.content ?? (tp.contentText ? JSON.parse(tp.contentText) : null);
    await emitEvent(trx, {
      workspaceId: tp.workspaceId,
      type: s.event,
      at: s.now,
      // touchpoint.due names its endpoint and is emitted once per touchpoint (its id is the cause).
      ...(s.event === 'touchpoint.due' ? { id: tp.id, endpointId: tp.endpointId } : {}),
      data: touchpointEventData(eventSource(tp, customer, s.status), content),
    });
  }
  ctx.metrics.outcomes.inc({ channel: tp.channel, status: s.status });
  if (s.status === 'sent' || s.status === 'pending' || (s.status === 'sending' && tp.channel === 'webhook')) {
    ctx.metrics.lag.observe(
      { channel: tp.channel },
      Math.max(0, (s.now.getTime() - tp.dueAt.getTime()) / 1000),
    );
  }
  return { kind: 'settled', status: s.status, reason: s.change.statusReason ?? null };
}

function eventSource(tp: DispatchTouchpointRow, customer: LockedCustomer, status: string) {
  return {
    id: tp.id,
    playbookKey: tp.playbookKey,
    stepKey: tp.stepKey,
    channel: tp.channel,
    dueAt: tp.dueAt,
    status,
    customerExternalId: customer.externalId,
    customerName: customer.name,
    customerEmail: customer.email,
    customerPhone: customer.phone,
    customerSegment: customer.segment,
  };
}
