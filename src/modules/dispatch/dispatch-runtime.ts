import type { Deps } from '../../deps.js';
import type { PeriodicTask } from '../../queue/periodic.js';
import type { QueueConsumer } from '../../queue/worker-host.js';
import { dispatchConsumer } from './dispatch.jobs.js';
import { createDispatchGroups, type DispatchContext } from './dispatch.service.js';
import { dispatchMetrics } from './dispatch-metrics.js';
import { dispatchPumpTask, dispatchRecoveryTask, type PumpContext } from './dispatch-pump.js';
import { dispatchQueue } from './dispatch-queue.js';
import { smtpSender } from './email-sender.js';

const contexts = new WeakMap<Deps, DispatchContext>();

/** The dispatcher's context for a worker's deps: one pooled SMTP transport and one group commit per deps. */
export function dispatchContext(deps: Deps): DispatchContext {
  let ctx = contexts.get(deps);
  if (!ctx) {
    const base: DispatchContext = {
      db: deps.db,
      clock: deps.clock,
      log: deps.log,
      publicUrl: deps.config.publicUrl,
      emailFrom: deps.config.emailFrom,
      signingKey: () => deps.secrets.signingKey(),
      email: deps.config.smtpUrl ? smtpSender(deps.config.smtpUrl) : undefined,
      metrics: dispatchMetrics(deps.metrics),
    };
    ctx = { ...base, groups: createDispatchGroups(base) };
    contexts.set(deps, ctx);
  }
  return ctx;
}

function pumpContext(deps: Deps): PumpContext {
  return {
    db: deps.db,
    clock: deps.clock,
    queue: dispatchQueue(deps.redis, deps.config.queuePrefix),
    horizonMs: deps.config.dispatchHorizonMs,
    policy: { attempts: deps.config.dispatchAttempts, backoffMs: deps.config.dispatchBackoffMs },
  };
}

/**
 * The dispatch queue's consumer. Its SMTP pool closes with the consumer, after the worker has
 * let its running jobs finish: closing it any earlier (with the periodic tasks, which stop at
 * the same time) fails the sends still in flight or queued in the pool.
 */
export function dispatchConsumers(deps: Deps): readonly QueueConsumer[] {
  const ctx = dispatchContext(deps);
  return [
    {
      ...dispatchConsumer(ctx),
      close: async () => {
        ctx.email?.close();
        if (contexts.get(deps) === ctx) contexts.delete(deps);
      },
    },
  ];
}

/** The pump and the recovery. */
export function dispatchTasks(deps: Deps): readonly PeriodicTask[] {
  const pump = pumpContext(deps);
  return [dispatchPumpTask(pump), dispatchRecoveryTask(pump)];
}
