import { type Job, UnrecoverableError } from 'bullmq';
import type { QueueConsumer } from '../../queue/worker-host.js';
import { type DispatchContext, dispatchTouchpoint, failAfterError } from './dispatch.service.js';
import { DISPATCH_QUEUE, type DispatchJobData } from './dispatch-queue.js';

/**
 * The dispatch consumer: unpacks ids and calls the service. A permanent refusal (SMTP 5xx) is
 * recorded and ends the job without retries; a temporary one is recorded as an attempt and
 * thrown, so BullMQ retries it with backoff; after the last attempt the touchpoint is failed.
 */
export function dispatchConsumer(ctx: DispatchContext): QueueConsumer {
  return {
    queue: DISPATCH_QUEUE,
    // A killed worker's sends are picked up within ~15 s rather than BullMQ's default 30–60 s.
    // Locks are renewed every 5 s while a job runs, so only a worker that is gone (or blocked
    // for 10 s) loses its jobs; a job taken over resends with the same Message-ID.
    takeover: { lockDuration: 10_000, stalledInterval: 5_000 },
    processor: async (job: Job<DispatchJobData>) => {
      const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      let outcome: Awaited<ReturnType<typeof dispatchTouchpoint>>;
      try {
        outcome = await dispatchTouchpoint(ctx, job.data, { final });
      } catch (error) {
        if (final)
          await failAfterError(ctx, job.data, error instanceof Error ? error.message : String(error));
        throw error;
      }
      if (outcome.kind === 'rejected') throw new UnrecoverableError(outcome.error);
      if (outcome.kind === 'retry') throw new Error(outcome.error);
      return outcome;
    },
  };
}
