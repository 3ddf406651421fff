import { type Processor, Worker, type WorkerOptions } from 'bullmq';
import type { Logger } from 'pino';
import { createRedis } from './redis.js';

/** A queue the worker process consumes, and the processor that handles its jobs. */
export interface QueueConsumer {
  readonly queue: string;
  readonly processor: Processor;
  readonly concurrency?: number;
  /** How soon a dead worker's jobs are taken over (BullMQ's lock and stalled-check periods). */
  readonly takeover?: Pick<WorkerOptions, 'lockDuration' | 'stalledInterval'>;
  /** Optional: releases what the processor uses (an SMTP pool), once its jobs have finished. */
  close?(): Promise<void>;
}

export interface WorkerHostOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly concurrency: number;
  readonly log: Logger;
}

/** Runs one BullMQ worker per consumer; `close()` lets running jobs finish first. */
export class WorkerHost {
  private readonly workers: Worker[] = [];
  private consumers: readonly QueueConsumer[] = [];

  constructor(private readonly options: WorkerHostOptions) {}

  start(consumers: readonly QueueConsumer[]): void {
    this.consumers = [...this.consumers, ...consumers];
    for (const consumer of consumers) {
      const worker = new Worker(consumer.queue, consumer.processor, {
        connection: createRedis(this.options.redisUrl, 'worker'),
        prefix: this.options.prefix,
        concurrency: consumer.concurrency ?? this.options.concurrency,
        ...consumer.takeover,
      });
      worker.on('failed', (job, err) =>
        this.options.log.warn({ queue: consumer.queue, job_id: job?.id, err }, 'job failed'),
      );
      worker.on('error', (err) => this.options.log.error({ queue: consumer.queue, err }, 'worker error'));
      this.workers.push(worker);
    }
    this.options.log.info({ queues: consumers.map((c) => c.queue) }, 'worker started');
  }

  get size(): number {
    return this.workers.length;
  }

  /** Stops taking jobs, lets running ones finish, then closes what their processors used. */
  async close(): Promise<void> {
    await Promise.allSettled(this.workers.map((worker) => worker.close()));
    this.workers.length = 0;
    const consumers = this.consumers;
    this.consumers = [];
    await Promise.allSettled(consumers.map((consumer) => consumer.close?.()));
  }
}
