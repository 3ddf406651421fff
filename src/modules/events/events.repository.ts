import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import { type CustomerState, toCustomerState } from '../customers/customer-state.js';
import type { PlanningSnapshot } from './planner.js';

type Db = Kysely<DB> | Transaction<DB>;

/** One event row to store, with the customer id to use if its customer is new. */
export interface EventToStore {
  readonly id: string;
  readonly externalId: string;
  readonly type: string;
  readonly occurredAt: Date;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly customer: Readonly<Record<string, unknown>> & { readonly id: string };
  readonly amount: number | null;
  readonly currency: string | null;
  readonly bodyHash: string;
  readonly candidateCustomerId: string;
}

export interface StoredEvents {
  /** External id → internal id of the events this call inserted. */
  readonly inserted: ReadonlyMap<string, { readonly id: string }>;
  /** The upserted customers, by external id, with their facts after the upsert (when asked for). */
  readonly customers: ReadonlyMap<string, CustomerState>;
  /** External id → stored body hash (hex) of the events that were already there. */
  readonly existingHashes: ReadonlyMap<string, string>;
  /** What planning needs, read after the upsert (when customers were asked for and some were upserted). */
  readonly planning: PlanningSnapshot | null;
}

/**
 * Stores events and upserts their customers with the facts they carry, in one call of
 * `ingest_events()` (see its migration for the steps and why they are safe in any order
 * and under concurrency). Duplicates change nothing; their stored hashes come back.
 */
export async function storeEvents(
  db: Db,
  workspaceId: string,
  now: Date,
  events: readonly EventToStore[],
  withCustomers: boolean,
): Promise<StoredEvents> {
  const input = JSON.stringify(
    events.map((e, ord) => ({
      ord,
      id: e.id,
      external_id: e.externalId,
      type: e.type,
      occurred_at: e.occurredAt.toISOString(),
      properties: e.properties,
      customer: e.customer,
      customer_external_id: e.customer.id,
      candidate_customer_id: e.candidateCustomerId,
      amount: e.amount,
      currency: e.currency,
      body_hash: e.bodyHash,
    })),
  );
  const result = await sql<{ result: IngestResult }>`
    SELECT ingest_events(${workspaceId}, ${now}, ${input}::jsonb, ${withCustomers}) AS result`.execute(db);
  const output = result.rows[0]?.result;
  if (!output) throw new Error('ingest_events returned nothing');
  const inserted = new Map(output.inserted.map((item) => [item.external_id, { id: item.id }]));
  const customers = new Map<string, CustomerState>();
  for (const item of output.customers) {
    // jsonb keys are not camel-cased by the client: do it for the row's columns here.
    const columns: Record<string, unknown> = {};
    for (const key in item) columns[camelCase(key)] = item[key];
    const state = toCustomerState(columns);
    customers.set(state.externalId, state);
  }
  return {
    inserted,
    customers,
    existingHashes: new Map(output.existing.map((item) => [item.external_id, item.body_hash])),
    planning: output.planning && toPlanningSnapshot(output.planning),
  };
}

// The same few column names on every row of every call: converted once each.
const camelNames = new Map<string, string>();
function camelCase(column: string): string {
  let name = camelNames.get(column);
  if (name === undefined) {
    name = column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    camelNames.set(column, name);
  }
  return name;
}

const dateOrNull = (value: string | null): Date | null => (value === null ? null : new Date(value));

function toPlanningSnapshot(raw: NonNullable<IngestResult['planning']>): PlanningSnapshot {
  return {
    workspace: { ...raw.workspace, settings: raw.workspace.settings ?? {} },
    playbooksStamp: raw.playbooks_stamp,
    enrollments: raw.enrollments.map((e) => ({
      id: e.id,
      customerId: e.customer_id,
      playbookId: e.playbook_id,
      playbookKey: e.playbook_key,
      playbookVersion: e.playbook_version,
      status: e.status,
      triggerKind: e.trigger_kind,
      triggerAt: new Date(e.trigger_at),
      triggerKey: e.trigger_key,
      lastDueAt: dateOrNull(e.last_due_at),
    })),
  };
}

interface IngestResult {
  readonly inserted: readonly { id: string; external_id: string }[];
  readonly customers: readonly Record<string, unknown>[];
  readonly existing: readonly { external_id: string; body_hash: string }[];
  readonly planning: {
    readonly workspace: {
      readonly timezone: string;
      readonly country: string;
      readonly currency: string;
      readonly locale: string;
      readonly settings: Record<string, unknown> | null;
    };
    readonly playbooks_stamp: string;
    readonly enrollments: readonly {
      readonly id: string;
      readonly customer_id: string;
      readonly playbook_id: string;
      readonly playbook_key: string;
      readonly playbook_version: number;
      readonly status: string;
      readonly trigger_kind: string;
      readonly trigger_at: string;
      readonly trigger_key: string | null;
      readonly last_due_at: string | null;
    }[];
  } | null;
}
