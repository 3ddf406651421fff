import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import { badRequest, notFound } from '../../errors.js';
import { decodeCursor, page } from '../../http/pagination.js';
import { uuidv7 } from '../../ids.js';
import { exitEnrollmentsOf } from '../enrollments/enrollments.repository.js';
import { scrubOutboxCustomer } from '../outbox/outbox.js';
import {
  customerTimelineTouchpoints,
  listTouchpoints,
  type TouchpointRow,
} from '../touchpoints/touchpoints.repository.js';
import { listCustomerTouchpoints } from '../touchpoints/touchpoints.service.js';
import { type ConsentChannel, type ConsentStatus, effectiveConsent } from './consent.js';
import {
  averageTicket,
  type CustomerState,
  healthScore,
  type LifecycleStage,
  lifecycleStage,
  toCustomerState,
} from './customer-state.js';
import {
  allCustomerEvents,
  type CustomerFilters,
  type CustomerRow,
  countOpenTickets,
  eraseCustomerProfile,
  findCustomer,
  insertErasure,
  listCustomerEvents,
  listCustomers as listCustomerRows,
  lockCustomerForErasure,
  scrubCustomerEvents,
  scrubTouchpointContent,
  setConsent as setConsentRow,
} from './customers.repository.js';

export interface CustomersContext {
  readonly db: Database;
  readonly clock: Clock;
}

/** A customer as the API shows it: profile, facts, what is derived from them now, consent. */
export interface CustomerProfile {
  readonly state: CustomerState;
  readonly currency: string;
  readonly stage: LifecycleStage;
  readonly healthScore: number;
  readonly openTickets: number;
  readonly averageTicket: number | null;
  readonly consent: ReturnType<typeof effectiveConsent>;
}

function profile(row: CustomerRow, openTickets: number, now: Date): CustomerProfile {
  const state = toCustomerState(row as unknown as Record<string, unknown>);
  return {
    state,
    currency: row.workspaceCurrency,
    stage: lifecycleStage(state, now),
    healthScore: healthScore(state, openTickets, now),
    openTickets,
    averageTicket: averageTicket(state),
    consent: effectiveConsent(state.consent),
  };
}

async function requireCustomer(ctx: CustomersContext, workspaceId: string, externalId: string) {
  const row = await findCustomer(ctx.db, workspaceId, externalId);
  if (!row) throw notFound('Customer');
  return row;
}

/** Customers matching the filters, newest first; the stage filter is evaluated at now. */
export async function listCustomers(
  ctx: CustomersContext,
  workspaceId: string,
  query: CustomerFilters & { readonly limit: number; readonly cursor?: string },
) {
  const now = ctx.clock.now();
  const after = decodeCursor(query.cursor, ['id']);
  const rows = await listCustomerRows(ctx.db, workspaceId, {
    segment: query.segment,
    stage: query.stage,
    email: query.email,
    now,
    limit: query.limit + 1,
    beforeId: after?.id,
  });
  const result = page(rows, query.limit, (row) => ({ id: row.id }));
  const open = await countOpenTickets(
    ctx.db,
    workspaceId,
    result.data.map((row) => row.id),
  );
  return {
    data: result.data.map((row) => profile(row, open.get(row.id) ?? 0, now)),
    next_cursor: result.next_cursor,
  };
}

/** One customer by the shop's id, with facts and derived values at now. */
export async function getCustomer(
  ctx: CustomersContext,
  workspaceId: string,
  externalId: string,
): Promise<CustomerProfile> {
  const row = await requireCustomer(ctx, workspaceId, externalId);
  const open = await countOpenTickets(ctx.db, workspaceId, [row.id]);
  return profile(row, open.get(row.id) ?? 0, ctx.clock.now());
}

export type TimelineEntry =
  | { readonly kind: 'event'; readonly event: Awaited<ReturnType<typeof listCustomerEvents>>[number] }
  | { readonly kind: 'touchpoint'; readonly touchpoint: TouchpointRow };

const atOf = (entry: TimelineEntry) =>
  entry.kind === 'event' ? entry.event.occurredAt : entry.touchpoint.dueAt;
const idOf = (entry: TimelineEntry) => (entry.kind === 'event' ? entry.event.id : entry.touchpoint.id);

/** Newest first by (at, kind, id): the one order both sources are read in and the cursor holds. */
function newestFirst(a: TimelineEntry, b: TimelineEntry): number {
  const at = atOf(b).getTime() - atOf(a).getTime();
  if (at !== 0) return at;
  if (a.kind !== b.kind) return a.kind < b.kind ? 1 : -1;
  return idOf(a) < idOf(b) ? 1 : idOf(a) > idOf(b) ? -1 : 0;
}

