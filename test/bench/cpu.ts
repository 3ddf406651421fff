// CPU time spent by processes over a phase of a benchmark, from /proc (Linux). On a shared
// machine wall-clock rates swing with whatever else runs; the CPU a piece of work costs does not
// (much), so the benchmarks print it beside the rates.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type pg from 'pg';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU milliseconds a process has used so far; 0 when it is gone or unreadable. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) in parentheses: utime is the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The pid of the Redis server, when it runs on this machine and `pidof` finds it. */
export function redisPid(): number | undefined {
  try {
    const pid = Number(execFileSync('pidof', ['redis-server']).toString().trim().split(' ')[0]);
    return Number.isFinite(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The server processes of the connections to one database (Postgres runs one per connection). */
async function backendPids(client: pg.Client, database: string): Promise<number[]> {
  const { rows } = await client.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [database],
  );
  return rows.map((r) => r.pid);
}

export interface CpuMeter {
  /** CPU milliseconds used since the meter started, by each measured party. */
  stop(): Promise<Record<string, number>>;
}

/**
 * Starts measuring the CPU of the given processes and, when `postgres` is given, of the Postgres
 * backends serving that database (backends that start during the phase count from zero; one
 * that ends during it is lost, so the Postgres figure is a floor).
 */
export async function startCpuMeter(
  processes: Record<string, number | undefined>,
  postgres?: { readonly client: pg.Client; readonly database: string },
): Promise<CpuMeter> {
  const before = Object.fromEntries(
    Object.entries(processes).map(([name, pid]) => [name, pid ? cpuMs(pid) : 0]),
  );
  const backendsBefore = new Map<number, number>();
  if (postgres)
    for (const pid of await backendPids(postgres.client, postgres.database))
      backendsBefore.set(pid, cpuMs(pid));
  return {
    stop: async () => {
      const used: Record<string, number> = {};
      for (const [name, pid] of Object.entries(processes))
        used[name] = pid ? cpuMs(pid) - (before[name] ?? 0) : 0;
      if (postgres) {
        let total = 0;
        for (const pid of await backendPids(postgres.client, postgres.database))
          total += cpuMs(pid) - (backendsBefore.get(pid) ?? 0);
        used.postgres = total;
      }
      return used;
    },
  };
}
