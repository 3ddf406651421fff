import type { Deps } from '../deps.js';
import type { QueueConsumer } from './worker-host.js';

/**
 * The queues the `worker` command consumes. Empty until the dispatch capability lands;
 * each later capability adds its consumers here.
 */
export function queueConsumers(_deps: Deps): readonly QueueConsumer[] {
  return [];
}
