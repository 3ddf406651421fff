import type { JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { sharedQueue } from '../../queue/shared-queue.js';

/** The BullMQ queue of touchpoints due within the horizon. */
export const DISPATCH_QUEUE = 'dispatch';

/** A dispatch job carries ids only (STYLE: no personal data in Redis). */
export interface DispatchJobData {
  readonly workspaceId: string;
  readonly touchpointId: string;
  /** The due time the job was queued for: a job for an older due time is stale and does nothing. */
  readonly dueAtMs: number;
  /**
   * The touchpoint's customer (it never changes), whose row the job locks first; saves looking
   * it up. Jobs queued before it was carried lack it, and look it up.
   */
  readonly customerId?: string;
}

/** What the pump and the recovery hand to Redis for one touchpoint. */
export interface DueTouchpoint {
  readonly workspaceId: string;
  readonly id: string;
  readonly customerId: string;
  readonly dueAt: Date;
}

/**
 * The job id: the touchpoint (workspace-qualified, as every key is) and the due time it was
 * queued for. Adding the same touchpoint twice for the same due time is a no-op in BullMQ;
 * a touchpoint postponed to a new due time gets a new job even while its old one is still
 * finishing. BullMQ refuses ":" in custom ids, hence the dots.
 */
export function dispatchJobId(t: DueTouchpoint): string {
  return `${t.workspaceId}.${t.id}.${t.dueAt.getTime()}`;
}

export interface DispatchJobPolicy {
  /** Attempts for retryable failures (SMTP 4xx, connection errors). */
  readonly attempts: number;
  /** First retry delay; exponential after that. */
  readonly backoffMs: number;
}

/** The add-job arguments for touchpoints, delayed until their due time (never negative). */
export function dispatchJobs(touchpoints: readonly DueTouchpoint[], now: Date, policy: DispatchJobPolicy) {
  return touchpoints.map((t) => {
    const opts: JobsOptions = {
      jobId: dispatchJobId(t),
      delay: Math.max(0, t.dueAt.getTime() - now.getTime()),
      attempts: policy.attempts,
      backoff: { type: 'exponential', delay: policy.backoffMs },
      // Outcomes live in Postgres (status, touchpoint_attempts); Redis keeps only live work.
      removeOnComplete: true,
      removeOnFail: true,
    };
    const data: DispatchJobData = {
      workspaceId: t.workspaceId,
      touchpointId: t.id,
      dueAtMs: t.dueAt.getTime(),
      customerId: t.customerId,
    };
    return { name: 'dispatch', data, opts };
  });
}

/** The dispatch queue over a producer connection; one per connection, shared by its users. */
export function dispatchQueue(redis: Redis, prefix: string): Queue<DispatchJobData> {
  return sharedQueue(redis, DISPATCH_QUEUE, prefix);
}

/**
 * Rejects when `promise` takes longer than `ms`. BullMQ waits for a Redis connection rather than
 * failing, and the pump must not hold its row locks (nor a scrape hang) while Redis is away.
 */
export async function withinMs<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} took longer than ${ms} ms (is Redis reachable?)`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
