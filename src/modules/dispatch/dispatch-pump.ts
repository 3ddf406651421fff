import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import type { PeriodicTask } from '../../queue/periodic.js';
import { lockDueTouchpoints, markQueued, touchpointsAwaitingJobs } from './dispatch-pump.repository.js';
import { type DispatchJobData, type DispatchJobPolicy, dispatchJobs, withinMs } from './dispatch-queue.js';

export interface PumpContext {
  readonly db: Database;
  readonly clock: Clock;
  readonly queue: Queue<DispatchJobData>;
  readonly horizonMs: number;
  readonly policy: DispatchJobPolicy;
}

const BATCH = 500;
const REDIS_TIMEOUT_MS = 5000;
/** Batches per round at most, so one round cannot run unbounded; the next round continues. */
const MAX_BATCHES = 20;

/**
 * Hands touchpoints due within the horizon to Redis as delayed jobs and marks them queued.
 * Jobs are added inside the transaction that locked the rows, before it commits: a crash
 * before the commit leaves the rows scheduled (the next round adds them again, a no-op for
 * jobs already there, since the job id is fixed), and a job that starts before the commit
 * waits on the row lock and then sees `queued`. Returns how many it queued.
 */
export async function pumpDueTouchpoints(ctx: PumpContext): Promise<number> {
  let total = 0;
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const now = ctx.clock.now();
    const until = new Date(now.getTime() + ctx.horizonMs);
    const count = await ctx.db.transaction().execute(async (trx) => {
      const due = await lockDueTouchpoints(trx, until, BATCH);
      if (due.length === 0) return 0;
      await withinMs(
        ctx.queue.addBulk(dispatchJobs(due, now, ctx.policy)),
        REDIS_TIMEOUT_MS,
        'queueing jobs',
      );
      await markQueued(trx, due, now);
      return due.length;
    });
    total += count;
    if (count < BATCH) break;
  }
  return total;
}

/** How long a `sending` email may sit untouched before recovery assumes its worker is gone. */
export const SENDING_IDLE_MS = 2 * 60 * 1000;

/**
 * Re-adds the job of every touchpoint that should have one in Redis and has not (Redis was
 * flushed or replaced): Postgres is the record, Redis only the near-term work. Only job keys
 * are probed, so the cost follows what is queued (the horizon), not the whole calendar.
 */
export async function recoverLostJobs(ctx: PumpContext): Promise<number> {
  let after: { workspaceId: string; id: string } | undefined;
  let recovered = 0;
  for (;;) {
    const now = ctx.clock.now();
    const rows = await touchpointsAwaitingJobs(ctx.db, {
      sendingIdleSince: new Date(now.getTime() - SENDING_IDLE_MS),
      after,
      limit: BATCH,
    });
    if (rows.length === 0) break;
    const jobs = dispatchJobs(rows, now, ctx.policy);
    // BullMQ types its client loosely; it is the ioredis connection the queue was given.
    const client = (await withinMs(ctx.queue.client, REDIS_TIMEOUT_MS, 'reaching Redis')) as unknown as Redis;
    const pipeline = client.pipeline();
    for (const job of jobs) pipeline.exists(ctx.queue.toKey(String(job.opts.jobId)));
    const exists = (await withinMs(pipeline.exec(), REDIS_TIMEOUT_MS, 'probing jobs')) ?? [];
    const missing = jobs.filter((_, i) => exists[i]?.[1] === 0);
    if (missing.length > 0) await withinMs(ctx.queue.addBulk(missing), REDIS_TIMEOUT_MS, 'queueing jobs');
    recovered += missing.length;
    const last = rows[rows.length - 1];
    after = last && { workspaceId: last.workspaceId, id: last.id };
    if (rows.length < BATCH) break;
  }
  return recovered;
}

/** The pump as a periodic task of the worker: every second. */
export function dispatchPumpTask(ctx: PumpContext): PeriodicTask {
  return { name: 'dispatch-pump', intervalMs: 1000, run: async () => void (await pumpDueTouchpoints(ctx)) };
}

/** Recovery as a periodic task: at worker start (the host's first round) and every 30 s. */
export function dispatchRecoveryTask(ctx: PumpContext): PeriodicTask {
  return {
    name: 'dispatch-recovery',
    intervalMs: 30_000,
    run: async () => void (await recoverLostJobs(ctx)),
  };
}
