import type { Deps } from '../deps.js';
import { dispatchConsumers, dispatchTasks } from '../modules/dispatch/dispatch-runtime.js';
import { webhookConsumer, webhookTasks } from '../modules/webhooks/webhooks.jobs.js';
import type { PeriodicTask } from './periodic.js';
import type { QueueConsumer } from './worker-host.js';

/** The queues the `worker` command consumes; each capability adds its consumers here. */
export function queueConsumers(deps: Deps): readonly QueueConsumer[] {
  return [...dispatchConsumers(deps), webhookConsumer(deps)];
}

/** The loops the `worker` command runs besides its queues; each capability adds its own here. */
export function periodicTasks(deps: Deps): readonly PeriodicTask[] {
  return [...dispatchTasks(deps), ...webhookTasks(deps)];
}
