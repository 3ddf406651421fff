import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Customers, DB } from '../../db/types.js';
import { statusIn } from '../touchpoints/status-guard.js';

type Db = Kysely<DB> | Transaction<DB>;

/** The columns of a touchpoint the dispatcher reads and writes. */
function touchpointColumns(db: Db) {
  return db
    .selectFrom('touchpoints')
    .select([
      'workspaceId',
      'id',
      'customerId',
      'enrollmentId',
      'playbookKey',
      'playbookVersion',
      'stepKey',
      'channel',
      'templateKey',
      'taskKind',
      'endpointId',
      'dueAt',
      'status',
      'statusReason',
      'templateVersion',
      'variant',
      'attempts',
      'providerMessageId',
      sql<string | null>`content::text`.as('contentText'),
    ]);
}

export type DispatchTouchpointRow = Awaited<
  ReturnType<ReturnType<typeof touchpointColumns>['executeTakeFirstOrThrow']>
>;

/** A touchpoint as it is now, without locking it (to learn which customer to lock first). */
export async function peekTouchpoint(
  db: Db,
  workspaceId: string,
  id: string,
): Promise<DispatchTouchpointRow | undefined> {
  return touchpointColumns(db).where('workspaceId', '=', workspaceId).where('id', '=', id).executeTakeFirst();
}

/** Touchpoints of a workspace by id, locked until the transaction ends (in id order). */
export async function lockTouchpoints(
  trx: Transaction<DB>,
  workspaceId: string,
  ids: readonly string[],
): Promise<Map<string, DispatchTouchpointRow>> {
  const rows = await touchpointColumns(trx)
    .where('workspaceId', '=', workspaceId)
    .where(idAmong(ids))
    .orderBy('id')
    .forUpdate()
    .execute();
  return new Map(rows.map((row) => [row.id, row]));
}

/** The touchpoint, locked until the transaction ends. */
export async function lockTouchpoint(
  trx: Transaction<DB>,
  workspaceId: string,
  id: string,
): Promise<DispatchTouchpointRow | undefined> {
  return (await lockTouchpoints(trx, workspaceId, [id])).get(id);
}

export type LockedCustomer = Selectable<Customers>;

/**
 * Locks customer rows. Every dispatch takes its customers' locks first (before the touchpoints,
 * the order ingest uses, and in external-id order, as ingest does), so two touchpoints of a
 * customer due at once see each other's sends when counting the frequency cap.
 */
export async function lockCustomers(
  trx: Transaction<DB>,
  workspaceId: string,
  ids: readonly string[],
): Promise<Map<string, LockedCustomer>> {
  const rows = await trx
    .selectFrom('customers')
    .selectAll()
    .where('workspaceId', '=', workspaceId)
    .where(idAmong(ids))
    .orderBy('externalId')
    .forUpdate()
    .execute();
  return new Map(rows.map((row) => [row.id, row]));
}

/** Locks one customer row (see lockCustomers). */
export async function lockCustomer(
  trx: Transaction<DB>,
  workspaceId: string,
  customerId: string,
): Promise<LockedCustomer | undefined> {
  return (await lockCustomers(trx, workspaceId, [customerId])).get(customerId);
}

/** `id = ANY($1::uuid[])`: one statement text (and one prepared statement) for any number of ids. */
function idAmong(ids: readonly string[]) {
  return sql<boolean>`id = ANY(${[...ids]}::uuid[])`;
}

/** What the dispatcher needs besides the touchpoint and customer (see dispatchSurroundings). */
export interface Surroundings {
  readonly workspace: {
    readonly name: string;
    readonly timezone: string;
    readonly country: string;
    readonly currency: string;
    readonly locale: string;
    readonly settings: unknown;
  };
  /** The variant an alert rule switched the step to, if any. */
  readonly variantOverride: string | undefined;
  readonly enrollment:
    | { readonly status: string; readonly exitReason: string | null; readonly stepText: string | null }
    | undefined;
  readonly event:
    | { readonly type: string; readonly occurredAt: Date; readonly propertiesText: string }
    | undefined;
}

interface SurroundingsRow {
  touchpointId: string;
  name: string;
  timezone: string;
  country: string;
  currency: string;
  locale: string;
  settings: unknown;
  enrollmentId: string | null;
  enrollmentStatus: string | null;
  exitReason: string | null;
  stepText: string | null;
  eventType: string | null;
  eventOccurredAt: Date | null;
  eventPropertiesText: string | null;
  variantOverride: string | null;
}

