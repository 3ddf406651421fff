import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

const queues = new WeakMap<Redis, Map<string, Queue>>();

/**
 * The BullMQ queue `name` over a connection its owner closes (deps.redis): one per connection,
 * prefix and name, shared by its users, and never closed itself. Closing such a queue would
 * only drop its listeners, and BullMQ (5.x) drops them even while the queue's start-up check of
 * Redis is still in flight; when the connection then closes, that check fails with nobody
 * listening — an unhandled rejection. Kept open, the failure reaches the listener below.
 */
export function sharedQueue<T>(redis: Redis, name: string, prefix: string): Queue<T> {
  let byName = queues.get(redis);
  if (!byName) {
    byName = new Map();
    queues.set(redis, byName);
  }
  const key = `${prefix}\u0000${name}`;
  let queue = byName.get(key);
  if (!queue) {
    queue = new Queue(name, { connection: redis, prefix });
    // Errors surface on the calls that fail (a pump round, a scrape, an add); do not crash on them.
    queue.on('error', () => {});
    byName.set(key, queue);
  }
  return queue as Queue<T>;
}
