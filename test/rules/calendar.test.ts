import fc from 'fast-check';
import { DateTime, Duration } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  afterQuietHours,
  computeDueAt,
  isBusinessDay,
  type LocalCalendar,
} from '../../src/rules/calendar.js';
import { createHolidayCalendar } from '../../src/rules/holidays.js';

const holidays = createHolidayCalendar();
const br: LocalCalendar = { zone: 'America/Sao_Paulo', country: 'BR', holidays };
const local = (date: Date, zone = br.zone) => DateTime.fromJSDate(date, { zone });

describe('business calendar: examples', () => {
  it('D+3 at 10:00 from a Friday-afternoon delivery: three calendar days later, then the next 10:00', () => {
    // Friday 2026-11-13 15:00 local + P3D = Monday 16th 15:00; at 10:00 is earlier that day → Tuesday 10:00.
    const due = computeDueAt(new Date('2026-11-13T18:00:00Z'), { after: 'P3D', at: '10:00' }, br);
    expect(local(due).toISO()).toBe('2026-11-17T10:00:00.000-03:00');
  });

  it('business days: Wednesday + 3 days lands on Saturday, so it moves to Monday', () => {
    const due = computeDueAt(new Date('2026-11-04T13:00:00Z'), { after: 'P3D', businessDays: true }, br);
    expect(local(due).toISO()).toBe('2026-11-09T10:00:00.000-03:00');
  });

  it('business days: a weekday result stays where it is (D+30 is thirty calendar days)', () => {
    const due = computeDueAt(new Date('2026-11-04T13:00:00Z'), { after: 'P30D', businessDays: true }, br);
    expect(local(due).toISODate()).toBe('2026-12-04');
  });

  it('business days skip national holidays: Thursday 19 Nov + 1 day is Consciência Negra (20th) → Monday', () => {
    const due = computeDueAt(
      new Date('2026-11-19T12:00:00Z'),
      { after: 'P1D', at: '09:00', businessDays: true },
      br,
    );
    expect(local(due).toISO()).toBe('2026-11-23T09:00:00.000-03:00');
  });

  it('Carnival Monday and Tuesday are not business days in Brazil', () => {
    expect(isBusinessDay(DateTime.fromISO('2026-02-16', { zone: br.zone }), br)).toBe(false);
    expect(isBusinessDay(DateTime.fromISO('2026-02-17', { zone: br.zone }), br)).toBe(false);
    expect(isBusinessDay(DateTime.fromISO('2026-02-18', { zone: br.zone }), br)).toBe(true);
  });

  it('holidays follow the country: 4 July is a holiday in the US, not in Brazil', () => {
    const us: LocalCalendar = { zone: 'America/New_York', country: 'US', holidays };
    expect(isBusinessDay(DateTime.fromISO('2030-07-04', { zone: us.zone }), us)).toBe(false);
    expect(isBusinessDay(DateTime.fromISO('2030-07-04', { zone: br.zone }), br)).toBe(true);
  });

  it('keeps the wall-clock time across a DST change (New York, March 2026)', () => {
    const ny: LocalCalendar = { zone: 'America/New_York', country: 'US', holidays };
    const due = computeDueAt(new Date('2026-03-07T15:00:00Z'), { after: 'P3D' }, ny); // 10:00 EST
    expect(local(due, ny.zone).toISO()).toBe('2026-03-10T10:00:00.000-04:00');
    expect(due.getTime() - new Date('2026-03-07T15:00:00Z').getTime()).toBe((3 * 24 - 1) * 3600_000);
  });

  it('PT0S with no local time is due at the trigger itself', () => {
    const at = new Date('2026-11-20T13:00:00Z');
    expect(computeDueAt(at, { after: 'PT0S' }, br)).toEqual(at);
  });

  it('quiet hours move a time to their end, across midnight', () => {
    const late = new Date('2026-11-20T23:30:00-03:00');
    expect(local(afterQuietHours(late, br.zone, { start: '21:00', end: '08:00' })).toISO()).toBe(
      '2026-11-21T08:00:00.000-03:00',
    );
    const early = new Date('2026-11-20T06:00:00-03:00');
    expect(local(afterQuietHours(early, br.zone, { start: '21:00', end: '08:00' })).toISO()).toBe(
      '2026-11-20T08:00:00.000-03:00',
    );
    const noon = new Date('2026-11-20T12:00:00-03:00');
    expect(afterQuietHours(noon, br.zone, { start: '21:00', end: '08:00' })).toEqual(noon);
    expect(afterQuietHours(late, br.zone, null)).toEqual(late);
  });
});

