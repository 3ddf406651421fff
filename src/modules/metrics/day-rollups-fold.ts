import type { Logger } from 'pino';
import type { Database } from '../../db/client.js';
import type { PeriodicTask } from '../../queue/periodic.js';
import { foldMetricDays } from './day-rollups.repository.js';

/** How often the day rollups' delta rows are folded: reads stay exact either way, only shorter. */
export const FOLD_INTERVAL_MS = 60_000;

/**
 * Folds the day rollups (purchase_days, contact_days): writers only insert delta rows, so no
 * transaction waits on another's day row; this loop keeps each day at about one row. Safe to
 * overlap with another worker's round (see fold_metric_days()).
 */
export function metricDaysFoldTask(deps: { readonly db: Database; readonly log: Logger }): PeriodicTask {
  return {
    name: 'metric-days-fold',
    intervalMs: FOLD_INTERVAL_MS,
    async run() {
      const removed = await foldMetricDays(deps.db);
      if (removed > 0) deps.log.debug({ removed }, 'metric day rollups folded');
    },
  };
}