/**
 * The customer's events (at occurred_at) and touchpoints (at due_at), newest first. Each
 * source is read past the cursor's (at, kind, id) key and the two are merged, so pages
 * neither overlap nor skip when both have entries at the same instant.
 */
export async function customerTimeline(
  ctx: CustomersContext,
  workspaceId: string,
  externalId: string,
  query: { readonly limit: number; readonly cursor?: string },
) {
  const after = decodeCursor(query.cursor, ['at', 'kind', 'id']);
  const row = await requireCustomer(ctx, workspaceId, externalId);
  const before = after ? { at: new Date(after.at), kind: after.kind, id: after.id } : undefined;
  if (before && Number.isNaN(before.at.getTime())) {
    throw badRequest('invalid_cursor', 'cursor is not one this API returned', [
      { path: '/querystring/cursor', message: 'not a valid cursor' },
    ]);
  }
  const options = { limit: query.limit + 1, before };
  const [events, touchpoints] = await Promise.all([
    listCustomerEvents(ctx.db, workspaceId, row.id, options),
    customerTimelineTouchpoints(ctx.db, workspaceId, row.id, options),
  ]);
  const entries: TimelineEntry[] = [
    ...events.map((event) => ({ kind: 'event' as const, event })),
    ...touchpoints.map((touchpoint) => ({ kind: 'touchpoint' as const, touchpoint })),
  ].sort(newestFirst);
  return page(entries.slice(0, query.limit + 1), query.limit, (entry) => ({
    at: atOf(entry).toISOString(),
    kind: entry.kind,
    id: idOf(entry),
  }));
}

/** The customer's touchpoints, earliest due first, cursor-paginated. */
export async function customerTouchpoints(
  ctx: CustomersContext,
  workspaceId: string,
  externalId: string,
  query: { readonly limit: number; readonly cursor?: string },
) {
  const row = await requireCustomer(ctx, workspaceId, externalId);
  return listCustomerTouchpoints(ctx, workspaceId, row.id, query);
}

/**
 * Records a consent choice for one channel. `source` says who made it: `api` (the shop, for
 * the person) or `unsubscribe` (the person, through an email's unsubscribe link).
 */
export async function setConsent(
  ctx: CustomersContext,
  workspaceId: string,
  externalId: string,
  channel: ConsentChannel,
  status: ConsentStatus,
  source: 'api' | 'unsubscribe' = 'api',
) {
  const now = ctx.clock.now();
  const choice = { status, source, updated_at: now.toISOString() };
  const found = await setConsentRow(ctx.db, workspaceId, externalId, channel, choice, now);
  if (!found) throw notFound('Customer');
  return { channel, ...choice };
}

// Enrollments plan a handful of touchpoints each; this bounds the export of a runaway one.
const EXPORT_TOUCHPOINTS = 10_000;

/** Everything held about the person: profile, consent, every event as sent, touchpoints. */
export async function exportCustomer(ctx: CustomersContext, workspaceId: string, externalId: string) {
  const customer = await getCustomer(ctx, workspaceId, externalId);
  const [events, touchpoints] = await Promise.all([
    allCustomerEvents(ctx.db, workspaceId, customer.state.id),
    listTouchpoints(ctx.db, workspaceId, { customerId: customer.state.id, limit: EXPORT_TOUCHPOINTS }),
  ]);
  return { exportedAt: ctx.clock.now(), customer, events, touchpoints };
}

/**
 * Erases the person (LGPD art. 18 VI, GDPR art. 17): personal data leaves the profile and
 * the events, the external id becomes an unlinkable pseudonym, and the erasure is recorded.
 * Amounts, types, dates and the segment stay, so KPIs stay right. The customer's running
 * enrollments end and their pending touchpoints are cancelled in the same transaction.
 */
export async function eraseCustomer(
  ctx: CustomersContext,
  workspaceId: string,
  externalId: string,
  keyId: string | null,
): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const customer = await lockCustomerForErasure(trx, workspaceId, externalId);
    if (!customer) throw notFound('Customer');
    const scrubbed = await scrubCustomerEvents(trx, workspaceId, customer.id);
    await exitEnrollmentsOf(trx, workspaceId, { customerId: customer.id }, 'erased', now);
    // Random, not derived from the old id: nothing can link the pseudonym back to the person.
    const pseudonym = `erased:${uuidv7(now)}`;
    await scrubTouchpointContent(trx, workspaceId, customer.id);
    await scrubOutboxCustomer(trx, workspaceId, externalId, pseudonym);
    await eraseCustomerProfile(trx, workspaceId, customer.id, pseudonym, now);
    await insertErasure(trx, {
      workspaceId,
      id: uuidv7(now),
      customerId: customer.id,
      erasedAt: now,
      keyId,
      eventsScrubbed: scrubbed,
    });
  });
}
