import { DateTime } from 'luxon';
import { AppError, type FieldError } from '../../errors.js';
import type { Window } from './metrics.repository.js';

export const INTERVALS = ['day', 'week', 'month'] as const;
export type Interval = (typeof INTERVALS)[number];

/** The default window: the last 30 days up to now. */
export const DEFAULT_WINDOW_DAYS = 30;
/** At most this many series points in one answer (a year of days). */
export const MAX_SERIES_POINTS = 366;

const DAY_MS = 24 * 60 * 60 * 1000;

/** One point of a series: the bucket's local start, and the part of the window it covers. */
export interface Bucket {
  readonly start: Date;
  readonly window: Window;
}

/** `from`/`to` of a query, defaulted; 422 when `from` is not before `to`. */
export function resolveWindow(query: { readonly from?: string; readonly to?: string }, now: Date): Window {
  const to = query.to === undefined ? now : new Date(query.to);
  const from =
    query.from === undefined ? new Date(to.getTime() - DEFAULT_WINDOW_DAYS * DAY_MS) : new Date(query.from);
  if (from.getTime() >= to.getTime()) {
    throw windowError(
      [{ path: '/querystring/from', message: 'must be before `to`' }],
      '`from` must be before `to`',
    );
  }
  return { from, to };
}

/** The previous window of equal length, ending where this one starts. */
export function previousWindow(w: Window): Window {
  return { from: new Date(2 * w.from.getTime() - w.to.getTime()), to: w.from };
}

/** Day for windows up to 31 days, week up to 190, month beyond: a readable number of points. */
export function defaultInterval(w: Window): Interval {
  const days = (w.to.getTime() - w.from.getTime()) / DAY_MS;
  return days <= 31 ? 'day' : days <= 190 ? 'week' : 'month';
}

/**
 * The window cut at local day, ISO-week (Monday) or month boundaries of `timezone`. A bucket's
 * `start` is its local period start (possibly before `from`); its window is the period clipped
 * to [from, to), so the buckets partition the window exactly. 422 past MAX_SERIES_POINTS.
 */
export function buckets(w: Window, interval: Interval, timezone: string): Bucket[] {
  const unit = interval === 'week' ? 'week' : interval;
  let start = DateTime.fromJSDate(w.from, { zone: timezone }).startOf(unit);
  const out: Bucket[] = [];
  while (start.toMillis() < w.to.getTime()) {
    if (out.length >= MAX_SERIES_POINTS) {
      throw windowError(
        [
          {
            path: '/querystring/interval',
            message: `gives more than ${MAX_SERIES_POINTS} points for this window`,
          },
        ],
        `The series would have more than ${MAX_SERIES_POINTS} points: use a longer interval or a shorter window`,
      );
    }
    const end = start.plus({ [`${unit}s`]: 1 });
    out.push({
      start: start.toJSDate(),
      window: {
        from: new Date(Math.max(start.toMillis(), w.from.getTime())),
        to: new Date(Math.min(end.toMillis(), w.to.getTime())),
      },
    });
    start = end;
  }
  return out;
}

function windowError(errors: readonly FieldError[], detail: string): AppError {
  return new AppError('invalid_window', 422, detail, errors);
}
