import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchQueue } from '../src/modules/dispatch/dispatch-queue.js';
import { call, createWorkspace, startTestApp, TEST_ADMIN_KEY, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { clearPlaybooks, create, startSmtp, type TestSmtp, touchpointRow } from './helpers/dispatch.js';
import { type Spawned, spawnMain, waitFor } from './helpers/process.js';
import { testEnv } from './helpers/test-env.js';
import { startTestWorker, type TestWorker } from './helpers/worker.js';

// Both scenarios run on a private Redis this file starts and stops: FLUSHALL on the shared
// Redis would wipe other test files' queues.
const TERMINAL = ['sent', 'failed', 'skipped', 'cancelled'];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let redisProcess: ChildProcess;
let redisUrl: string;
let redis: Redis;
let smtp: TestSmtp;

beforeAll(async () => {
  const port = await freePort();
  redisProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: 'ignore' },
  );
  redisUrl = `redis://127.0.0.1:${port}`;
  redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  await waitFor(
    async () => {
      await redis.connect().catch(() => {});
      return (await redis.ping()) === 'PONG' ? true : undefined;
    },
    10_000,
    'the private redis-server',
  );
  smtp = await startSmtp({ delayMs: 150 });
});

afterAll(async () => {
  redis?.disconnect();
  redisProcess?.kill('SIGKILL');
  await smtp?.close();
});

/** A workspace whose one playbook sends one email an hour after `custom.recovery`. */
async function emailShop(app: TestApp['app']) {
  const shop = await createWorkspace(app, { timezone: 'America/Sao_Paulo' });
  await clearPlaybooks(app, shop.key);
  // The process scenario runs on the real clock, whatever the hour: no quiet hours here.
  const patched = await call(app, 'PATCH', '/v1/settings', shop.key, { quiet_hours: null });
  expect(patched.statusCode, patched.body).toBe(200);
  await create(app, shop.key, '/v1/templates', {
    key: 'r-mail',
    channel: 'email',
    locale: 'pt-BR',
    tone: 'informal',
    variants: [{ key: 'a', weight: 1, subject: 'Oi {{ customer.first_name }}', text: 'Olá!' }],
  });
  await create(app, shop.key, '/v1/playbooks', {
    key: 'recovery',
    name: 'recovery',
    trigger: { event: 'custom.recovery' },
    reentry: 'always',
    steps: [{ key: 'hello', after: 'PT1H', channel: 'email', template: 'r-mail' }],
  });
  return shop;
}

/** Plans one email per customer, triggered at `occurredAt`; returns the touchpoint ids. */
async function planEmails(app: TestApp['app'], key: string, tag: string, count: number, occurredAt: string) {
  const customers = Array.from({ length: count }, (_, i) => ({
    id: `${tag}-${i}`,
    name: `Cliente ${i}`,
    email: `${tag}-${i}@example.com`,
  }));
  const response = await call(app, 'POST', '/v1/events/batch', key, {
    events: customers.map((customer) => ({
      id: `e-${customer.id}`,
      type: 'custom.recovery',
      occurred_at: occurredAt,
      customer,
    })),
  });
  expect(response.statusCode, response.body).toBeLessThan(300);
  const ids: string[] = [];
  for (const customer of customers) {
    const list = await call(app, 'GET', `/v1/touchpoints?customer_id=${customer.id}`, key);
    ids.push(...(list.json().data as { id: string }[]).map((tp) => tp.id));
  }
  expect(ids).toHaveLength(count);
  return ids;
}

const messageIdsOf = (ids: readonly string[]) => ids.map((id) => `<${id}@posvenda.example.com>`);
const mailsWith = (messageId: string) => smtp.messages.filter((m) => m.header('Message-ID') === messageId);

describe('recovery after Redis loses the queue (FLUSHALL on a private Redis)', () => {
  const clock = new TestClock('2026-11-20T12:00:00Z');
  let t: TestApp;
  let worker: TestWorker;

  beforeAll(async () => {
    t = await startTestApp({
      clock,
      env: { REDIS_URL: redisUrl, SMTP_URL: smtp.url, PUBLIC_URL: 'https://posvenda.example.com' },
    });
    worker = startTestWorker(t.deps);
  });
  afterAll(async () => {
    await worker?.close();
    await t?.close();
  });

  it('re-adds every queued touchpoint from Postgres; each email goes out once; Redis holds only the horizon', async () => {
    const shop = await emailShop(t.app);
    const ids = await planEmails(t.app, shop.key, 'flush', 6, '2026-11-20T12:00:00Z');
    clock.set('2026-11-20T13:00:00Z');
    const later = await planEmails(t.app, shop.key, 'later', 3, '2026-11-20T13:00:00Z');
    // Due 13:00; at 12:58 they are within the 5-minute horizon, the later ones (14:00) are not.
    clock.set('2026-11-20T12:58:00Z');
    await worker.runNow('dispatch-pump');
    const queue = dispatchQueue(t.deps.redis, t.deps.config.queuePrefix);
    expect(await queue.getJobCounts('delayed')).toEqual({ delayed: 6 });
    for (const id of ids) expect((await touchpointRow(t.deps.db, id)).status).toBe('queued');
    for (const id of later) expect((await touchpointRow(t.deps.db, id)).status).toBe('scheduled');

    await redis.flushall();
    expect(await queue.getJobCounts('delayed')).toEqual({ delayed: 0 });

    // The pump finds nothing scheduled; recovery re-adds what Postgres says is queued.
    clock.set('2026-11-20T13:00:00Z');
    await worker.runNow('dispatch-pump');
    await worker.runNow('dispatch-recovery');
    await worker.runNow('dispatch-recovery'); // twice: re-adding is idempotent
    for (const id of ids) {
      await waitFor(
        async () => (TERMINAL.includes((await touchpointRow(t.deps.db, id)).status) ? true : undefined),
        15_000,
        `touchpoint ${id}`,
      );
      expect(await touchpointRow(t.deps.db, id)).toMatchObject({ status: 'sent', attempts: 1 });
    }
    for (const messageId of messageIdsOf(ids)) expect(mailsWith(messageId)).toHaveLength(1);
    // After the dust settles, nothing is left in Redis and a further recovery adds nothing.
    await worker.runNow('dispatch-recovery');
    expect(await queue.getJobCounts('delayed', 'waiting', 'active')).toMatchObject({
      delayed: 0,
      waiting: 0,
      active: 0,
    });
    for (const messageId of messageIdsOf(ids)) expect(mailsWith(messageId)).toHaveLength(1);
  });
});

