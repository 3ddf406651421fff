import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db/types.js';
import { uuidv7 } from '../../ids.js';

/** Every outgoing event type (API.md "Webhooks (outgoing)"). */
export const OUTGOING_EVENT_TYPES = [
  'touchpoint.due',
  'touchpoint.sent',
  'touchpoint.failed',
  'task.created',
  'task.completed',
  'survey.responded',
  'customer.stage_changed',
  'upsell.opportunity',
  'ticket.sla_breached',
  'alert.triggered',
] as const;
export type OutgoingEventType = (typeof OUTGOING_EVENT_TYPES)[number];

export interface OutgoingEvent {
  readonly workspaceId: string;
  readonly type: OutgoingEventType;
  readonly data: Readonly<Record<string, unknown>>;
  readonly at: Date;
  /** Given when the event must be emitted at most once for a cause (e.g. the touchpoint id). */
  readonly id?: string;
  /** Only this endpoint gets it (a webhook step's `endpoint`); otherwise every subscribed one. */
  readonly endpointId?: string | null;
}

/**
 * Writes outgoing events in the caller's transaction: they exist exactly when the change they
 * describe committed. The relay delivers them later; nothing is sent from inside a transaction.
 * An event with an id already in the outbox is ignored (a retried step emits once).
 */
export async function emitEvents(db: Kysely<DB>, events: readonly OutgoingEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('outbox')
    .values(
      events.map((event) => ({
        workspaceId: event.workspaceId,
        id: event.id ?? uuidv7(event.at),
        type: event.type,
        data: JSON.stringify(event.data),
        createdAt: event.at,
        endpointId: event.endpointId ?? null,
      })),
    )
    .onConflict((oc) => oc.columns(['workspaceId', 'id']).doNothing())
    .execute();
  // No NOTIFY here: Postgres commits the transactions that notified one at a time (a global
  // lock held through the WAL flush), which capped dispatch at a few dozen commits a second.
  // The relay polls the pending index every 200 ms instead.
}

export function emitEvent(db: Kysely<DB>, event: OutgoingEvent): Promise<void> {
  return emitEvents(db, [event]);
}

/** What touchpoint events carry of the touchpoint and its customer (API.md). */
export interface TouchpointEventSource {
  readonly id: string;
  readonly playbookKey: string;
  readonly stepKey: string;
  readonly channel: string;
  readonly dueAt: Date;
  readonly status: string;
  readonly customerExternalId: string;
  readonly customerName: string | null;
  readonly customerEmail: string | null;
  readonly customerPhone: string | null;
  readonly customerSegment: string | null;
}

/**
 * The `data` of touchpoint-related events: `{ touchpoint: { id, playbook, step, channel, due_at,
 * status }, customer: { id, name, email, phone, segment }, content }`.
 */
export function touchpointEventData(
  row: TouchpointEventSource,
  content: unknown,
  extra: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  return {
    touchpoint: {
      id: row.id,
      playbook: row.playbookKey,
      step: row.stepKey,
      channel: row.channel,
      due_at: row.dueAt.toISOString(),
      status: row.status,
    },
    customer: {
      id: row.customerExternalId,
      name: row.customerName,
      email: row.customerEmail,
      phone: row.customerPhone,
      segment: row.customerSegment,
    },
    content: content ?? null,
    ...extra,
  };
}

/** The touchpoint and customer fields of a touchpoint event, with the rendered content. */
export async function touchpointEventSource(
  db: Kysely<DB>,
  workspaceId: string,
  touchpointId: string,
): Promise<(TouchpointEventSource & { readonly content: unknown }) | undefined> {
  return db
    .selectFrom('touchpoints as t')
    .innerJoin('customers as c', (join) =>
      join.onRef('c.workspaceId', '=', 't.workspaceId').onRef('c.id', '=', 't.customerId'),
    )
    .select([
      't.id',
      't.playbookKey',
      't.stepKey',
      't.channel',
      't.dueAt',
      't.status',
      't.content',
      'c.externalId as customerExternalId',
      'c.name as customerName',
      'c.email as customerEmail',
      'c.phone as customerPhone',
      'c.segment as customerSegment',
    ])
    .where('t.workspaceId', '=', workspaceId)
    .where('t.id', '=', touchpointId)
    .executeTakeFirst();
}

/**
 * Erasure: the customer's outgoing events — waiting to be relayed, or kept while their
 * deliveries are — lose what identifies the person (name, email, phone, rendered content, notes,
 * comments) and name the customer by its pseudonym; segment, scores and times stay. Returns how
 * many were scrubbed.
 */
export async function scrubOutboxCustomer(
  db: Kysely<DB>,
  workspaceId: string,
  externalId: string,
  pseudonym: string,
): Promise<number> {
  const result = await db
    .updateTable('outbox')
    .set({
      data: sql`jsonb_set(data - 'content' - 'notes' - 'comment', '{customer}', jsonb_build_object(
        'id', ${pseudonym}::text, 'name', NULL, 'email', NULL, 'phone', NULL,
        'segment', data -> 'customer' -> 'segment'))`,
    })
    .where('workspaceId', '=', workspaceId)
    .where(
      sql<boolean>`data @> jsonb_build_object('customer', jsonb_build_object('id', ${externalId}::text))`,
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows ?? 0n);
}
