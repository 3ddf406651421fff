// `npm run bench -- dispatch`: webhook touchpoints dispatched per second by the real worker
// (pump → dispatch job → outbox → relay → signed delivery to a local sink → settle `sent`),
// against a no-op BullMQ worker on the same Redis, and the due→sent lag at a steady
// 1,000 touchpoints due per second. Touchpoints are seeded straight into Postgres, so the
// figures do not depend on ingest. Only 127.0.0.1 is talked to.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { redisPid, startCpuMeter } from './cpu.js';
import {
  type Autovacuum,
  baseConfig,
  build,
  databaseUrl,
  dropDatabase,
  freePort,
  type RunningProcess,
  startAutovacuum,
  startProcess,
  warnIfHorizonHeld,
} from './harness.js';

/** Touchpoints of the throughput run (all due at once). */
const TOUCHPOINTS = Number(process.env.BENCH_TOUCHPOINTS ?? 20_000);
/**
 * Touchpoints dispatched before the measured runs, followed by an autovacuum pass, so that the
 * service's plans are made on tables holding deliveries and outbox rows, as in a running system
 * (on empty tables the planner picks scans that cost milliseconds once they fill).
 */
const WARMUP = Number(process.env.BENCH_WARMUP_TOUCHPOINTS ?? 1000);
/** Touchpoints falling due per second in the lag run, and for how long. */
const LAG_RATE = Number(process.env.BENCH_LAG_RATE ?? 1000);
const LAG_SECONDS = Number(process.env.BENCH_LAG_SECONDS ?? 15);
const CONCURRENCY = Number(process.env.WORKER_CONCURRENCY ?? 50);
/** Each phase gives up after this long, so a stuck service cannot hold the run forever. */
const PHASE_TIMEOUT_MS = Number(process.env.BENCH_PHASE_TIMEOUT_S ?? 300) * 1000;
/** How far ahead of their due time touchpoints are seeded, so the pump has queued them. */
const LEAD_MS = 15_000;
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
/** One signature in this many is verified by the sink (verifying costs the sink CPU, not the service). */
const VERIFY_EVERY = 50;

interface Sink {
  readonly url: string;
  received: number;
  verified: number;
  badSignatures: number;
  secret?: string;
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1 that answers 204 and checks a sample of signatures. */
async function startSink(): Promise<Sink> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      sink.received++;
      if (sink.secret && sink.received % VERIFY_EVERY === 1) {
        try {
          new Webhook(sink.secret).verify(
            Buffer.concat(chunks).toString('utf8'),
            req.headers as Record<string, string>,
          );
          sink.verified++;
        } catch {
          sink.badSignatures++;
        }
      }
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sink: Sink = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received: 0,
    verified: 0,
    badSignatures: 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return sink;
}

