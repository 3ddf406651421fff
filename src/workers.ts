// What the `worker` command runs: every capability's queue consumers and periodic loops. It
// lives at the top, beside app.ts, because it wires modules together; src/queue/ stays
// infrastructure that knows no module.
import type { Deps } from './deps.js';
import { alertEvaluatorTask } from './modules/alerts/alert-evaluator.js';
import { dispatchConsumers, dispatchTasks } from './modules/dispatch/dispatch-runtime.js';
import { metricDaysFoldTask } from './modules/metrics/day-rollups-fold.js';
import { webhookConsumer, webhookTasks } from './modules/webhooks/webhooks.jobs.js';
import type { PeriodicTask } from './queue/periodic.js';
import type { QueueConsumer } from './queue/worker-host.js';

/** The queues the `worker` command consumes. */
export function queueConsumers(deps: Deps): readonly QueueConsumer[] {
  return [...dispatchConsumers(deps), webhookConsumer(deps)];
}

/** The loops the `worker` command runs besides its queues. */
export function periodicTasks(deps: Deps): readonly PeriodicTask[] {
  return [
    ...dispatchTasks(deps),
    ...webhookTasks(deps),
    alertEvaluatorTask({ db: deps.db, clock: deps.clock, log: deps.log }),
    metricDaysFoldTask({ db: deps.db, log: deps.log }),
  ];
}
