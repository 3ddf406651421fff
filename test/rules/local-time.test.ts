// The calendar's epoch arithmetic (src/rules/local-time.ts) against luxon itself: the due
// times computed with luxon DateTimes, as the calendar did before, must come out identical,
// DST gaps and overlaps, month ends and odd durations included.
import fc from 'fast-check';
import { DateTime, Duration } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  afterQuietHours,
  computeDueAt,
  isBusinessDay,
  type LocalCalendar,
  type QuietHours,
  type StepTiming,
} from '../../src/rules/calendar.js';
import { createHolidayCalendar } from '../../src/rules/holidays.js';

const holidays = createHolidayCalendar();

/** The calendar as written with luxon objects (the reference). */
function luxonDueAt(triggerAt: Date, timing: StepTiming, calendar: LocalCalendar): Date {
  const clock = (text: string) => {
    const [hour, minute] = text.split(':').map(Number);
    return { hour: hour ?? 0, minute: minute ?? 0 };
  };
  let due = DateTime.fromJSDate(triggerAt, { zone: calendar.zone }).plus(Duration.fromISO(timing.after));
  if (timing.at) {
    const { hour, minute } = clock(timing.at);
    const atTime = due.set({ hour, minute, second: 0, millisecond: 0 });
    due = atTime < due ? atTime.plus({ days: 1 }).set({ hour, minute }) : atTime;
  }
  if (timing.businessDays) {
    let rolled = due;
    for (let i = 0; i < 366 && !isBusinessDay(rolled, calendar); i++) rolled = rolled.plus({ days: 1 });
    if (rolled !== due && timing.at) {
      const { hour, minute } = clock(timing.at);
      due = rolled.set({ hour, minute, second: 0, millisecond: 0 });
    } else {
      due = rolled;
    }
  }
  return due.toUTC().toJSDate();
}

function luxonAfterQuietHours(at: Date, zone: string, quiet: QuietHours): Date {
  const local = DateTime.fromJSDate(at, { zone });
  const minutes = local.hour * 60 + local.minute;
  const [sh, sm] = quiet.start.split(':').map(Number) as [number, number];
  const [eh, em] = quiet.end.split(':').map(Number) as [number, number];
  const from = sh * 60 + sm;
  const to = eh * 60 + em;
  const inside =
    from !== to && (from < to ? minutes >= from && minutes < to : minutes >= from || minutes < to);
  if (!inside) return at;
  let end = local.set({ hour: eh, minute: em, second: 0, millisecond: 0 });
  if (end <= local) end = end.plus({ days: 1 }).set({ hour: eh, minute: em });
  return end.toUTC().toJSDate();
}

// Zones with DST at midnight (old Brazil, Santiago, Havana), half-hour DST (Lord Howe),
// odd offsets (Kathmandu, Chatham), southern-hemisphere DST, none at all.
const zones = [
  'America/Sao_Paulo',
  'America/Santiago',
  'America/Havana',
  'America/New_York',
  'Europe/Lisbon',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'Pacific/Chatham',
  'UTC',
];
const two = (n: number) => String(n).padStart(2, '0');
const clock = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
  .map(([h, m]) => `${two(h)}:${two(m)}`);
const duration = fc.oneof(
  fc
    .record({
      years: fc.integer({ min: 0, max: 2 }),
      months: fc.integer({ min: 0, max: 14 }),
      weeks: fc.integer({ min: 0, max: 3 }),
      days: fc.integer({ min: 0, max: 400 }),
      hours: fc.integer({ min: 0, max: 50 }),
      minutes: fc.integer({ min: 0, max: 90 }),
    })
    .map((parts) => Duration.fromObject(parts).toISO() ?? 'PT0S'),
  fc.constantFrom(
    'P3D',
    'P10D',
    'P30D',
    'P1M',
    'P1Y',
    'P1.5D',
    'PT36H',
    'P0.25M',
    'P0.5Y',
    'PT0S',
    'P2W',
    'PT1.5S',
  ),
);
// Triggers near DST changes are where the arithmetic can go wrong: many land in those hours.
const trigger = fc.oneof(
  fc.date({
    min: new Date('1990-01-01T00:00:00Z'),
    max: new Date('2040-12-31T00:00:00Z'),
    noInvalidDate: true,
  }),
  fc
    .tuple(
      fc.constantFrom(
        '2018-11-03T00:00:00Z',
        '2019-02-16T00:00:00Z',
        '2026-03-08T00:00:00Z',
        '2026-04-04T00:00:00Z',
        '2026-09-05T00:00:00Z',
        '2026-10-04T00:00:00Z',
        '2027-03-13T00:00:00Z',
      ),
      fc.integer({ min: -48 * 60, max: 48 * 60 }),
    )
    .map(([base, minutes]) => new Date(new Date(base).getTime() + minutes * 60_000)),
);

describe('calendar arithmetic: identical to luxon', () => {
  it('computeDueAt gives the instant luxon gives, for any zone, duration, time of day and business-day rule', () => {
    fc.assert(
      fc.property(
        trigger,
        duration,
        fc.option(clock, { nil: undefined }),
        fc.boolean(),
        fc.constantFrom(...zones),
        fc.constantFrom('BR', 'US', 'CL', 'AU'),
        (at, after, time, businessDays, zone, country) => {
          const calendar: LocalCalendar = { zone, country, holidays };
          const timing = { after, at: time, businessDays };
          expect(computeDueAt(at, timing, calendar).getTime()).toBe(
            luxonDueAt(at, timing, calendar).getTime(),
          );
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('afterQuietHours gives the instant luxon gives', () => {
    fc.assert(
      fc.property(trigger, clock, clock, fc.constantFrom(...zones), (at, start, end, zone) => {
        const quiet = { start, end };
        expect(afterQuietHours(at, zone, quiet).getTime()).toBe(
          luxonAfterQuietHours(at, zone, quiet).getTime(),
        );
      }),
      { numRuns: 5000 },
    );
  });
});
