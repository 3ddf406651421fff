import Holidays from 'date-holidays';

/** Tells whether a local calendar date (YYYY-MM-DD) is a national holiday of a country. */
export interface HolidayCalendar {
  isHoliday(country: string, isoDate: string): boolean;
}

/**
 * National holidays from the `date-holidays` data set. Public holidays count, and so do
 * "bank" holidays (in Brazil: Carnival Monday and Tuesday, Corpus Christi), on which shops
 * and offices close in practice. Observances (Mother's Day) and optional days do not.
 * Computed per country and year once, then looked up.
 */
export function createHolidayCalendar(): HolidayCalendar {
  const byCountryYear = new Map<string, ReadonlySet<string>>();
  const yearSet = (country: string, year: number): ReadonlySet<string> => {
    const cacheKey = `${country}:${year}`;
    let dates = byCountryYear.get(cacheKey);
    if (!dates) {
      const calendar = new Holidays(country);
      const list = calendar.getHolidays(year) || [];
      dates = new Set(
        list.filter((h) => h.type === 'public' || h.type === 'bank').map((h) => h.date.slice(0, 10)),
      );
      byCountryYear.set(cacheKey, dates);
    }
    return dates;
  };
  return {
    isHoliday: (country, isoDate) => yearSet(country.toUpperCase(), Number(isoDate.slice(0, 4))).has(isoDate),
  };
}

/** Whether the country is one the holiday data set knows. */
export function isKnownHolidayCountry(country: string): boolean {
  return new Holidays().getCountries()[country.toUpperCase()] !== undefined;
}

/** The shared national-holiday calendar: pure data, cached per country and year. */
export const nationalHolidays: HolidayCalendar = createHolidayCalendar();
