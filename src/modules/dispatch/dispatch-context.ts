import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import type { GroupCommit } from '../../db/group-commit.js';
import type { DB } from '../../db/types.js';
import {
  emitEvent,
  emitEvents,
  type OutgoingEvent,
  type OutgoingEventType,
  touchpointEventData,
} from '../outbox/outbox.js';
import {
  changeQueuedTouchpoints,
  changeTouchpoint,
  type DispatchTouchpointRow,
  type LockedCustomer,
  type QueuedChange,
  type TouchpointChange,
} from './dispatch.repository.js';
import type { DispatchMetrics } from './dispatch-metrics.js';
import type { DispatchJobData } from './dispatch-queue.js';
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
  /** Group commit of the jobs running at once (createDispatchGroups); absent, one transaction each. */
  readonly groups?: GroupCommit<DispatchItem, DispatchStep>;
}

/** A dispatch job whose customer is known. */
export interface DispatchItem extends DispatchJobData {
  readonly customerId: string;
}

/** What deciding a job leads to: an outcome, or an email to deliver. */
export type DispatchStep = DispatchOutcome | { readonly kind: 'deliver'; readonly delivery: EmailDelivery };

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
    const content = s.change.content ?? s.content ?? storedContent(tp);
    await emitEvent(trx, settlementEvent(tp, customer, s.status, s.event, content, s.now));
  }
  countOutcome(ctx, tp, s.status, s.now);
  return { kind: 'settled', status: s.status, reason: s.change.statusReason ?? null };
}

/** A decided change of a queued touchpoint, with the event it emits (see settleQueued). */
export interface QueuedSettlement {
  readonly touchpoint: DispatchTouchpointRow;
  readonly customer: LockedCustomer;
  readonly change: Omit<QueuedChange, 'id'>;
  readonly event?: OutgoingEventType;
}

/**
 * settle for many touchpoints still `queued`, set-wise: their changes in one statement and their
 * events in another. Returns the ids changed; counting them is left to the caller, after the
 * commit (see countOutcome).
 */
export async function settleQueued(
  trx: Transaction<DB>,
  workspaceId: string,
  items: readonly QueuedSettlement[],
  now: Date,
): Promise<Set<string>> {
  const changed = await changeQueuedTouchpoints(
    trx,
    workspaceId,
    items.map(({ touchpoint, change }) => ({ id: touchpoint.id, ...change })),
    now,
  );
  const events = items.flatMap(({ touchpoint: tp, customer, change, event }) =>
    event && changed.has(tp.id)
      ? [settlementEvent(tp, customer, change.status, event, change.content ?? storedContent(tp), now)]
      : [],
  );
  await emitEvents(trx, events);
  return changed;
}

function storedContent(tp: DispatchTouchpointRow): unknown {
  return tp.contentText ? JSON.parse(tp.contentText) : null;
}

function settlementEvent(
  tp: DispatchTouchpointRow,
  customer: LockedCustomer,
  status: string,
  type: OutgoingEventType,
  content: unknown,
  at: Date,
): OutgoingEvent {
  return {
    workspaceId: tp.workspaceId,
    type,
    at,
    // touchpoint.due names its endpoint and is emitted once per touchpoint (its id is the cause).
    ...(type === 'touchpoint.due' ? { id: tp.id, endpointId: tp.endpointId } : {}),
    data: touchpointEventData(eventSource(tp, customer, status), content),
  };
}

/** Counts an outcome, and the due→sent lag of one that went out (or started going out). */
export function countOutcome(
  ctx: DispatchContext,
  tp: DispatchTouchpointRow,
  status: string,
  now: Date,
): void {
  ctx.metrics.outcomes.inc({ channel: tp.channel, status });
  if (status === 'sent' || status === 'pending' || (status === 'sending' && tp.channel === 'webhook')) {
    ctx.metrics.lag.observe(
      { channel: tp.channel },
      Math.max(0, (now.getTime() - tp.dueAt.getTime()) / 1000),
    );
  }
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
