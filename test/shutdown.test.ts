import { Queue } from 'bullmq';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { WorkerHost } from '../src/queue/worker-host.js';
import { startTestApp } from './helpers/app.js';
import { testEnv } from './helpers/test-env.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('graceful shutdown', () => {
  it('finishes a request in flight when the server closes, and refuses new connections', async () => {
    let started!: () => void;
    const inFlight = new Promise<void>((resolve) => {
      started = resolve;
    });
    const t = await startTestApp({
      extend: (app) => {
        app.get('/slow', async () => {
          started();
          await sleep(400);
          return { done: true };
        });
      },
    });
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const pending = fetch(`${address}/slow`);
    await inFlight;
    const closing = t.close();
    const response = await pending;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ done: true });
    await closing;
    await expect(fetch(`${address}/healthz`)).rejects.toThrow();
  });

  it('lets a job in progress finish before the worker stops', async () => {
    const { redisUrl, prefix } = testEnv();
    const connection = { url: redisUrl };
    const queue = new Queue('shutdown-test', { connection, prefix });
    let began!: () => void;
    const running = new Promise<void>((resolve) => {
      began = resolve;
    });
    const host = new WorkerHost({ redisUrl, prefix, concurrency: 1, log: pino({ level: 'silent' }) });
    host.start([
      {
        queue: 'shutdown-test',
        processor: async () => {
          began();
          await sleep(400);
          return 'finished';
        },
      },
    ]);
    const job = await queue.add('slow', {});
    await running;
    await host.close();
    const after = await queue.getJob(job.id!);
    expect(await after?.getState()).toBe('completed');
    expect(after?.returnvalue).toBe('finished');
    await queue.close();
  });
});