describe('several pumps at once', () => {
  const clock = new TestClock('2026-11-20T12:00:00Z');
  let t: TestApp;
  let workers: TestWorker[] = [];

  beforeAll(async () => {
    t = await startTestApp({ clock, env: { REDIS_URL: redisUrl, QUEUE_PREFIX: '{pvt-pumps}' } });
    // Two workers' pumps on the same database and queue; their processors are not running.
    workers = [0, 1].map(() => startTestWorker(t.deps, { consumers: [] }));
  });
  afterAll(async () => {
    for (const w of workers) await w.close();
    await t?.close();
  });

  it('hand each due touchpoint to Redis exactly once', async () => {
    const shop = await emailShop(t.app);
    const ids = await planEmails(t.app, shop.key, 'pumps', 40, '2026-11-20T12:00:00Z');
    clock.set('2026-11-20T12:57:00Z');
    await Promise.all(workers.map((w) => w.runNow('dispatch-pump')));
    const queue = dispatchQueue(t.deps.redis, t.deps.config.queuePrefix);
    expect(await queue.getJobCounts('delayed')).toEqual({ delayed: 40 });
    const rows = await t.deps.db
      .selectFrom('touchpoints')
      .select(['status', 'queuedAt'])
      .where('id', 'in', ids)
      .execute();
    expect(rows.every((row) => row.status === 'queued' && row.queuedAt !== null)).toBe(true);
    await Promise.all(workers.map((w) => w.runNow('dispatch-pump')));
    await Promise.all(workers.map((w) => w.runNow('dispatch-recovery')));
    expect(await queue.getJobCounts('delayed')).toEqual({ delayed: 40 });
    await queue.obliterate({ force: true });
  });
});

describe('a worker process killed mid-run (SIGKILL) and restarted', () => {
  let t: TestApp;
  const spawned: Spawned[] = [];

  beforeAll(async () => {
    // Real time: the worker processes run on the system clock.
    t = await startTestApp({ clock: new TestClock(new Date()), env: { REDIS_URL: redisUrl } });
  });
  afterAll(async () => {
    for (const s of spawned) s.child.kill('SIGKILL');
    await t?.close();
  });

  const startWorker = () => {
    const env = testEnv();
    const s = spawnMain('worker', {
      DATABASE_URL: env.databaseUrl,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: `{pvt-kill-${process.pid}}`,
      POSVENDA_ADMIN_KEY: TEST_ADMIN_KEY,
      SECRET_KEY: 'test-secret-key-0123456789abcdefghijklmnop',
      SMTP_URL: smtp.url,
      PUBLIC_URL: 'https://posvenda.example.com',
      WORKER_CONCURRENCY: '3',
      LOG_LEVEL: 'warn',
      // The worker serves /metrics on PORT: any free one.
      PORT: '0',
      HOST: '127.0.0.1',
    });
    spawned.push(s);
    return s;
  };

  it('every touchpoint still ends in exactly one terminal state; resends carry the same Message-ID', async () => {
    const shop = await emailShop(t.app);
    // Due now: triggered an hour ago.
    const occurredAt = new Date(Date.now() - 3600_000).toISOString();
    const ids = await planEmails(t.app, shop.key, 'kill', 12, occurredAt);
    const messageIds = messageIdsOf(ids);
    const sentSoFar = () =>
      smtp.messages.filter((m) => messageIds.includes(m.header('Message-ID') ?? '')).length;

    const first = startWorker();
    await waitFor(async () => (sentSoFar() >= 3 ? true : undefined), 30_000, 'some emails out').catch(
      (error) => {
        throw new Error(`${error.message}; worker stderr: ${first.stderr()} stdout: ${first.stdout()}`);
      },
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const statuses = async () =>
      Promise.all(ids.map(async (id) => (await touchpointRow(t.deps.db, id)).status));
    expect((await statuses()).some((s) => !TERMINAL.includes(s))).toBe(true);

    const second = startWorker();
    // Jobs the killed worker held come back when their BullMQ lock expires (10 s).
    await waitFor(
      async () => ((await statuses()).every((s) => TERMINAL.includes(s)) ? true : undefined),
      90_000,
      `all touchpoints terminal (worker stderr: ${second.stderr()})`,
    );
    expect(await statuses()).toEqual(ids.map(() => 'sent'));
    for (const messageId of messageIds) {
      // At least once; a second copy only for a message in flight at the kill.
      const copies = mailsWith(messageId).length;
      expect(copies).toBeGreaterThanOrEqual(1);
      expect(copies).toBeLessThanOrEqual(2);
    }
    const duplicates = messageIds.filter((m) => mailsWith(m).length > 1).length;
    expect(duplicates).toBeLessThanOrEqual(3); // at most the worker's concurrency
    second.child.kill('SIGTERM');
    await second.exited;
  }, 180_000);
});
