// Wall-clock arithmetic in a time zone on plain epoch milliseconds: the few operations the
// calendar needs — an instant's local fields, adding an ISO-8601 duration, setting the time
// of day — each one step for step what luxon's `DateTime#plus` and `DateTime#set` do
// (luxon 3: `adjustTime`, `objToTS`, `fixOffset`), so due times do not change, including in
// DST gaps and overlaps. Luxon objects cost about ten allocations and several zone look-ups
// per operation; the engine runs these for every planned touchpoint. The zone's offsets
// still come from the zone (cached per hour, see zones.ts).
import { Duration, type Zone } from 'luxon';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** An instant with its offset (minutes) and local fields in one zone, as a luxon DateTime holds them. */
export interface LocalTime {
  readonly ts: number;
  readonly offset: number;
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
}

/** An ISO-8601 duration split the way luxon's `plus` applies it: whole calendar units, then milliseconds. */
export interface StepOffset {
  readonly years: number;
  readonly months: number;
  readonly days: number;
  /** Fractions of the calendar units and every time unit, in milliseconds (luxon's casual conversion). */
  readonly millis: number;
}

/** Splits a (valid) luxon duration once, for `plusDuration`. */
export function stepOffset(duration: Duration): StepOffset {
  const d = duration;
  const millis = Duration.fromObject({
    years: d.years - Math.trunc(d.years),
    quarters: d.quarters - Math.trunc(d.quarters),
    months: d.months - Math.trunc(d.months),
    weeks: d.weeks - Math.trunc(d.weeks),
    days: d.days - Math.trunc(d.days),
    hours: d.hours,
    minutes: d.minutes,
    seconds: d.seconds,
    milliseconds: d.milliseconds,
  }).as('milliseconds');
  return {
    years: Math.trunc(d.years),
    months: Math.trunc(d.months) + Math.trunc(d.quarters) * 3,
    days: Math.trunc(d.days) + Math.trunc(d.weeks) * 7,
    millis,
  };
}

/** The instant `ts` in `zone` (luxon's `tsToObj` with the zone's offset at `ts`). */
export function localTime(ts: number, zone: Zone): LocalTime {
  const offset = zone.offset(ts);
  // Date's TimeClip truncates toward zero; so does this.
  const local = Math.trunc(ts + offset * MINUTE_MS);
  const days = Math.floor(local / DAY_MS);
  const inDay = local - days * DAY_MS;
  // Days since 1970-01-01 → civil date (H. Hinnant's algorithm, proleptic Gregorian).
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return {
    ts,
    offset,
    year: yoe + era * 400 + (month <= 2 ? 1 : 0),
    month,
    day: doy - Math.floor((153 * mp + 2) / 5) + 1,
    hour: Math.floor(inDay / HOUR_MS),
    minute: Math.floor((inDay % HOUR_MS) / MINUTE_MS),
    second: Math.floor((inDay % MINUTE_MS) / 1000),
    millisecond: inDay % 1000,
  };
}

/** `DateTime#plus(duration)`: calendar units on the local date, then the milliseconds on the instant. */
export function plusDuration(t: LocalTime, offset: StepOffset, zone: Zone): LocalTime {
  const year = t.year + offset.years;
  const month = t.month + offset.months;
  const day = Math.min(t.day, daysInMonth(year, month)) + offset.days;
  let ts = fixOffset(localTs(year, month, day, t.hour, t.minute, t.second, t.millisecond), t.offset, zone);
  if (offset.millis !== 0) ts += offset.millis;
  return localTime(ts, zone);
}

/**
 * `DateTime#set({ hour, minute })`, with `second: 0, millisecond: 0` too when `zeroSeconds`:
 * the same local date at that time of day.
 */
export function setClock(
  t: LocalTime,
  hour: number,
  minute: number,
  zeroSeconds: boolean,
  zone: Zone,
): LocalTime {
  const day = Math.min(daysInMonth(t.year, t.month), t.day);
  const local = zeroSeconds
    ? localTs(t.year, t.month, day, hour, minute, 0, 0)
    : localTs(t.year, t.month, day, hour, minute, t.second, t.millisecond);
  return localTime(fixOffset(local, t.offset, zone), zone);
}

/** luxon's `objToLocalTS`: local fields read as if they were UTC (overflowing days and months roll over). */
function localTs(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millisecond: number,
): number {
  const ts = Date.UTC(year, month - 1, day, hour, minute, second, millisecond);
  if (year < 100 && year >= 0) {
    // Date.UTC reads years 0–99 as 19xx: set them again, as luxon does.
    const date = new Date(ts);
    date.setUTCFullYear(year, month - 1, day);
    return date.getTime();
  }
  return ts;
}

/** luxon's `fixOffset`: the instant of a local time, starting from a guessed offset (DST gaps move forward). */
function fixOffset(localTS: number, guess: number, zone: Zone): number {
  let utcGuess = localTS - guess * MINUTE_MS;
  const o2 = zone.offset(utcGuess);
  if (guess === o2) return utcGuess;
  utcGuess -= (o2 - guess) * MINUTE_MS;
  const o3 = zone.offset(utcGuess);
  if (o2 === o3) return utcGuess;
  return localTS - Math.min(o2, o3) * MINUTE_MS;
}

/** luxon's `daysInMonth`, months past 12 or below 1 included. */
function daysInMonth(year: number, month: number): number {
  const modMonth = floorMod(month - 1, 12) + 1;
  const modYear = year + (month - modMonth) / 12;
  if (modMonth === 2) return isLeapYear(modYear) ? 29 : 28;
  return MONTH_DAYS[modMonth - 1]!;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function floorMod(x: number, n: number): number {
  return x - n * Math.floor(x / n);
}

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}
