import type { Deps } from '../../src/deps.js';
import { PeriodicHost, type PeriodicTask } from '../../src/queue/periodic.js';
import { type QueueConsumer, WorkerHost } from '../../src/queue/worker-host.js';
import { periodicTasks, queueConsumers } from '../../src/workers.js';

export interface TestWorker {
  readonly host: WorkerHost;
  readonly periodic: PeriodicHost;
  /** Runs one round of a periodic task now, e.g. the pump, instead of waiting for its timer. */
  runNow(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface TestWorkerOptions {
  /** Defaults to the production consumers of `deps`. */
  readonly consumers?: readonly QueueConsumer[];
  /** Defaults to the production periodic tasks of `deps`. */
  readonly tasks?: readonly PeriodicTask[];
  /** Start the periodic timers (default false: tests drive rounds with runNow). */
  readonly timers?: boolean;
}

/** The worker side of a test app, in-process, on the same deps (database, Redis prefix, clock). */
export function startTestWorker(deps: Deps, options: TestWorkerOptions = {}): TestWorker {
  const host = new WorkerHost({
    redisUrl: deps.config.redisUrl,
    prefix: deps.config.queuePrefix,
    concurrency: deps.config.workerConcurrency,
    log: deps.log,
  });
  host.start(options.consumers ?? queueConsumers(deps));
  const periodic = new PeriodicHost(deps.log);
  const tasks = options.tasks ?? periodicTasks(deps);
  if (options.timers) periodic.start(tasks);
  else periodic.register(tasks);
  return {
    host,
    periodic,
    runNow: (name) => periodic.runNow(name),
    close: async () => {
      await Promise.allSettled([host.close(), periodic.close()]);
    },
  };
}
