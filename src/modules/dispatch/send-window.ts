import { afterQuietHours, type QuietHours } from '../../rules/calendar.js';
import type { FrequencyCap } from '../workspaces/settings.js';

export const DAY_MS = 24 * 60 * 60 * 1000;
export const WEEK_MS = 7 * DAY_MS;

/** The widest window a cap looks back over. */
export const CAP_LOOKBACK_MS = WEEK_MS;

/**
 * The earliest moment at or after `now` when one more send keeps the customer within the cap,
 * given the times of their recent sends (any order). Windows are rolling: "1 a day" means no
 * two within 24 hours, "3 a week" no four within 7 days. Undefined when a limit is 0 (never).
 */
export function nextSlotWithinCap(now: Date, sends: readonly Date[], cap: FrequencyCap): Date | undefined {
  const newestFirst = [...sends].sort((a, b) => b.getTime() - a.getTime());
  let slot = now.getTime();
  for (const [limit, windowMs] of [
    [cap.per_day, DAY_MS],
    [cap.per_week, WEEK_MS],
  ] as const) {
    if (limit === null) continue;
    if (limit <= 0) return undefined;
    const inWindow = newestFirst.filter((at) => at.getTime() > now.getTime() - windowMs);
    // The limit-th newest send must leave the window before another one fits.
    const blocking = inWindow[limit - 1];
    if (blocking) slot = Math.max(slot, blocking.getTime() + windowMs);
  }
  return new Date(slot);
}

/** Where a send may go: after the cap allows it, then out of quiet hours (local to `zone`). */
export function nextSendSlot(
  now: Date,
  sends: readonly Date[],
  cap: FrequencyCap,
  quiet: QuietHours | null,
  zone: string,
): { readonly at: Date; readonly reason: 'frequency_cap' | 'quiet_hours' | null } | undefined {
  const capped = nextSlotWithinCap(now, sends, cap);
  if (!capped) return undefined;
  const at = afterQuietHours(capped, zone, quiet);
  const reason =
    capped.getTime() > now.getTime() ? 'frequency_cap' : at.getTime() > now.getTime() ? 'quiet_hours' : null;
  return { at, reason };
}
