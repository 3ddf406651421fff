import { Counter, Histogram, type Registry } from 'prom-client';

export interface WebhookMetrics {
  /** Attempts by outcome: succeeded, retrying, failed (attempts exhausted), gone (410), cancelled (endpoint off meanwhile). */
  readonly deliveries: Counter<'status' | 'endpoint'>;
  /** Time from request to complete response, for attempts that got one. */
  readonly duration: Histogram;
  /** Rows the retention task removed: deliveries, outbox events, rotated-out secrets. */
  readonly pruned: Counter<'kind'>;
}

const DELIVERIES = 'posvenda_webhook_deliveries_total';
const DURATION = 'posvenda_webhook_delivery_duration_seconds';
const PRUNED = 'posvenda_webhook_pruned_total';

/** The webhook metrics in `registry`, created once per registry (the worker and tests share one). */
export function webhookMetrics(registry: Registry): WebhookMetrics {
  const deliveries =
    (registry.getSingleMetric(DELIVERIES) as Counter<'status' | 'endpoint'> | undefined) ??
    new Counter({
      name: DELIVERIES,
      help: 'Webhook delivery attempts by outcome (succeeded, retrying, failed, gone, cancelled) and endpoint id',
      labelNames: ['status', 'endpoint'] as const,
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric(DURATION) as Histogram | undefined) ??
    new Histogram({
      name: DURATION,
      help: 'Webhook delivery attempt duration, request to complete response',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
      registers: [registry],
    });
  const pruned =
    (registry.getSingleMetric(PRUNED) as Counter<'kind'> | undefined) ??
    new Counter({
      name: PRUNED,
      help: 'Rows the retention task removed, by kind (delivery, outbox_event, secret)',
      labelNames: ['kind'] as const,
      registers: [registry],
    });
  return { deliveries, duration, pruned };
}
