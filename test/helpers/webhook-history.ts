import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import type { Database } from '../../src/db/client.js';

export type DeliveryStatus = 'pending' | 'sending' | 'succeeded' | 'failed' | 'cancelled';

/** Writes webhook history straight into one workspace's tables, dated as a test needs it. */
export interface WebhookHistory {
  /** An outbox row as the relay leaves it; `dispatchedAt` null: not relayed yet. Returns its id. */
  outboxRow(createdAt: Date, dispatchedAt: Date | null): Promise<string>;
  /** A delivery of the event with one attempt; `completedAt` null: still open. Returns its id. */
  delivery(
    eventId: string,
    status: DeliveryStatus,
    completedAt: Date | null,
    endpointId?: string,
  ): Promise<string>;
  outboxIds(): Promise<Set<string>>;
  deliveryIds(): Promise<Set<string>>;
}

export function webhookHistory(db: Database, workspaceId: string, defaultEndpointId: string): WebhookHistory {
  return {
    async outboxRow(createdAt, dispatchedAt) {
      const id = randomUUID();
      await db
        .insertInto('outbox')
        .values({
          workspaceId,
          id,
          type: 'task.created',
          data: JSON.stringify({ task: { id } }),
          createdAt,
          dispatchedAt,
        })
        .execute();
      return id;
    },
    async delivery(eventId, status, completedAt, endpointId = defaultEndpointId) {
      const id = randomUUID();
      const at = completedAt ?? new Date();
      await db
        .insertInto('webhookDeliveries')
        .values({
          workspaceId,
          id,
          endpointId,
          eventId,
          eventType: 'task.created',
          status,
          attempts: 1,
          maxAttempts: 8,
          nextAttemptAt: completedAt ? null : new Date(Date.now() + 86_400_000),
          createdAt: at,
          updatedAt: at,
          completedAt,
        })
        .execute();
      await db
        .insertInto('webhookDeliveryAttempts')
        .values({ workspaceId, deliveryId: id, attempt: 1, at, statusCode: 500, durationMs: 5 })
        .execute();
      return id;
    },
    async outboxIds() {
      const rows = await db
        .selectFrom('outbox')
        .select('id')
        .where('workspaceId', '=', workspaceId)
        .execute();
      return new Set(rows.map((row) => row.id));
    },
    async deliveryIds() {
      const rows = await db
        .selectFrom('webhookDeliveries')
        .select('id')
        .where('workspaceId', '=', workspaceId)
        .execute();
      return new Set(rows.map((row) => row.id));
    },
  };
}

/** posvenda_webhook_pruned_total by kind, as /metrics shows it (0 before the first). */
export async function prunedCount(app: FastifyInstance, kind: string): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = new RegExp(`^posvenda_webhook_pruned_total\\{kind="${kind}"\\} (\\d+)`, 'm');
  return Number(text.match(line)?.[1] ?? 0);
}

/** Locks an outbox row in another connection, as a pruner mid-batch would; returns the release. */
export async function holdOutboxRow(databaseUrl: string, eventId: string): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM outbox WHERE id = $1 FOR UPDATE', [eventId]);
  return async () => {
    await client.query('ROLLBACK');
    await client.end();
  };
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms)),
  ]);
}