/**
 * What the dispatcher needs besides each touchpoint and customer: the workspace, and the
 * enrollment, step, trigger event and the step's variant override where they exist, for a set
 * of touchpoints of one workspace in one statement. Keyed by touchpoint id.
 */
export async function dispatchSurroundings(
  db: Db,
  workspaceId: string,
  touchpoints: readonly DispatchTouchpointRow[],
): Promise<Map<string, Surroundings>> {
  const column = <K extends keyof DispatchTouchpointRow>(key: K) => touchpoints.map((tp) => tp[key]);
  // The step's keys (send_if) and the event's properties are data, not column names to
  // camel-case: they come back as text.
  const { rows } = await sql<SurroundingsRow>`
    SELECT t.id AS "touchpointId", w.name, w.timezone, w.country, w.currency, w.locale, w.settings,
           e.id AS "enrollmentId", e.status AS "enrollmentStatus", e.exit_reason AS "exitReason",
           (SELECT s::text FROM jsonb_array_elements(v.document -> 'steps') s
             WHERE s ->> 'key' = t.step_key LIMIT 1) AS "stepText",
           ev.type AS "eventType", ev.occurred_at AS "eventOccurredAt",
           ev.properties::text AS "eventPropertiesText", o.variant AS "variantOverride"
    FROM workspaces w
    CROSS JOIN unnest(${column('id')}::uuid[], ${column('enrollmentId')}::uuid[],
                      ${column('playbookKey')}::text[], ${column('stepKey')}::text[])
      AS t(id, enrollment_id, playbook_key, step_key)
    LEFT JOIN enrollments e ON e.workspace_id = w.id AND e.id = t.enrollment_id
    LEFT JOIN playbook_versions v ON v.workspace_id = e.workspace_id AND v.playbook_id = e.playbook_id
      AND v.version = e.playbook_version
    LEFT JOIN events ev ON ev.workspace_id = w.id AND ev.id = e.trigger_event_id
    LEFT JOIN step_variant_overrides o ON o.workspace_id = w.id AND o.playbook_key = t.playbook_key
      AND o.step_key = t.step_key
    WHERE w.id = ${workspaceId}`.execute(db);
  return new Map(
    rows.map((row) => {
      const { name, timezone, country, currency, locale, settings } = row;
      const surroundings: Surroundings = {
        workspace: { name, timezone, country, currency, locale, settings },
        variantOverride: row.variantOverride ?? undefined,
        enrollment:
          row.enrollmentId === null
            ? undefined
            : { status: row.enrollmentStatus as string, exitReason: row.exitReason, stepText: row.stepText },
        event:
          row.eventType === null || row.eventOccurredAt === null
            ? undefined
            : {
                type: row.eventType,
                occurredAt: row.eventOccurredAt,
                propertiesText: row.eventPropertiesText ?? 'null',
              },
      };
      return [row.touchpointId, surroundings];
    }),
  );
}

/**
 * When the customer's other touchpoints of a channel went out (or started going out) since
 * `since`, newest first: what a frequency cap counts. A task "goes out" when it is handed to a
 * person (`pending`, then `completed`); it never becomes `sent`, and its `updated_at` moves
 * when the outcome is recorded, so it counts at its due time.
 */
export async function recentSends(
  db: Db,
  touchpoint: DispatchTouchpointRow,
  since: Date,
  limit: number,
): Promise<Date[]> {
  const at = sql<Date>`coalesce(sent_at, CASE WHEN status IN ('pending', 'completed') THEN due_at END, updated_at)`;
  const rows = await db
    .selectFrom('touchpoints')
    .select(at.as('at'))
    .where('workspaceId', '=', touchpoint.workspaceId)
    .where('customerId', '=', touchpoint.customerId)
    .where('channel', '=', touchpoint.channel)
    .where('status', 'in', ['sent', 'sending', 'pending', 'completed'])
    .where('id', '!=', touchpoint.id)
    .where(at, '>', since)
    .orderBy(at, 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => new Date(row.at));
}