const zones = [
  'America/Sao_Paulo',
  'America/Manaus',
  'America/New_York',
  'Europe/Lisbon',
  'Europe/Berlin',
  'Australia/Sydney',
];
const countries = ['BR', 'US', 'PT', 'DE'];

const arbitraryCase = fc.record({
  trigger: fc.date({
    min: new Date('2024-01-01T00:00:00Z'),
    max: new Date('2030-12-31T00:00:00Z'),
    noInvalidDate: true,
  }),
  days: fc.integer({ min: 0, max: 200 }),
  hours: fc.integer({ min: 0, max: 30 }),
  at: fc.option(fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })), {
    nil: undefined,
  }),
  businessDays: fc.boolean(),
  zone: fc.constantFrom(...zones),
  country: fc.constantFrom(...countries),
});

describe('business calendar: properties', () => {
  it('never before trigger + after; business-day steps never on weekends or holidays; always at the local time asked', () => {
    fc.assert(
      fc.property(arbitraryCase, (c) => {
        const calendar: LocalCalendar = { zone: c.zone, country: c.country, holidays };
        const after = Duration.fromObject({ days: c.days, hours: c.hours }).toISO() ?? 'PT0S';
        const at = c.at
          ? `${String(c.at[0]).padStart(2, '0')}:${String(c.at[1]).padStart(2, '0')}`
          : undefined;
        const due = computeDueAt(c.trigger, { after, at, businessDays: c.businessDays }, calendar);
        const earliest = DateTime.fromJSDate(c.trigger, { zone: c.zone }).plus({
          days: c.days,
          hours: c.hours,
        });
        expect(due.getTime()).toBeGreaterThanOrEqual(earliest.toMillis());
        const dueLocal = DateTime.fromJSDate(due, { zone: c.zone });
        if (c.businessDays) expect(isBusinessDay(dueLocal, calendar)).toBe(true);
        if (c.at) {
          // A local time that does not exist that day (DST gap) is the only allowed exception.
          const exists = DateTime.fromObject(
            { year: dueLocal.year, month: dueLocal.month, day: dueLocal.day, hour: c.at[0], minute: c.at[1] },
            { zone: c.zone },
          );
          if (exists.hour === c.at[0] && exists.minute === c.at[1]) {
            expect([dueLocal.hour, dueLocal.minute]).toEqual(c.at);
          }
        }
        if (!c.businessDays && !c.at) expect(due.getTime()).toBe(earliest.toMillis());
        if (!c.businessDays && c.at)
          expect(due.getTime() - earliest.toMillis()).toBeLessThanOrEqual(25 * 3600_000);
      }),
      { numRuns: 2000 },
    );
  });

  it('with business days, lands on the first business day at or after trigger + after (no day skipped for nothing)', () => {
    fc.assert(
      fc.property(arbitraryCase, (c) => {
        const calendar: LocalCalendar = { zone: c.zone, country: c.country, holidays };
        const due = computeDueAt(c.trigger, { after: `P${c.days}D`, businessDays: true }, calendar);
        const earliest = DateTime.fromJSDate(c.trigger, { zone: c.zone }).plus({ days: c.days });
        let day = earliest.startOf('day');
        const end = DateTime.fromJSDate(due, { zone: c.zone }).startOf('day');
        // Every day between the earliest moment and the due day is a non-business day.
        while (day < end) {
          expect(isBusinessDay(day, calendar)).toBe(false);
          day = day.plus({ days: 1 });
        }
      }),
      { numRuns: 500 },
    );
  });
});
