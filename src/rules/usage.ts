import type { EngineEvent } from './types.js';

/** A usage reading: `value / limit` of one metric at a time. */
export interface UsageReading {
  readonly metric: string;
  readonly value: number;
  readonly limit: number;
  readonly ratio: number;
  readonly at: Date;
}

/** The latest known reading of a metric: its ratio and when it was taken. */
export interface UsageLevel {
  readonly ratio: number;
  readonly at: Date;
}

/** The reading a `usage` event carries, or undefined when it has no metric, a bad value or no positive limit. */
export function usageReading(event: EngineEvent): UsageReading | undefined {
  const metric = event.properties.metric;
  if (event.type !== 'usage' || typeof metric !== 'string') return undefined;
  const value = Number(event.properties.value);
  const limit = Number(event.properties.limit);
  if (!(limit > 0) || !Number.isFinite(value)) return undefined;
  return { metric, value, limit, ratio: value / limit, at: event.occurredAt };
}

/**
 * Whether a reading crosses `threshold` upwards: at or above it, after a reading below it (or
 * none). A reading older than the latest known one was superseded and crosses nothing, so a
 * crossing counts once, whatever order the readings arrive in.
 */
export function crossesThreshold(
  previous: UsageLevel | undefined,
  reading: UsageReading,
  threshold: number,
): boolean {
  if (previous && previous.at > reading.at) return false;
  return reading.ratio >= threshold && (!previous || previous.ratio < threshold);
}
