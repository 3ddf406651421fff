// Group commit of single-event ingests: concurrent requests share one transaction and one
// planner call, yet each keeps its own answer, given only after the commit.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isConnectionError } from '../src/db/client.js';
import { createIngestGroups, type EventsContext, ingestEvent } from '../src/modules/events/events.service.js';
import type { AcceptedEvent, EventPlanner } from '../src/modules/events/planner.js';
import { call, createWorkspace, problemOf, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { databaseUrlFor } from './helpers/databases.js';
import { waitFor } from './helpers/process.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { testEnv } from './helpers/test-env.js';

const clock = new TestClock('2026-11-20T12:00:00Z');
let t: TestApp;
let workspace: { id: string; key: string };

beforeAll(async () => {
  t = await startTestApp({ clock });
  workspace = await createWorkspace(t.app);
});
afterAll(async () => t.close());

/** A planner that records each call's accepted events; optionally waits or fails. */
function recordingPlanner(options: { gate?: Promise<void>; failOn?: string } = {}) {
  const calls: AcceptedEvent[][] = [];
  const planner: EventPlanner = {
    mayPlan: true,
    plan: async (_trx, { accepted }) => {
      calls.push([...accepted]);
      await options.gate;
      if (accepted.some((a) => a.event.externalId === options.failOn)) throw new Error('planner refused');
      return accepted.map(() => ({ touchpoints: [], exited: [] }));
    },
  };
  return { planner, calls };
}

function grouped(planner: EventPlanner): EventsContext {
  const base = { db: t.deps.db, clock, planner };
  return { ...base, groups: createIngestGroups(base) };
}

const event = (id: string, customer = `gc-${id}`, amount = 10) => ({
  id,
  type: 'purchase',
  customer: { id: customer },
  properties: { amount },
});

async function stored(ids: readonly string[]): Promise<string[]> {
  const rows = await t.deps.db
    .selectFrom('events')
    .select('externalId')
    .where('workspaceId', '=', workspace.id)
    .where('externalId', 'in', ids)
    .execute();
  return rows.map((r) => r.externalId).sort();
}

describe('group commit of single events', () => {
  it('concurrent events share one transaction and one planner call, each with its own outcome', async () => {
    const { planner, calls } = recordingPlanner();
    const ctx = grouped(planner);
    await ingestEvent(ctx, workspace.id, event('gc-old'));
    calls.length = 0;

    const settled = await Promise.allSettled([
      ingestEvent(ctx, workspace.id, event('gc-1')),
      ingestEvent(ctx, workspace.id, event('gc-2', 'gc-shared')),
      ingestEvent(ctx, workspace.id, event('gc-3', 'gc-shared')),
      ingestEvent(ctx, workspace.id, event('gc-old')), // stored before, same body
      ingestEvent(ctx, workspace.id, event('gc-old', 'gc-old', 99)), // stored before, other body
      ingestEvent(ctx, workspace.id, event('gc-4')),
      ingestEvent(ctx, workspace.id, event('gc-4')), // twice in the group, same body
      ingestEvent(ctx, workspace.id, event('gc-4', 'gc-4', 7)), // twice in the group, other body
    ]);
    const statuses = settled.map((s) =>
      s.status === 'fulfilled' ? s.value.status : (s.reason as { code?: string }).code,
    );
    expect(statuses).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'duplicate',
      'event_conflict',
      'accepted',
      'duplicate',
      'event_conflict',
    ]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.map((a) => a.event.externalId).sort()).toEqual(['gc-1', 'gc-2', 'gc-3', 'gc-4']);
    // One customer upsert folded both of its events.
    const shared = calls[0]!.find((a) => a.event.externalId === 'gc-3')!.customer;
    expect(shared.ordersCount).toBe(2);
  });

  it('answers only after the commit: nothing resolves, and nothing is visible, while the group runs', async () => {
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const { planner, calls } = recordingPlanner({ gate });
    const ctx = grouped(planner);
    let settledCount = 0;
    const pending = ['gc-wait-1', 'gc-wait-2', 'gc-wait-3'].map((id) =>
      ingestEvent(ctx, workspace.id, event(id)).finally(() => settledCount++),
    );
    while (calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // The planner runs inside the open transaction: the events are written, not committed.
    expect(await stored(['gc-wait-1', 'gc-wait-2', 'gc-wait-3'])).toEqual([]);
    expect(settledCount).toBe(0);
    open();
    const outcomes = await Promise.all(pending);
    expect(outcomes.map((o) => o.status)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(await stored(['gc-wait-1', 'gc-wait-2', 'gc-wait-3'])).toEqual([
      'gc-wait-1',
      'gc-wait-2',
      'gc-wait-3',
    ]);
  });

  it('a group the planner refuses is retried event by event: only the offending event fails', async () => {
    const { planner, calls } = recordingPlanner({ failOn: 'gc-bad' });
    const ctx = grouped(planner);
    const settled = await Promise.allSettled(
      ['gc-ok-1', 'gc-bad', 'gc-ok-2'].map((id) => ingestEvent(ctx, workspace.id, event(id))),
    );
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((settled[1] as PromiseRejectedResult).reason)).toContain('planner refused');
    // One call for the group, then one per event.
    expect(calls.map((c) => c.length)).toEqual([3, 1, 1, 1]);
    expect(await stored(['gc-bad', 'gc-ok-1', 'gc-ok-2'])).toEqual(['gc-ok-1', 'gc-ok-2']);
  });

  it('a group the database refuses is retried event by event: only the offending event fails', async () => {
    const { planner } = recordingPlanner();
    const ctx = grouped(planner);
    // Valid JSON that Postgres cannot store in jsonb (a NUL character).
    const settled = await Promise.allSettled([
      ingestEvent(ctx, workspace.id, event('gc-db-1')),
      ingestEvent(ctx, workspace.id, event('gc-db-bad', 'nul\u0000customer')),
      ingestEvent(ctx, workspace.id, event('gc-db-2')),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await stored(['gc-db-1', 'gc-db-2', 'gc-db-bad'])).toEqual(['gc-db-1', 'gc-db-2']);
  });

  it('with the database unreachable, every event of the group fails with a connection error', async () => {
    const { createDb } = await import('../src/db/client.js');
    const db = createDb('postgres://postgres@127.0.0.1:1/posvenda');
    try {
      const base = { db, clock, planner: recordingPlanner().planner };
      const ctx = { ...base, groups: createIngestGroups(base) };
      const settled = await Promise.allSettled(
        ['gc-down-1', 'gc-down-2', 'gc-down-3'].map((id) => ingestEvent(ctx, workspace.id, event(id))),
      );
      for (const s of settled) {
        expect(s.status).toBe('rejected');
        expect(isConnectionError((s as PromiseRejectedResult).reason)).toBe(true);
      }
    } finally {
      await db.destroy();
    }
  });
});

describe('POST /v1/events when Postgres goes away after the key was cached', () => {
  it('answers 503 database_unavailable to every request, stores nothing, and accepts once back', async () => {
    const { databaseUrl } = testEnv();
    const target = new URL(databaseUrl);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(databaseUrl);
    viaProxy.port = String(proxy.port);
    const app = await startTestApp({ clock, env: { DATABASE_URL: viaProxy.toString() } });
    const admin = new pg.Client({ connectionString: databaseUrlFor(databaseUrl, target.pathname.slice(1)) });
    await admin.connect();
    try {
      const shop = await createWorkspace(app.app);
      expect((await call(app.app, 'POST', '/v1/events', shop.key, event('down-0'))).statusCode).toBe(202);
      // The listener's connection stays (so the key is still served from memory); the
      // pool's connections are cut and new ones refused: ingest itself meets the outage.
      await proxy.refuseNew();
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'posvenda' AND client_port = ANY($1)`,
        [proxy.upstreamPorts()],
      );
      const ids = ['down-1', 'down-2', 'down-3', 'down-4'];
      const answers = await Promise.all(
        ids.map((id) => call(app.app, 'POST', '/v1/events', shop.key, event(id))),
      );
      for (const answer of answers) {
        expect(answer.statusCode).toBe(503);
        expect(problemOf(answer).code).toBe('database_unavailable');
        expect(answer.headers['retry-after']).toBe('5');
      }
      const rows = await admin.query('SELECT count(*)::int AS n FROM events WHERE external_id = ANY($1)', [
        ids,
      ]);
      expect(rows.rows[0].n).toBe(0);

      await proxy.acceptAgain();
      // Back: the pool connects afresh (a client retries after Retry-After), and the very
      // events refused before go in as new — nothing of them had been committed.
      await waitFor(
        async () =>
          (await call(app.app, 'POST', '/v1/events', shop.key, event(ids[0]!))).statusCode === 202
            ? true
            : undefined,
        10_000,
        'ingest to work again',
      );
      const again = await Promise.all(
        ids.slice(1).map((id) => call(app.app, 'POST', '/v1/events', shop.key, event(id))),
      );
      expect(again.map((a) => a.statusCode)).toEqual([202, 202, 202]);
    } finally {
      await admin.end();
      await app.close();
      await proxy.close();
    }
  });
});
