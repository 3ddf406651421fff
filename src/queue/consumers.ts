import type { Deps } from '../deps.js';
import { alertEvaluatorTask } from '../modules/alerts/alert-evaluator.js';
import type { PeriodicTask } from './periodic.js';
import type { QueueConsumer } from './worker-host.js';

/** The queues the `worker` command consumes; each capability adds its consumers here. */
export function queueConsumers(_deps: Deps): readonly QueueConsumer[] {
  return [];
}

/** The loops the `worker` command runs besides its queues; each capability adds its own here. */
export function periodicTasks(deps: Deps): readonly PeriodicTask[] {
  return [alertEvaluatorTask({ db: deps.db, clock: deps.clock, log: deps.log })];
}
