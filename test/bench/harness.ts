// Shared pieces of the benchmarks: real processes on 127.0.0.1, a scratch database,
// autocannon runs and the result table. Nothing here talks to anything but loopback.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';

export const ROOT = new URL('../../', import.meta.url).pathname;

/** The Postgres and Redis the benchmark uses: DATABASE_URL/REDIS_URL or the defaults. */
export function baseConfig() {
  const loaded = loadConfig(process.env);
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  return loaded.config;
}

export function databaseUrl(name: string): string {
  const url = new URL(baseConfig().databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/**
 * The oldest transaction open on the server (any database), when one has been open for more
 * than a few seconds. A long transaction anywhere holds back the horizon Postgres prunes dead
 * rows by, in every database: queue-like tables (outbox, deliveries, touchpoint statuses) then
 * keep every old row version in their indexes and each look at them reads the whole churn, so
 * figures measured meanwhile are not this build's. The benchmarks print it as a warning.
 */
export async function horizonHolder(ownDatabase?: string): Promise<string | undefined> {
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string; seconds: number; query: string }>(
      `SELECT datname, extract(epoch FROM now() - xact_start)::int AS seconds, left(query, 60) AS query
       FROM pg_stat_activity
       WHERE (backend_xid IS NOT NULL OR backend_xmin IS NOT NULL) AND pid <> pg_backend_pid()
         AND xact_start < now() - interval '10 seconds' AND datname IS DISTINCT FROM $1
       ORDER BY xact_start LIMIT 1`,
      [ownDatabase ?? null],
    );
    const row = rows[0];
    return row ? `a transaction in ${row.datname} open for ${row.seconds} s (${row.query}…)` : undefined;
  } finally {
    await admin.end();
  }
}

/**
 * Prints a warning when a transaction outside the benchmark's own database holds back vacuum
 * (see horizonHolder); the service's own long transactions are part of what is measured.
 */
export async function warnIfHorizonHeld(phase: string, ownDatabase: string): Promise<void> {
  const holder = await horizonHolder(ownDatabase).catch(() => undefined);
  if (holder)
    process.stdout.write(`  WARNING (${phase}): ${holder} holds back vacuum; these figures are skewed\n`);
}

export interface Autovacuum {
  /** One pass now: what autovacuum's rule says is due. */
  pass(): Promise<void>;
  /** Stops it and prints what it did. */
  stop(): Promise<void>;
}

/** Seconds between the stand-in's passes (the server's own default is 60). */
const AUTOVACUUM_NAP_MS = Number(process.env.BENCH_AUTOVACUUM_NAP_S ?? 10) * 1000;

/**
 * Autovacuum's work on the benchmark's database, for a server that runs without it (the CI
 * machines' Postgres has `autovacuum = off`). Without it nothing is ever analyzed, and every
 * plan Postgres caches for a connection — foreign-key checks, PL/pgSQL statements, prepared
 * statements — stays the one made while the tables were empty: measured here, the foreign-key
 * check of each touchpoint and enrollment walked every customer of the workspace (0.6 ms each,
 * growing with the table), which a production server, analyzing as tables grow, never does.
 * Each pass applies autovacuum's own rule with the default settings: analyze a table once
 * 50 rows + 10 % of it changed, vacuum it once 50 rows + 20 % are dead or 1,000 rows + 20 %
 * were inserted, with autovacuum's cost-based throttling. Passes run every
 * `BENCH_AUTOVACUUM_NAP_S` seconds (default 10, shorter than the server's minute because the
 * runs last seconds and start on an empty database) and whenever a benchmark asks (after a
 * warm-up). When the server has autovacuum on, it does nothing; `BENCH_AUTOVACUUM=off` turns it
 * off (to see what it changes).
 */