/** The changes the dispatcher makes to a touchpoint; only the given fields are set. */
export interface TouchpointChange {
  readonly status: string;
  readonly statusReason?: string | null;
  readonly dueAt?: Date;
  readonly queuedAt?: Date | null;
  readonly content?: unknown;
  readonly templateVersion?: number | null;
  readonly variant?: string | null;
  readonly sentAt?: Date;
  readonly deliveredAt?: Date;
  readonly providerMessageId?: string | null;
  readonly countAttempt?: boolean;
}

/**
 * Applies a change if the touchpoint is still in one of `from`; returns the attempt count
 * after it, or undefined when the status had moved on (someone else got there first).
 */
export async function changeTouchpoint(
  db: Db,
  workspaceId: string,
  id: string,
  from: readonly string[],
  change: TouchpointChange,
  at: Date,
): Promise<number | undefined> {
  const { content, countAttempt, ...fields } = change;
  const row = await db
    .updateTable('touchpoints')
    .set({
      ...fields,
      ...(content === undefined ? {} : { content: JSON.stringify(content) }),
      ...(countAttempt ? { attempts: sql<number>`attempts + 1` } : {}),
      updatedAt: at,
    })
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .where(statusIn(from))
    .returning('attempts')
    .executeTakeFirst();
  return row?.attempts;
}

/** A change to a queued touchpoint, as changeQueuedTouchpoints applies it. */
export interface QueuedChange {
  readonly id: string;
  readonly status: string;
  readonly statusReason: string | null;
  /** Left as it is when undefined. */
  readonly content?: unknown;
  readonly templateVersion?: number | null;
  readonly variant?: string | null;
  /** A new due time, taking it off the queue (`queued_at` cleared): a postponement. */
  readonly dueAt?: Date;
  readonly countAttempt?: boolean;
}

/**
 * Applies changes to touchpoints of a workspace still `queued`, in one statement whatever
 * their number; returns the ids changed (a touchpoint that moved on meanwhile is left alone).
 */
export async function changeQueuedTouchpoints(
  trx: Transaction<DB>,
  workspaceId: string,
  changes: readonly QueuedChange[],
  at: Date,
): Promise<Set<string>> {
  if (changes.length === 0) return new Set();
  const column = <T>(value: (change: QueuedChange) => T) => changes.map(value);
  const { rows } = await sql<{ id: string }>`
    UPDATE touchpoints AS t SET
      status = v.status,
      status_reason = v.status_reason,
      content = CASE WHEN v.content IS NULL THEN t.content ELSE v.content::jsonb END,
      template_version = CASE WHEN v.content IS NULL THEN t.template_version ELSE v.template_version END,
      variant = CASE WHEN v.content IS NULL THEN t.variant ELSE v.variant END,
      due_at = coalesce(v.due_at, t.due_at),
      queued_at = CASE WHEN v.due_at IS NULL THEN t.queued_at END,
      attempts = t.attempts + v.add_attempts,
      updated_at = ${at}
    FROM unnest(${column((c) => c.id)}::uuid[], ${column((c) => c.status)}::text[],
                ${column((c) => c.statusReason)}::text[],
                ${column((c) => (c.content === undefined ? null : JSON.stringify(c.content)))}::text[],
                ${column((c) => c.templateVersion ?? null)}::int[], ${column((c) => c.variant ?? null)}::text[],
                ${column((c) => c.dueAt ?? null)}::timestamptz[], ${column((c) => (c.countAttempt ? 1 : 0))}::int[])
      AS v(id, status, status_reason, content, template_version, variant, due_at, add_attempts)
    WHERE t.workspace_id = ${workspaceId} AND t.id = v.id AND (t.status = 'queued') IS TRUE
    RETURNING t.id`.execute(trx);
  return new Set(rows.map((row) => row.id));
}

export interface NewAttempt {
  readonly workspaceId: string;
  readonly touchpointId: string;
  readonly attempt: number;
  readonly at: Date;
  readonly status: 'succeeded' | 'failed';
  readonly error: string | null;
  readonly providerMessageId: string | null;
}

/** Records one delivery attempt; a repeat of the same attempt number is ignored. */
export async function insertAttempt(db: Db, attempt: NewAttempt): Promise<void> {
  await db
    .insertInto('touchpointAttempts')
    .values(attempt)
    .onConflict((oc) => oc.columns(['workspaceId', 'touchpointId', 'attempt']).doNothing())
    .execute();
}
