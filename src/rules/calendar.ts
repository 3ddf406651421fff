import { DateTime, Duration } from 'luxon';
import type { HolidayCalendar } from './holidays.js';
import {
  type LocalTime,
  localTime,
  plusDuration,
  type StepOffset,
  setClock,
  stepOffset,
} from './local-time.js';
import { memoByText } from './memo.js';
import { calendarZone } from './zones.js';

/** Where and how a customer's days run: time zone, country (holidays), and the holiday data. */
export interface LocalCalendar {
  readonly zone: string;
  readonly country: string;
  readonly holidays: HolidayCalendar;
}

/** A step's timing: an ISO-8601 offset from the trigger, an optional local time, business days only. */
export interface StepTiming {
  readonly after: string;
  readonly at?: string;
  readonly businessDays?: boolean;
}

/** Local quiet hours (e.g. 21:00–08:00) during which no email goes out. */
export interface QuietHours {
  readonly start: string;
  readonly end: string;
}

const MAX_SKIP_DAYS = 366;

/** True for a weekday that is not a national holiday of the calendar's country. */
export function isBusinessDay(local: DateTime, calendar: LocalCalendar): boolean {
  return isBusinessDate(local.year, local.month, local.day, calendar);
}

/** The same for a local calendar date given by its fields. */
function isBusinessDate(year: number, month: number, day: number, calendar: LocalCalendar): boolean {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC, which reads years 0–99 as 19xx
  const weekday = date.getUTCDay(); // 0 = Sunday
  if (weekday === 0 || weekday === 6) return false;
  return !calendar.holidays.isHoliday(calendar.country, isoDate(year, month, day));
}

const pad = (n: number) => (n < 10 ? `0${n}` : String(n));

/** YYYY-MM-DD of a local date (luxon's toISODate for the years it writes that way). */
function isoDate(year: number, month: number, day: number): string {
  return year >= 1000 && year <= 9999
    ? `${year}-${pad(month)}-${pad(day)}`
    : (DateTime.utc(year, month, day).toISODate() ?? '');
}

// Steps repeat the same few offsets and clock times on every event: parsed once each.
const parseOffset = memoByText((text): StepOffset => {
  const duration = Duration.fromISO(text);
  if (!duration.isValid) throw new Error(`invalid ISO-8601 duration: ${text}`);
  return stepOffset(duration);
});

const parseClock = memoByText((text): { readonly hour: number; readonly minute: number } => {
  const [hour, minute] = text.split(':').map(Number);
  return { hour: hour ?? 0, minute: minute ?? 0 };
});

/**
 * When a step falls due. `after` is added to the trigger time in the customer's zone, so
 * "P3D" means three calendar days at the same wall-clock time, across DST changes (the
 * seed's D+3, D+10, D+30 are calendar days). With `at`, the time becomes that local time —
 * on the same day if that is not earlier, otherwise the next day. With `businessDays`, a
 * result on a weekend or national holiday moves to the next business day, same local time.
 * The result is never before trigger + after.
 *
 * Plain epoch arithmetic over the zone's (cached) offsets, step for step what luxon's
 * `plus` and `set` do (see local-time.ts): the rules engine calls this for every planned
 * touchpoint, and luxon's objects were most of its time.
 */
export function computeDueAt(triggerAt: Date, timing: StepTiming, calendar: LocalCalendar): Date {
  const offset = parseOffset(timing.after);
  const zone = calendarZone(calendar.zone);
  if (!zone.isValid) return new Date(Number.NaN);
  let due: LocalTime = plusDuration(localTime(triggerAt.getTime(), zone), offset, zone);
  const clock = timing.at ? parseClock(timing.at) : undefined;
  if (clock) {
    const atTime = setClock(due, clock.hour, clock.minute, true, zone);
    due =
      atTime.ts < due.ts
        ? setClock(plusDuration(atTime, ONE_DAY, zone), clock.hour, clock.minute, false, zone)
        : atTime;
  }
  if (timing.businessDays) {
    let moved = false;
    for (let i = 0; i < MAX_SKIP_DAYS && !isBusinessDate(due.year, due.month, due.day, calendar); i++) {
      due = plusDuration(due, ONE_DAY, zone);
      moved = true;
    }
    if (moved && clock) due = setClock(due, clock.hour, clock.minute, true, zone);
  }
  return new Date(due.ts);
}

const ONE_DAY: StepOffset = stepOffset(Duration.fromObject({ days: 1 }));

/** Whether a local time of day falls inside quiet hours (which may wrap past midnight). */
export function inQuietHours(
  local: { readonly hour: number; readonly minute: number },
  quiet: QuietHours,
): boolean {
  const minutes = local.hour * 60 + local.minute;
  const start = parseClock(quiet.start);
  const end = parseClock(quiet.end);
  const from = start.hour * 60 + start.minute;
  const to = end.hour * 60 + end.minute;
  if (from === to) return false;
  return from < to ? minutes >= from && minutes < to : minutes >= from || minutes < to;
}

/** Moves a time inside quiet hours to the moment they end (customer's local time). */
export function afterQuietHours(at: Date, zone: string, quiet: QuietHours | null): Date {
  if (!quiet) return at;
  const ianaZone = calendarZone(zone);
  // luxon found no local time in an unknown zone, hence no quiet hours either.
  if (!ianaZone.isValid) return at;
  const local = localTime(at.getTime(), ianaZone);
  if (!inQuietHours(local, quiet)) return at;
  const { hour, minute } = parseClock(quiet.end);
  let end = setClock(local, hour, minute, true, ianaZone);
  if (end.ts <= local.ts) end = setClock(plusDuration(end, ONE_DAY, ianaZone), hour, minute, false, ianaZone);
  return new Date(end.ts);
}
