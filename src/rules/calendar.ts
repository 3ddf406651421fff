import { DateTime, Duration } from 'luxon';
import type { HolidayCalendar } from './holidays.js';
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
  // From the local date's fields: luxon's `weekday` computes the whole ISO week date first.
  const { year, month, day } = local;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC, which reads years 0–99 as 19xx
  const weekday = date.getUTCDay(); // 0 = Sunday
  if (weekday === 0 || weekday === 6) return false;
  return !calendar.holidays.isHoliday(calendar.country, isoDate(local));
}

const pad = (n: number) => (n < 10 ? `0${n}` : String(n));

/** YYYY-MM-DD of a local date (luxon's toISODate for the years it writes that way). */
function isoDate(local: DateTime): string {
  const { year, month, day } = local;
  return year >= 1000 && year <= 9999 ? `${year}-${pad(month)}-${pad(day)}` : (local.toISODate() ?? '');
}

// Steps repeat the same few offsets and clock times on every event: parsed once each.
const durations = new Map<string, Duration>();
const clocks = new Map<string, { readonly hour: number; readonly minute: number }>();

function parseDuration(text: string): Duration {
  let duration = durations.get(text);
  if (!duration) {
    duration = Duration.fromISO(text);
    durations.set(text, duration);
  }
  return duration;
}

function parseClock(text: string): { readonly hour: number; readonly minute: number } {
  let clock = clocks.get(text);
  if (!clock) {
    const [hour, minute] = text.split(':').map(Number);
    clock = { hour: hour ?? 0, minute: minute ?? 0 };
    clocks.set(text, clock);
  }
  return clock;
}

/** The next business day at or after `local` (same local time). */
function rollToBusinessDay(local: DateTime, calendar: LocalCalendar): DateTime {
  let day = local;
  for (let i = 0; i < MAX_SKIP_DAYS && !isBusinessDay(day, calendar); i++) day = day.plus({ days: 1 });
  return day;
}

/**
 * When a step falls due. `after` is added to the trigger time in the customer's zone, so
 * "P3D" means three calendar days at the same wall-clock time, across DST changes (the
 * seed's D+3, D+10, D+30 are calendar days). With `at`, the time becomes that local time —
 * on the same day if that is not earlier, otherwise the next day. With `businessDays`, a
 * result on a weekend or national holiday moves to the next business day, same local time.
 * The result is never before trigger + after.
 */
export function computeDueAt(triggerAt: Date, timing: StepTiming, calendar: LocalCalendar): Date {
  const offset = parseDuration(timing.after);
  if (!offset.isValid) throw new Error(`invalid ISO-8601 duration: ${timing.after}`);
  let due: DateTime = DateTime.fromJSDate(triggerAt, { zone: calendarZone(calendar.zone) }).plus(offset);
  if (timing.at) {
    const { hour, minute } = parseClock(timing.at);
    const atTime = due.set({ hour, minute, second: 0, millisecond: 0 });
    due = atTime < due ? atTime.plus({ days: 1 }).set({ hour, minute }) : atTime;
  }
  if (timing.businessDays) {
    const rolled = rollToBusinessDay(due, calendar);
    if (rolled !== due && timing.at) {
      const { hour, minute } = parseClock(timing.at);
      due = rolled.set({ hour, minute, second: 0, millisecond: 0 });
    } else {
      due = rolled;
    }
  }
  return due.toUTC().toJSDate();
}

/** Whether a local time of day falls inside quiet hours (which may wrap past midnight). */
export function inQuietHours(local: DateTime, quiet: QuietHours): boolean {
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
  const local = DateTime.fromJSDate(at, { zone: calendarZone(zone) });
  if (!inQuietHours(local, quiet)) return at;
  const { hour, minute } = parseClock(quiet.end);
  let end = local.set({ hour, minute, second: 0, millisecond: 0 });
  if (end <= local) end = end.plus({ days: 1 }).set({ hour, minute });
  return end.toUTC().toJSDate();
}
