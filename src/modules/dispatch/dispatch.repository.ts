import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
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

/** The touchpoint, locked until the transaction ends. */
export async function lockTouchpoint(
  trx: Transaction<DB>,
  workspaceId: string,
  id: string,
): Promise<DispatchTouchpointRow | undefined> {
  return touchpointColumns(trx)
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

/**
 * Locks the customer row. Every dispatch for a customer takes this lock first (before the
 * touchpoint, the order ingest uses), so two of its touchpoints due at once see each other's
 * sends when counting the frequency cap.
 */
export async function lockCustomer(trx: Transaction<DB>, workspaceId: string, customerId: string) {
  return trx
    .selectFrom('customers')
    .selectAll()
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', customerId)
    .forUpdate()
    .executeTakeFirst();
}

export type LockedCustomer = NonNullable<Awaited<ReturnType<typeof lockCustomer>>>;

/**
 * What the dispatcher needs besides the touchpoint and customer: enrollment, step, trigger,
 * workspace and the step's variant override, in one statement (the workspace always; the others when they exist).
 */
export async function dispatchSurroundings(db: Db, touchpoint: DispatchTouchpointRow) {
  const row = await db
    .selectFrom('workspaces as w')
    .leftJoin('enrollments as e', (join) =>
      join.onRef('e.workspaceId', '=', 'w.id').on('e.id', '=', touchpoint.enrollmentId),
    )
    .leftJoin('playbookVersions as v', (join) =>
      join
        .onRef('v.workspaceId', '=', 'e.workspaceId')
        .onRef('v.playbookId', '=', 'e.playbookId')
        .onRef('v.version', '=', 'e.playbookVersion'),
    )
    .leftJoin('events as ev', (join) =>
      join.onRef('ev.workspaceId', '=', 'w.id').onRef('ev.id', '=', 'e.triggerEventId'),
    )
    // The variant an alert rule switched the step to, if any.
    .leftJoin('stepVariantOverrides as o', (join) =>
      join
        .onRef('o.workspaceId', '=', 'w.id')
        .on('o.playbookKey', '=', touchpoint.playbookKey)
        .on('o.stepKey', '=', touchpoint.stepKey),
    )
    .select([
      'w.name',
      'w.timezone',
      'w.country',
      'w.currency',
      'w.locale',
      'w.settings',
      'e.id as enrollmentId',
      'e.status as enrollmentStatus',
      'e.exitReason',
      // As text: the step's keys (send_if) are data, not column names to camel-case.
      sql<string | null>`(SELECT s::text FROM jsonb_array_elements(v.document -> 'steps') s
        WHERE s ->> 'key' = ${touchpoint.stepKey} LIMIT 1)`.as('stepText'),
      'ev.type as eventType',
      'ev.occurredAt as eventOccurredAt',
      // As text: event properties are the shop's data, their keys not to be camel-cased.
      sql<string | null>`ev.properties::text`.as('eventPropertiesText'),
      'o.variant as variantOverride',
    ])
    .where('w.id', '=', touchpoint.workspaceId)
    .executeTakeFirstOrThrow();
  const { name, timezone, country, currency, locale, settings } = row;
  return {
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