async function api(service: RunningProcess, key: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** The workspace, endpoint, template and playbook, and one planned touchpoint to copy. */
interface Fixture {
  readonly workspaceId: string;
  readonly customerId: string;
  readonly enrollmentId: string;
  readonly touchpointId: string;
}

async function prepare(service: RunningProcess, sink: Sink, client: pg.Client): Promise<Fixture> {
  const workspace = await api(service, ADMIN_KEY, 'POST', '/v1/workspaces', { name: 'Bench shop' });
  const key = String(workspace.api_key);
  const endpoint = await api(service, key, 'POST', '/v1/webhooks', {
    url: sink.url,
    events: ['touchpoint.due'],
  });
  sink.secret = String(endpoint.secret);
  await api(service, key, 'POST', '/v1/templates', {
    key: 'crm-push',
    channel: 'webhook',
    locale: 'pt-BR',
    tone: 'informal',
    variants: [
      {
        key: 'a',
        weight: 1,
        payload: { customer: '{{ customer.id }}', order: '{{ event.properties.order_id }}' },
      },
    ],
  });
  await api(service, key, 'POST', '/v1/playbooks', {
    key: 'bench-crm',
    name: 'Bench: push to the CRM',
    trigger: { event: 'custom.bench' },
    reentry: 'always',
    // Far ahead, so the pump leaves the original alone: only the copies fall due.
    steps: [{ key: 'crm', after: 'P30D', channel: 'webhook', template: 'crm-push' }],
  });
  await api(service, key, 'POST', '/v1/events', {
    id: 'bench-template-event',
    type: 'custom.bench',
    customer: { id: 'bench-template', name: 'Cliente Bench', email: 'bench@example.com' },
    properties: { order_id: 'o-1' },
  });
  const { rows } = await client.query<{ customer_id: string; enrollment_id: string; id: string }>(
    `SELECT customer_id, enrollment_id, id FROM touchpoints WHERE workspace_id = $1 AND channel = 'webhook'`,
    [workspace.id],
  );
  if (rows.length !== 1) throw new Error(`expected one planned webhook touchpoint, found ${rows.length}`);
  const row = rows[0]!;
  return {
    workspaceId: String(workspace.id),
    customerId: row.customer_id,
    enrollmentId: row.enrollment_id,
    touchpointId: row.id,
  };
}

async function columnsOf(client: pg.Client, table: string): Promise<string[]> {
  const { rows } = await client.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return rows.map((r) => r.column_name);
}

/**
 * `INSERT INTO table SELECT …` copying one row `count` times (g = 1…count), with some
 * columns replaced by SQL expressions over g. Every other column is the original's.
 */
async function copyRow(
  client: pg.Client,
  table: string,
  where: string,
  count: number,
  replaced: Record<string, string>,
  params: readonly unknown[],
): Promise<void> {
  const columns = await columnsOf(client, table);
  const select = columns.map((c) => replaced[c] ?? `t.${c}`).join(', ');
  await client.query(
    `INSERT INTO ${table} (${columns.join(', ')})
     SELECT ${select} FROM ${table} t, generate_series(1, ${count}) g WHERE ${where}`,
    [...params],
  );
}

/**
 * Seeds `count` customers, each with an enrollment and one webhook touchpoint copied from the
 * fixture's; touchpoint g falls due at `firstDue + (g - 1) * spacingMs`.
 */
async function seed(
  client: pg.Client,
  fx: Fixture,
  tag: string,
  count: number,
  firstDue: Date,
  spacingMs: number,
): Promise<void> {
  const id = (kind: string) => `md5('${tag}-${kind}-' || g)::uuid`;
  const ws = `t.workspace_id = $1 AND t.id = $2`;
  await client.query('BEGIN');
  await copyRow(
    client,
    'customers',
    ws,
    count,
    {
      id: id('c'),
      external_id: `'bench-${tag}-' || g`,
      email: `'c${tag}-' || g || '@example.com'`,
      created_at: 'now()',
      updated_at: 'now()',
    },
    [fx.workspaceId, fx.customerId],
  );
  await copyRow(
    client,
    'enrollments',
    ws,
    count,
    { id: id('e'), customer_id: id('c'), created_at: 'now()', updated_at: 'now()' },
    [fx.workspaceId, fx.enrollmentId],
  );
  await copyRow(
    client,
    'touchpoints',
    ws,
    count,
    {
      id: id('t'),
      customer_id: id('c'),
      enrollment_id: id('e'),
      due_at: `$3::timestamptz + (g - 1) * ($4::double precision * interval '1 millisecond')`,
      status: `'scheduled'`,
      created_at: 'now()',
      updated_at: 'now()',
    },
    [fx.workspaceId, fx.touchpointId, firstDue.toISOString(), spacingMs],
  );
  await client.query('COMMIT');
  await client.query('ANALYZE customers, enrollments, touchpoints');
}

async function countByStatus(client: pg.Client, from: Date): Promise<Record<string, number>> {
  const { rows } = await client.query<{ status: string; n: string }>(
    `SELECT status, count(*) AS n FROM touchpoints WHERE due_at >= $1 AND due_at < $1::timestamptz + interval '1 day'
     GROUP BY status`,
    [from.toISOString()],
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** Waits until `count` touchpoints due from `from` on are terminal; false on timeout. */
async function waitSettled(client: pg.Client, from: Date, count: number, deadline: number): Promise<boolean> {
  let last = '';
  let lastReport = Date.now();
  for (;;) {
    const counts = await countByStatus(client, from);
    const terminal = ['sent', 'failed', 'skipped', 'cancelled'].reduce((sum, s) => sum + (counts[s] ?? 0), 0);
    if (terminal >= count) return true;
    if (Date.now() > deadline) {
      process.stdout.write(`  gave up waiting; last seen ${JSON.stringify(counts)}\n`);
      return false;
    }
    const now = JSON.stringify(counts);
    if (Date.now() - lastReport > 5000 && now !== last) {
      process.stdout.write(`  ${now}\n`);
      last = now;
      lastReport = Date.now();
    }
    await sleep(250);
  }
}

interface Throughput {
  readonly perSecond: number;
  readonly sent: number;
  readonly seconds: number;
  readonly complete: boolean;
}

/** `count` due at once: touchpoints/s from their due time to the last `sent_at`. */
async function throughputRun(
  client: pg.Client,
  fx: Fixture,
  phase: string,
  count: number,
): Promise<Throughput> {
  const due = new Date(Date.now() + LEAD_MS);
  process.stdout.write(`${phase}: seeding ${count} touchpoints due at ${due.toISOString()}…\n`);
  await seed(client, fx, phase, count, due, 0);
  const waitMs = due.getTime() - Date.now();
  if (waitMs < 3000) process.stdout.write(`  warning: seeding left only ${waitMs} ms before the due time\n`);
  await sleep(Math.max(0, waitMs));
  process.stdout.write(`  at the due time: ${JSON.stringify(await countByStatus(client, due))}\n`);
  const complete = await waitSettled(client, due, count, Date.now() + PHASE_TIMEOUT_MS);
  const { rows } = await client.query<{ sent: string; last: Date | null }>(
    `SELECT count(*) AS sent, max(sent_at) AS last FROM touchpoints
     WHERE due_at = $1 AND status = 'sent'`,
    [due.toISOString()],
  );
  const sent = Number(rows[0]!.sent);
  const seconds = rows[0]!.last ? (rows[0]!.last.getTime() - due.getTime()) / 1000 : Number.NaN;
  return { perSecond: sent / seconds, sent, seconds, complete };
}

interface Lag {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly sent: number;
  readonly expected: number;
}

/** LAG_RATE touchpoints due per second for LAG_SECONDS: the sent_at − due_at percentiles. */
async function lagRun(client: pg.Client, fx: Fixture): Promise<Lag> {
  const count = LAG_RATE * LAG_SECONDS;
  const first = new Date(Date.now() + LEAD_MS);
  process.stdout.write(
    `lag: seeding ${count} touchpoints, ${LAG_RATE}/s for ${LAG_SECONDS} s from ${first.toISOString()}…\n`,
  );
  await seed(client, fx, 'lag', count, first, 1000 / LAG_RATE);
  await sleep(Math.max(0, first.getTime() - Date.now()));
  await waitSettled(client, first, count, Date.now() + LAG_SECONDS * 1000 + PHASE_TIMEOUT_MS);
  const { rows } = await client.query<{ p50: number; p99: number; max: number; sent: string }>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) AS p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY lag) AS p99,
            max(lag) AS max, count(*) AS sent
     FROM (SELECT extract(epoch FROM sent_at - due_at) * 1000 AS lag FROM touchpoints
           WHERE due_at >= $1 AND due_at < $1::timestamptz + interval '1 day' AND status = 'sent') l`,
    [first.toISOString()],
  );
  const row = rows[0]!;
  return { p50: row.p50, p99: row.p99, max: row.max, sent: Number(row.sent), expected: count };
}

/** The floor: a BullMQ worker that does nothing, at the service's concurrency, on the same Redis. */
async function floorRun(redisUrl: string, prefix: string): Promise<number> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('floor', { connection, prefix });
  const jobs = Array.from({ length: TOUCHPOINTS }, (_, i) => ({
    name: 'noop',
    data: { workspaceId: randomUUID(), touchpointId: randomUUID(), i },
    opts: { jobId: `floor-${i}`, removeOnComplete: true, removeOnFail: true },
  }));
  for (let i = 0; i < jobs.length; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
  const worker = new Worker('floor', async () => undefined, {
    connection: new Redis(redisUrl, { maxRetriesPerRequest: null }),
    prefix,
    concurrency: CONCURRENCY,
    autorun: false,
  });
  let done = 0;
  const finished = new Promise<void>((resolve) => {
    worker.on('completed', () => {
      if (++done === TOUCHPOINTS) resolve();
    });
  });
  const started = Date.now();
  void worker.run();
  const timedOut = sleep(PHASE_TIMEOUT_MS).then(() => 'timeout' as const);
  const outcome = await Promise.race([finished.then(() => 'done' as const), timedOut]);
  const seconds = (Date.now() - started) / 1000;
  await worker.close();
  await queue.close();
  connection.disconnect();
  if (outcome === 'timeout') throw new Error(`the floor worker did not finish ${TOUCHPOINTS} jobs`);
  return TOUCHPOINTS / seconds;
}

/** Deletes every Redis key under the run's prefixes. */
async function clearRedis(redisUrl: string, prefixes: readonly string[]): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  try {
    for (const prefix of prefixes) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

/** `(service 1,234 ms, postgres …)`: where the CPU of a phase went. */
function cpuDetail(used: Record<string, number>): string {
  return `(${Object.entries(used)
    .map(([name, ms]) => `${name} ${fmt(ms)} ms`)
    .join(', ')})`;
}

const fmt = (value: number, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '—';

function table(rows: readonly (readonly string[])[]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`${line(rows[0]!)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n`);
  for (const cells of rows.slice(1)) process.stdout.write(`${line(cells)}\n`);
  process.stdout.write('\n');
}

/** Runs the dispatch benchmark; resolves to whether every target was met. */
export async function run(): Promise<boolean> {
  build();
  const redisUrl = baseConfig().redisUrl;
  const database = `posvenda_bench_dispatch_${process.pid}`;
  const prefix = `{pvbench-${process.pid}}`;
  const floorPrefix = `{pvbench-floor-${process.pid}}`;
  const running: RunningProcess[] = [];
  const sink = await startSink();
  const client = new pg.Client({ connectionString: databaseUrl(database) });
  let connected = false;
  let autovacuum: Autovacuum | undefined;
  try {
    const port = await freePort();
    // BENCH_PROFILE=<dir>: the service writes a V8 CPU profile there when it stops.
    const profile = process.env.BENCH_PROFILE
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
      : [];
    const service = await startProcess('service', process.execPath, [...profile, 'dist/main.js', 'all'], {
      env: {
        DATABASE_URL: databaseUrl(database),
        HOST: '127.0.0.1',
        PORT: String(port),
        RATE_LIMIT_RPS: '0',
        LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
        LOG_LEVEL: 'warn',
        POSVENDA_ADMIN_KEY: ADMIN_KEY,
        QUEUE_PREFIX: prefix,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WORKER_CONCURRENCY: String(CONCURRENCY),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
      },
      port,
      readyPath: '/readyz',
    });
    running.push(service);
    await client.connect();
    connected = true;
    const fx = await prepare(service, sink, client);
    autovacuum = await startAutovacuum(database);

    process.stdout.write(`floor: a no-op BullMQ worker, concurrency ${CONCURRENCY}, ${TOUCHPOINTS} jobs…\n`);
    const redis = redisPid();
    const floorMeter = await startCpuMeter({ worker: process.pid, redis });
    const floor = await floorRun(redisUrl, floorPrefix);
    const floorCpu = await floorMeter.stop();
    const floorCpuPerJob = ((floorCpu.worker ?? 0) + (floorCpu.redis ?? 0)) / TOUCHPOINTS;
    process.stdout.write(
      `  ${fmt(floor)} jobs/s; CPU per job ${fmt(floorCpuPerJob, 3)} ms ${cpuDetail(floorCpu)}\n`,
    );
    if (WARMUP > 0) {
      const warm = await throughputRun(client, fx, 'warm-up', WARMUP);
      process.stdout.write(`  ${warm.sent} sent in ${fmt(warm.seconds, 1)} s (not counted)\n`);
      await autovacuum.pass();
    }
    const meter = await startCpuMeter({ service: service.pid, redis }, { client, database });
    const throughput = await throughputRun(client, fx, 'throughput', TOUCHPOINTS);
    await warnIfHorizonHeld('throughput', database);
    const cpu = await meter.stop();
    const cpuPerTouchpoint =
      ((cpu.service ?? 0) + (cpu.redis ?? 0) + (cpu.postgres ?? 0)) / Math.max(1, throughput.sent);
    process.stdout.write(
      `  ${throughput.sent} sent in ${fmt(throughput.seconds, 1)} s: ${fmt(throughput.perSecond)}/s; ` +
        `CPU per touchpoint ${fmt(cpuPerTouchpoint, 2)} ms ${cpuDetail(cpu)}\n`,
    );
    const lag = await lagRun(client, fx);
    await warnIfHorizonHeld('lag', database);

    const ratio = throughput.perSecond / floor;
    const ratioOk = throughput.complete && ratio >= 0.5;
    const lagOk = lag.sent === lag.expected && lag.p99 <= 1000;
    process.stdout.write(
      `\ndispatch — webhook touchpoints to a local sink, WORKER_CONCURRENCY ${CONCURRENCY}, ` +
        `one \`node dist/main.js all\`\n\n`,
    );
    table([
      ['measure', 'value', 'target', 'result'],
      ['floor: no-op BullMQ worker, jobs/s', fmt(floor), '', ''],
      [
        `webhook touchpoints/s (${throughput.sent} of ${TOUCHPOINTS} sent)`,
        fmt(throughput.perSecond),
        '',
        '',
      ],
      ['ratio to the floor', `${fmt(ratio, 2)}×`, '≥ 0.5×', ratioOk ? 'pass' : 'FAIL'],
      ['floor CPU per job (worker + Redis)', `${fmt(floorCpuPerJob, 3)} ms`, '', ''],
      ['CPU per touchpoint (service + Postgres + Redis)', `${fmt(cpuPerTouchpoint, 2)} ms`, '', ''],
      ['CPU ratio (floor per job ÷ per touchpoint)', `${fmt(floorCpuPerJob / cpuPerTouchpoint, 3)}×`, '', ''],
      [
        `due→sent lag p50 at ${LAG_RATE}/s (${lag.sent} of ${lag.expected} sent)`,
        `${fmt(lag.p50)} ms`,
        '',
        '',
      ],
      [
        `due→sent lag p99 (max ${fmt(lag.max)} ms)`,
        `${fmt(lag.p99)} ms`,
        '≤ 1,000 ms',
        lagOk ? 'pass' : 'FAIL',
      ],
    ]);
    process.stdout.write(
      `sink: ${sink.received} requests, ${sink.verified} signatures verified, ${sink.badSignatures} bad\n`,
    );
    return ratioOk && lagOk && sink.badSignatures === 0;
  } finally {
    await autovacuum?.stop();
    for (const process of running.reverse()) await process.stop();
    if (connected) await client.end().catch(() => {});
    await sink.close();
    await clearRedis(redisUrl, [prefix, floorPrefix]).catch(() => {});
    await dropDatabase(database);
  }
}
