import { IANAZone } from 'luxon';
import { memoByText } from './memo.js';

const HOUR_MS = 3_600_000;
// Hours remembered per zone before the memo starts over (about 11 years of hours).
const MAX_HOURS = 100_000;

/**
 * An IANA zone that remembers its UTC offset per hour. Luxon asks a zone for its offset
 * several times per operation (`plus`, `set`, each conversion), and each answer costs an
 * `Intl.DateTimeFormat#formatToParts`: that was most of the planner's CPU. An hour whose
 * first and last millisecond have the same offset has that offset throughout (no zone
 * changes its offset twice within an hour), so it is remembered; an hour with a transition
 * in it is asked about the exact instant, as before.
 */
class HourlyOffsetZone extends IANAZone {
  private readonly hours = new Map<number, number>();

  override offset(ts: number): number {
    const hour = Math.floor(ts / HOUR_MS);
    let offset = this.hours.get(hour);
    if (offset === undefined) {
      const first = super.offset(hour * HOUR_MS);
      const last = super.offset(hour * HOUR_MS + HOUR_MS - 1);
      // NaN marks an hour with a transition (or an invalid zone): asked each time.
      offset = first === last ? first : Number.NaN;
      if (this.hours.size >= MAX_HOURS) this.hours.clear();
      this.hours.set(hour, offset);
    }
    return Number.isNaN(offset) ? super.offset(ts) : offset;
  }
}

const zones = new Map<string, IANAZone>();

/** The zone object for an IANA name, shared, with its offsets remembered (see HourlyOffsetZone). */
export function calendarZone(name: string): IANAZone {
  let zone = zones.get(name);
  if (!zone) {
    zone = new HourlyOffsetZone(name);
    zones.set(name, zone);
  }
  return zone;
}

/**
 * Whether a name is a valid IANA zone, remembered per name: luxon's check builds an
 * `Intl.DateTimeFormat` each time, and every rendered message asks it.
 */
export const isValidZone = memoByText((name) => IANAZone.isValidZone(name));
