import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { withinMs } from './dispatch-queue.js';

/** What the dispatcher reports to Prometheus. */
export interface DispatchMetrics {
  /** Seconds from due_at to the SMTP server's acceptance (or hand-off for other channels). */
  readonly lag: Histogram<'channel'>;
  /** Touchpoints leaving dispatch, by channel and the status they reached (or `postponed`). */
  readonly outcomes: Counter<'channel' | 'status'>;
}

const byRegistry = new WeakMap<Registry, DispatchMetrics>();

/** The dispatch metrics of a registry, created once (the API and worker share it in `all`). */
export function dispatchMetrics(registry: Registry): DispatchMetrics {
  let metrics = byRegistry.get(registry);
  if (!metrics) {
    metrics = {
      lag: new Histogram({
        name: 'posvenda_dispatch_lag_seconds',
        help: 'Delay from a touchpoint being due to it being sent (email accepted by SMTP, webhook or task handed on)',
        labelNames: ['channel'] as const,
        buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
        registers: [registry],
      }),
      outcomes: new Counter({
        name: 'posvenda_dispatch_outcomes_total',
        help: 'Touchpoints the dispatcher settled, by channel and resulting status (postponed: moved by a cap or quiet hours)',
        labelNames: ['channel', 'status'] as const,
        registers: [registry],
      }),
    };
    byRegistry.set(registry, metrics);
  }
  return metrics;
}

const watched = new WeakSet<Registry>();
const STATES = ['waiting', 'delayed', 'active'] as const;

/** A gauge of waiting, delayed and active jobs per queue, read from Redis on each scrape. */
export function watchQueueDepths(registry: Registry, queues: readonly Queue[]): void {
  if (watched.has(registry)) return;
  watched.add(registry);
  new Gauge({
    name: 'posvenda_queue_jobs',
    help: 'Jobs in each BullMQ queue by state (waiting, delayed, active), read at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of queues) {
        // Redis being away must not fail the whole scrape: the gauge is simply absent then.
        const counts = await withinMs(queue.getJobCounts(...STATES), 1000, 'counting jobs').catch(
          () => undefined,
        );
        if (!counts) continue;
        // BullMQ folds `paused` into waiting's answer; report only the states asked for.
        for (const state of STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
      }
    },
  });
}
