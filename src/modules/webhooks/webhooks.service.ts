import { Duration } from 'luxon';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import { AppError, conflict, type FieldError, notFound, rejectIfAny } from '../../errors.js';
import { decodeCursor, page } from '../../http/pagination.js';
import { uuidv7 } from '../../ids.js';
import type { Secrets } from '../../secrets.js';
import { checkHost, hostOf } from './address-guard.js';
import { cancelPendingDeliveries } from './deliveries.repository.js';
import { settleCancelled } from './delivery-attempt.js';
import { attemptsOf, findDelivery, listDeliveries, requeueDelivery } from './delivery-log.repository.js';
import { generateSecret, sealSecret } from './webhook-secret.js';
import {
  type EndpointChanges,
  type EndpointRow,
  findEndpoint,
  insertEndpoint,
  listEndpoints,
  markEndpointDeleted,
  rotateEndpointSecret,
  updateEndpoint,
} from './webhooks.repository.js';
import { type DeliveryStatus, SUBSCRIBABLE } from './webhooks.schemas.js';

export interface WebhooksContext {
  readonly db: Database;
  readonly clock: Clock;
  readonly secrets: Secrets;
  /** WEBHOOK_ALLOW_PRIVATE. */
  readonly allowPrivate: boolean;
  /** Queues a delivery's attempt now (unless a job for it is already waiting). */
  readonly enqueue: (delivery: { readonly workspaceId: string; readonly id: string }) => Promise<void>;
}

export interface NewWebhookInput {
  readonly url: string;
  readonly events: readonly string[];
  readonly description?: string;
}

/** Registers an endpoint and returns it with its signing secret, which is shown this once. */
export async function createWebhook(
  ctx: WebhooksContext,
  workspaceId: string,
  input: NewWebhookInput,
): Promise<EndpointRow & { readonly secret: string }> {
  rejectIfAny('The webhook', await problemsOf(ctx, input));

  const secret = generateSecret();
  const now = ctx.clock.now();
  const row = {
    workspaceId,
    id: uuidv7(now),
    url: input.url,
    events: [...input.events],
    description: input.description ?? null,
    secretCiphertext: sealSecret(secret, await ctx.secrets.signingKey()),
    createdAt: now,
  };
  await insertEndpoint(ctx.db, row);
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: true,
    disabledReason: null,
    createdAt: now,
    previousSecretExpiresAt: null,
    secret,
  };
}

/** How long a rotated-out secret keeps signing unless the request says otherwise, and at most. */
export const DEFAULT_ROTATION_GRACE = 'PT24H';
const MAX_ROTATION_GRACE_MS = 7 * 86_400_000;

/**
 * Gives an endpoint a new signing secret, returned this once. For the grace period (ISO-8601,
 * default 24 h, at most 7 days, `PT0S` for none) deliveries carry a signature with the old
 * secret beside the new one, so the receiver can switch without missing one; then only the new.
 */
export async function rotateWebhookSecret(
  ctx: WebhooksContext,
  workspaceId: string,
  id: string,
  input: { readonly grace_period?: string },
): Promise<EndpointRow & { readonly secret: string }> {
  const graceMs = Duration.fromISO(input.grace_period ?? DEFAULT_ROTATION_GRACE).as('milliseconds');
  if (!Number.isFinite(graceMs) || graceMs < 0 || graceMs > MAX_ROTATION_GRACE_MS) {
    rejectIfAny('The rotation', [
      { path: '/body/grace_period', message: 'must be an ISO-8601 duration from PT0S to P7D, such as PT24H' },
    ]);
  }
  const secret = generateSecret();
  const now = ctx.clock.now();
  const previousUntil = graceMs > 0 ? new Date(now.getTime() + graceMs) : null;
  const sealed = sealSecret(secret, await ctx.secrets.signingKey());
  const row = await rotateEndpointSecret(ctx.db, workspaceId, id, sealed, previousUntil, now);
  if (!row) throw notFound('Webhook');
  return { ...row, secret };
}

/** What is wrong with a URL and subscriptions the schema let through. */
async function problemsOf(
  ctx: WebhooksContext,
  input: { readonly url?: string; readonly events?: readonly string[] },
): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  const urlError = input.url === undefined ? undefined : await checkUrl(input.url, ctx.allowPrivate);
  if (urlError) errors.push({ path: '/body/url', message: urlError });
  input.events?.forEach((event, i) => {
    if (!(SUBSCRIBABLE as readonly string[]).includes(event)) {
      errors.push({ path: `/body/events/${i}`, message: `must be one of ${SUBSCRIBABLE.join(', ')}` });
    }
  });
  return errors;
}

