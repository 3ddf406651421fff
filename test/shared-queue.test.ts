import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatchQueue } from '../src/modules/dispatch/dispatch-queue.js';
import { webhookQueue } from '../src/modules/webhooks/webhooks.jobs.js';
import { createRedis } from '../src/queue/redis.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';
import { testEnv } from './helpers/test-env.js';

// A queue checks Redis's version when it is created. If the connection closes while that check
// waits for its answer (an app built and closed at once, Redis slow), the check fails; that
// failure must reach a listener, not become an unhandled rejection (which fails a test run and,
// in production, is logged as a crash).
describe('queues over a shared connection', () => {
  let proxy: TcpProxy | undefined;
  const rejections: unknown[] = [];
  const record = (reason: unknown) => rejections.push(reason);
  afterEach(async () => {
    process.off('unhandledRejection', record);
    rejections.length = 0;
    await proxy?.close();
  });

  /** A connection whose answers stop coming, a queue created on it, then the connection closed. */
  async function closedDuringCheck(open: (redis: Redis) => Queue | Promise<Queue>): Promise<unknown[]> {
    process.on('unhandledRejection', record);
    const url = new URL(testEnv().redisUrl);
    proxy = await startTcpProxy(url.hostname, Number(url.port || 6379));
    const redis = createRedis(`redis://127.0.0.1:${proxy.port}`, 'producer');
    await redis.connect();
    proxy.stall();
    await open(redis);
    redis.disconnect();
    // Unhandled rejections are reported once the microtasks that could handle them have run.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return [...rejections];
  }

  it('the webhook and dispatch queues take the failed check: no unhandled rejection', async () => {
    const { prefix } = testEnv();
    expect(
      await closedDuringCheck((redis) => {
        dispatchQueue(redis, prefix);
        return webhookQueue(redis, prefix);
      }),
    ).toEqual([]);
  });

  it('are one per connection: every user gets the same queue', async () => {
    const { redisUrl, prefix } = testEnv();
    const redis = createRedis(redisUrl, 'producer');
    const other = createRedis(redisUrl, 'producer');
    try {
      expect(webhookQueue(redis, prefix)).toBe(webhookQueue(redis, prefix));
      expect(webhookQueue(other, prefix)).not.toBe(webhookQueue(redis, prefix));
      expect(dispatchQueue(redis, prefix)).not.toBe(webhookQueue(redis, prefix));
    } finally {
      redis.disconnect();
      other.disconnect();
    }
  });

  it('(why) a queue closed during its check leaves that failure unhandled', async () => {
    const found = await closedDuringCheck(async (redis) => {
      const queue = new Queue('closed-early', { connection: redis, prefix: testEnv().prefix });
      await queue.close();
      return queue;
    });
    expect(found.length).toBeGreaterThan(0);
    expect(String(found[0])).toContain('Connection is closed');
  });
});
