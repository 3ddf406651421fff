import type { Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import { GroupCommit } from '../../db/group-commit.js';
import type { DB } from '../../db/types.js';
import { AppError, badRequest, type FieldError } from '../../errors.js';
import { uuidv7 } from '../../ids.js';
import { type EventValidation, type ValidEvent, validateEvent } from './event-validation.js';
import { type EventToStore, storeEvents } from './events.repository.js';
import { type AcceptedEvent, EMPTY_PLAN, type EventPlan, type EventPlanner } from './planner.js';

export interface EventsContext {
  readonly db: Database;
  readonly clock: Clock;
  /** Plans touchpoints inside the ingest transaction; `planNothing` until the rules engine exists. */
  readonly planner: EventPlanner;
  /** Group commit of single events (see GroupCommit); absent, each is its own transaction. */
  readonly groups?: GroupCommit<ValidEvent, IngestOutcome>;
}

/** What became of one valid event. */
export type IngestOutcome =
  | {
      readonly status: 'accepted';
      readonly id: string;
      readonly customerId: string;
      readonly plan: EventPlan;
    }
  | { readonly status: 'duplicate'; readonly id: string; readonly customerId: string }
  | { readonly status: 'conflict'; readonly id: string; readonly customerId: string };

export const MAX_BATCH = 1000;

const conflictDetail = (id: string) =>
  `An event with id "${id}" was already accepted with a different body; send a new id for a new event.`;

/**
 * Stores valid events in one transaction, set-wise (the same few statements for one event
 * or a thousand): events, customer upserts with their facts, then the plan. Duplicates of
 * an id already stored, or earlier in the same call, are told apart from conflicts by the
 * body hash. Outcomes are returned in input order.
 */
async function ingestValid(
  ctx: EventsContext,
  workspaceId: string,
  events: readonly ValidEvent[],
  now: Date,
): Promise<IngestOutcome[]> {
  const outcomes: (IngestOutcome | undefined)[] = new Array(events.length);
  const firstByExternalId = new Map<string, number>();
  const toStore: EventToStore[] = [];
  const storeIndex: number[] = [];
  const candidates = new Map<string, string>();
  events.forEach((event, index) => {
    const customerId = event.customer.id;
    const first = firstByExternalId.get(event.externalId);
    if (first !== undefined) {
      const same = events[first]!.bodyHash === event.bodyHash;
      outcomes[index] = { status: same ? 'duplicate' : 'conflict', id: event.externalId, customerId };
      return;
    }
    firstByExternalId.set(event.externalId, index);
    let candidate = candidates.get(customerId);
    if (candidate === undefined) {
      candidate = uuidv7(now);
      candidates.set(customerId, candidate);
    }
    toStore.push({ ...event, id: uuidv7(now), candidateCustomerId: candidate });
    storeIndex.push(index);
  });
  if (toStore.length === 0) return outcomes as IngestOutcome[];

  // One transaction: the events, their customers and the plan commit together or not at
  // all. With a planner that can plan nothing, `ingest_events()` alone is that transaction
  // (one statement is atomic), which saves the BEGIN and COMMIT round trips.
  const ingest = async (db: Database | Transaction<DB>, trx: Transaction<DB> | undefined) => {
    const stored = await storeEvents(db, workspaceId, now, toStore, trx !== undefined);
    const accepted: AcceptedEvent[] = [];
    const acceptedIndex: number[] = [];
    toStore.forEach((event, i) => {
      const index = storeIndex[i]!;
      const customerId = event.customer.id;
      const inserted = stored.inserted.get(event.externalId);
      if (!inserted) {
        const same = stored.existingHashes.get(event.externalId) === event.bodyHash;
        outcomes[index] = { status: same ? 'duplicate' : 'conflict', id: event.externalId, customerId };
        return;
      }
      acceptedIndex.push(index);
      if (trx) {
        const customer = stored.customers.get(customerId);
        if (!customer) throw new Error(`customer ${customerId} was not upserted with its event`);
        accepted.push({ id: inserted.id, event: events[index]!, customer });
      }
    });
    // The seam of the rules engine: decide and write the plan inside this transaction.
    let plans: readonly EventPlan[] = [];
    if (trx && accepted.length > 0) {
      if (!stored.planning) throw new Error('ingest_events returned no planning snapshot');
      plans = await ctx.planner.plan(trx, { workspaceId, accepted, now, snapshot: stored.planning });
    }
    acceptedIndex.forEach((index, i) => {
      const event = events[index]!;
      outcomes[index] = {
        status: 'accepted',
        id: event.externalId,
        customerId: event.customer.id,
        plan: plans[i] ?? EMPTY_PLAN,
      };
    });
  };
  if (ctx.planner.mayPlan) await ctx.db.transaction().execute((trx) => ingest(trx, trx));
  else await ingest(ctx.db, undefined);
  return outcomes as IngestOutcome[];
}

function rejection(validation: Extract<EventValidation, { ok: false }>): AppError {
  const detail = `The event is not valid: ${validation.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`;
  return new AppError(validation.code, validation.status, detail, validation.errors);
}

/** Ingests one event: 400/422 when invalid, 409 when its id was used with another body. */
export async function ingestEvent(
  ctx: EventsContext,
  workspaceId: string,
  body: unknown,
): Promise<Exclude<IngestOutcome, { status: 'conflict' }>> {
  const now = ctx.clock.now();
  const validation = validateEvent(body, now, '/body');
  if (!validation.ok) throw rejection(validation);
  const [outcome] = ctx.groups
    ? [await ctx.groups.submit(workspaceId, validation.event)]
    : await ingestValid(ctx, workspaceId, [validation.event], now);
  if (!outcome) throw new Error('ingest returned no outcome');
  if (outcome.status === 'conflict') throw new AppError('event_conflict', 409, conflictDetail(outcome.id));
  return outcome;
}

// Group transactions of single events in flight at once. Each holds one connection of the
// pool (20) while it runs; the rest stay for batches, reads and the planner's queries. A
// group has a fixed cost of about forty events of a batch, whatever its size (round trips,
// statements, the commit), so fewer, larger groups go further, while 3 still keep 2 cores
// busy when one group waits on its commit. On the shared 2-core VM, 50 clients, 3 did as well
// as 8 or a little better (ingest benchmark, back to back: 0.16–0.25× vs 0.19–0.22× the floor).
const GROUP_COMMITS_IN_FLIGHT = 3;

/**
 * Group commit for `ingestEvent` over `ctx`: concurrent single events of a workspace share
 * one transaction (up to MAX_BATCH events); each keeps its own outcome.
 */
export function createIngestGroups(ctx: EventsContext): GroupCommit<ValidEvent, IngestOutcome> {
  return new GroupCommit((workspaceId, events) => ingestValid(ctx, workspaceId, events, ctx.clock.now()), {
    maxGroup: MAX_BATCH,
    maxInFlight: GROUP_COMMITS_IN_FLIGHT,
  });
}

export type BatchItemOutcome =
  | Exclude<IngestOutcome, { status: 'conflict' }>
  | {
      readonly status: 'rejected';
      readonly id: string | null;
      readonly code: string;
      readonly detail: string;
      readonly errors: readonly FieldError[];
    };

/** Checks `{ events: [...] }` itself; the events are checked one by one afterwards. */
function batchEvents(body: unknown): readonly unknown[] {
  const events =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>).events
      : undefined;
  const errors: FieldError[] = [];
  if (!Array.isArray(events)) {
    errors.push({ path: '/body/events', message: 'is required and must be an array of events' });
  } else if (events.length < 1 || events.length > MAX_BATCH) {
    errors.push({
      path: '/body/events',
      message: `must hold 1 to ${MAX_BATCH} events (got ${events.length})`,
    });
  }
  if (typeof body === 'object' && body !== null) {
    for (const key of Object.keys(body)) {
      if (key !== 'events') errors.push({ path: `/body/${key}`, message: 'is not a known field' });
    }
  }
  if (errors.length > 0) {
    throw badRequest(
      'validation_failed',
      `The request is not valid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
      errors,
    );
  }
  return events as unknown[];
}

/** Ingests up to 1000 events in one transaction, reporting per item; bad items do not stop the others. */
export async function ingestBatch(
  ctx: EventsContext,
  workspaceId: string,
  body: unknown,
): Promise<BatchItemOutcome[]> {
  const raw = batchEvents(body);
  const now = ctx.clock.now();
  const results: BatchItemOutcome[] = new Array(raw.length);
  const valid: ValidEvent[] = [];
  const validIndex: number[] = [];
  raw.forEach((item, index) => {
    const validation = validateEvent(item, now, `/body/events/${index}`);
    if (validation.ok) {
      valid.push(validation.event);
      validIndex.push(index);
      return;
    }
    const id = typeof item === 'object' && item !== null ? (item as Record<string, unknown>).id : undefined;
    results[index] = {
      status: 'rejected',
      id: typeof id === 'string' ? id : null,
      code: validation.code,
      detail: validation.errors.map((e) => `${e.path} ${e.message}`).join('; '),
      errors: validation.errors,
    };
  });
  const outcomes = await ingestValid(ctx, workspaceId, valid, now);
  outcomes.forEach((outcome, i) => {
    results[validIndex[i]!] =
      outcome.status === 'conflict'
        ? {
            status: 'rejected',
            id: outcome.id,
            code: 'event_conflict',
            detail: conflictDetail(outcome.id),
            errors: [],
          }
        : outcome;
  });
  return results;
}