/** Why the URL cannot receive webhooks, or undefined. The address check repeats at every connection. */
async function checkUrl(raw: string, allowPrivate: boolean): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http(s) URL';
  if (allowPrivate) return undefined;
  const reason = await checkHost(hostOf(url));
  return reason && `is refused: ${reason} (set WEBHOOK_ALLOW_PRIVATE=true to allow private addresses)`;
}

export async function getWebhook(
  ctx: WebhooksContext,
  workspaceId: string,
  id: string,
): Promise<EndpointRow> {
  const row = await findEndpoint(ctx.db, workspaceId, id);
  if (!row) throw notFound('Webhook');
  return row;
}

export async function listWebhooks(
  ctx: WebhooksContext,
  workspaceId: string,
  query: { readonly limit: number; readonly cursor?: string },
) {
  const after = decodeCursor(query.cursor, ['id']);
  const rows = await listEndpoints(ctx.db, workspaceId, { limit: query.limit + 1, beforeId: after?.id });
  return page(rows, query.limit, (row) => ({ id: row.id }));
}

/**
 * Changes an endpoint. Turning it off cancels its waiting deliveries (and fails the webhook
 * touchpoints that were waiting only on it); turning it on affects events relayed from then on.
 */
export async function updateWebhook(
  ctx: WebhooksContext,
  workspaceId: string,
  id: string,
  changes: EndpointChanges,
): Promise<EndpointRow> {
  rejectIfAny('The webhook', await problemsOf(ctx, changes));
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const row = await updateEndpoint(trx, workspaceId, id, changes, now);
    if (!row) throw notFound('Webhook');
    if (changes.enabled === false) {
      await settleCancelled(trx, workspaceId, await cancelPendingDeliveries(trx, workspaceId, id, now), now);
    }
    return row;
  });
}

/**
 * Deletes an endpoint: it gets nothing more, its waiting deliveries are cancelled, and webhook
 * touchpoints that were waiting only on it fail (`endpoint_disabled`).
 */
export async function deleteWebhook(ctx: WebhooksContext, workspaceId: string, id: string): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    if (!(await markEndpointDeleted(trx, workspaceId, id, now))) throw notFound('Webhook');
    await settleCancelled(trx, workspaceId, await cancelPendingDeliveries(trx, workspaceId, id, now), now);
  });
}

/** An endpoint's deliveries, newest first, each with its attempts. */
export async function listWebhookDeliveries(
  ctx: WebhooksContext,
  workspaceId: string,
  endpointId: string,
  query: { readonly limit: number; readonly cursor?: string; readonly status?: DeliveryStatus },
) {
  await getWebhook(ctx, workspaceId, endpointId);
  const after = decodeCursor(query.cursor, ['id']);
  const rows = await listDeliveries(ctx.db, workspaceId, endpointId, {
    limit: query.limit + 1,
    beforeId: after?.id,
    status: query.status,
  });
  const result = page(rows, query.limit, (row) => ({ id: row.id }));
  const attempts = await attemptsOf(
    ctx.db,
    workspaceId,
    result.data.map((row) => row.id),
  );
  return {
    data: result.data.map((row) => ({ ...row, attemptLog: attempts.filter((a) => a.deliveryId === row.id) })),
    next_cursor: result.next_cursor,
  };
}

/**
 * Makes one more attempt of a finished delivery now (whatever its outcome was). A delivery
 * still pending or in flight → 409; so is one whose endpoint is disabled.
 */
export async function retryDelivery(
  ctx: WebhooksContext,
  workspaceId: string,
  endpointId: string,
  deliveryId: string,
) {
  const endpoint = await getWebhook(ctx, workspaceId, endpointId);
  if (!endpoint.enabled) {
    throw new AppError('endpoint_disabled', 409, `The webhook is disabled (${endpoint.disabledReason}).`);
  }
  const outcome = await requeueDelivery(ctx.db, workspaceId, endpointId, deliveryId, ctx.clock.now());
  if (outcome === 'not_found') throw notFound('Delivery');
  if (outcome === 'in_flight') {
    throw conflict('delivery_in_flight', 'The delivery is pending or being sent; it cannot be retried now.');
  }
  await ctx.enqueue({ workspaceId, id: deliveryId });
  const row = await findDelivery(ctx.db, workspaceId, endpointId, deliveryId);
  if (!row) throw notFound('Delivery');
  const attempts = await attemptsOf(ctx.db, workspaceId, [deliveryId]);
  return { ...row, attemptLog: attempts };
}