export async function startAutovacuum(database: string): Promise<Autovacuum> {
  const counts = { vacuumed: 0, analyzed: 0 };
  const client = new pg.Client({ connectionString: databaseUrl(database) });
  await client.connect();
  const { rows } = await client.query<{ autovacuum: string }>('SHOW autovacuum');
  if (rows[0]?.autovacuum === 'on' || process.env.BENCH_AUTOVACUUM === 'off') {
    await client.end();
    return { pass: async () => {}, stop: async () => {} };
  }
  await client.query("SET vacuum_cost_delay = '2ms'; SET vacuum_cost_limit = 200");
  let stopped = false;
  // One pass at a time: the timer's and a benchmark's share the client.
  let running: Promise<void> = Promise.resolve();
  const runPass = async () => {
    const { rows: due } = await client.query<{ relname: string; vacuum: boolean; analyze: boolean }>(
      `SELECT * FROM (
         SELECT relname,
                n_dead_tup > 50 + 0.2 * n_live_tup OR n_ins_since_vacuum > 1000 + 0.2 * n_live_tup AS vacuum,
                n_mod_since_analyze > 50 + 0.1 * n_live_tup AS analyze
         FROM pg_stat_user_tables) t
       WHERE vacuum OR "analyze"`,
    );
    for (const table of due) {
      if (stopped) return;
      const target = `"${table.relname}"`;
      await client.query(
        table.vacuum ? `VACUUM ${table.analyze ? '(ANALYZE) ' : ''}${target}` : `ANALYZE ${target}`,
      );
      if (table.vacuum) counts.vacuumed++;
      if (table.analyze) counts.analyzed++;
    }
  };
  const pass = () => {
    running = running.then(runPass).catch(() => {});
    return running;
  };
  const timer = setInterval(() => void pass(), AUTOVACUUM_NAP_MS);
  return {
    pass,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
      await client.end().catch(() => {});
      process.stdout.write(
        `autovacuum stand-in: ${counts.analyzed} analyze(s), ${counts.vacuumed} vacuum(s)\n`,
      );
    },
  };
}

export function build(): void {
  process.stdout.write('building (npm run build)…\n');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface RunningProcess {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts a process that serves HTTP on `port`, and waits until `readyPath` answers 200. */
export async function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: { readonly env: Record<string, string>; readonly port: number; readonly readyPath: string },
): Promise<RunningProcess> {
  const child: ChildProcess = spawn(command, [...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The service logs (pino, to stdout) only what its LOG_LEVEL lets through: show it.
  child.stdout?.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk}`));
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk}`));
  const url = `http://127.0.0.1:${options.port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was ready`);
    try {
      const response = await fetch(`${url}${options.readyPath}`);
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready within 60 s`);
    }
    await sleep(200);
  }
  return {
    url,
    pid: child.pid ?? 0,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

export interface Measured {
  /** Items (events) per second, counting only 2xx answers. */
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
}

export interface LoadOptions {
  readonly url: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly connections: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** Items each request carries (1, or the batch size). */
  readonly itemsPerRequest: number;
  /** A fresh body per request. */
  readonly body: () => string;
  /** Runs between the warm-up and the measured run. */
  readonly afterWarmup?: () => Promise<void>;
}

async function cannon(options: LoadOptions, seconds: number) {
  return autocannon({
    url: options.url,
    connections: options.connections,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: options.path,
        headers: { 'content-type': 'application/json', ...options.headers },
        setupRequest: (request) => ({ ...request, body: options.body() }),
      },
    ],
  });
}

/** Warms up, then loads the target for `seconds` and reports items/s and latency. */
export async function measure(options: LoadOptions): Promise<Measured> {
  await cannon(options, options.warmupSeconds);
  await options.afterWarmup?.();
  const result = await cannon(options, options.seconds);
  return {
    perSecond: (result['2xx'] * options.itemsPerRequest) / options.seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

export interface Row {
  readonly name: string;
  readonly measured: Measured;
  readonly floor?: Measured;
  /** Minimum ratio to the floor, and maximum p99 (ms) when there is one. */
  readonly target?: { readonly ratio: number; readonly p99?: number };
}

const fmt = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Prints the result table; returns whether every row met its target. */
export function printTable(title: string, rows: readonly Row[]): boolean {
  const header = ['benchmark', 'events/s', 'p50 ms', 'p99 ms', 'floor events/s', 'ratio', 'target', 'result'];
  let allPass = true;
  const lines = rows.map((row) => {
    const ratio = row.floor ? row.measured.perSecond / row.floor.perSecond : undefined;
    let result = '';
    let target = '';
    if (row.target && ratio !== undefined) {
      const ratioOk = ratio >= row.target.ratio;
      const p99Ok = row.target.p99 === undefined || row.measured.p99 <= row.target.p99;
      target = `≥ ${row.target.ratio}×${row.target.p99 === undefined ? '' : `, p99 ≤ ${row.target.p99} ms`}`;
      result = ratioOk && p99Ok ? 'pass' : 'FAIL';
      allPass &&= ratioOk && p99Ok;
    }
    const failures = row.measured.non2xx + row.measured.errors;
    return [
      row.name + (failures > 0 ? ` (${failures} non-2xx/errors)` : ''),
      fmt(row.measured.perSecond),
      fmt(row.measured.p50, 1),
      fmt(row.measured.p99, 1),
      row.floor ? fmt(row.floor.perSecond) : '',
      ratio === undefined ? '' : `${fmt(ratio, 2)}×`,
      target,
      result,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`\n${title}\n\n`);
  process.stdout.write(`${line(header)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n`);
  for (const cells of lines) process.stdout.write(`${line(cells)}\n`);
  process.stdout.write('\n');
  return allPass;
}
