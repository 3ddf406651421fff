import type { Context } from 'liquidjs';
import { DateTime } from 'luxon';
import { isValidZone } from '../../rules/zones.js';
import { firstName } from './render-context.js';

/** What filters need to know about the render in progress (locale, zone, currency, now). */
export interface FilterEnv {
  /** The locale numbers and dates are written in. */
  readonly locale: string;
  readonly timezone: string;
  readonly currency: string;
  readonly now: Date;
  readonly trackUrl: (url: string) => string;
}

/** What LiquidJS binds `this` to in a filter (its own FilterImpl type is not exported). */
interface FilterImpl {
  readonly context: Context;
}

// A symbol key: templates cannot name it, so the environment is invisible to Liquid.
export const FILTER_ENV = Symbol('posvenda.filterEnv');

function envOf(impl: FilterImpl): FilterEnv {
  const env = (impl.context.globals as { [FILTER_ENV]?: FilterEnv })[FILTER_ENV];
  if (!env) throw new Error('template rendered without a filter environment');
  return env;
}

// Intl separates "R$" from the amount with a no-break space (U+00A0, or U+202F in some
// locales). We write an ordinary space: the text is then what people type and search for
// ("R$ 3.500,00"), and webhook receivers comparing strings are not surprised.
const spaces = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

function toDateTime(value: unknown, env: FilterEnv): DateTime | undefined {
  let dt: DateTime | undefined;
  if (value instanceof Date) dt = DateTime.fromJSDate(value);
  else if (typeof value === 'number') dt = DateTime.fromMillis(value);
  else if (value === 'now' || value === 'today') dt = DateTime.fromJSDate(env.now);
  else if (typeof value === 'string') dt = DateTime.fromISO(value, { setZone: true });
  if (!dt?.isValid) return undefined;
  return dt.setZone(env.timezone).setLocale(env.locale);
}

// Intl formatters are costly to build (a fraction of a millisecond each) and a message uses
// the same few: each is built once per locale and options. Bounded, since locales are data.
const MAX_FORMATTERS = 1_000;
const formatters = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function cachedFormatter<T extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, build: () => T): T {
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = build();
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(key, formatter);
  }
  return formatter as T;
}

function numberFormat(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  return cachedFormatter(
    `n|${locale}|${JSON.stringify(options)}`,
    () => new Intl.NumberFormat(locale, options),
  );
}

function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return cachedFormatter(
    `d|${locale}|${JSON.stringify(options)}`,
    () => new Intl.DateTimeFormat(locale, options),
  );
}

const STYLES = ['short', 'medium', 'long', 'full'] as const;
type Style = (typeof STYLES)[number];
const isStyle = (value: unknown): value is Style => STYLES.includes(value as Style);

/** `{{ 3500 | money }}` → "R$ 3.500,00" (workspace currency) · `{{ 10 | money: "USD" }}`. */
function money(this: FilterImpl, value: unknown, currency?: unknown): string {
  const env = envOf(this);
  const amount = toNumber(value);
  if (amount === undefined) return '';
  const code = typeof currency === 'string' && currency !== '' ? currency.toUpperCase() : env.currency;
  try {
    return spaces(numberFormat(env.locale, { style: 'currency', currency: code }).format(amount));
  } catch {
    return spaces(numberFormat(env.locale, { style: 'currency', currency: env.currency }).format(amount));
  }
}

function digitsOf(value: unknown, fallback: number): number {
  const n = toNumber(value);
  return n === undefined ? fallback : Math.min(Math.max(Math.trunc(n), 0), 6);
}

/** `{{ 1234.5 | number: 2 }}` → "1.234,50" in pt-BR. */
function number(this: FilterImpl, value: unknown, digits?: unknown): string {
  const n = toNumber(value);
  if (n === undefined) return '';
  const d = digitsOf(digits, -1);
  const options = d < 0 ? {} : { minimumFractionDigits: d, maximumFractionDigits: d };
  return spaces(numberFormat(envOf(this).locale, options).format(n));
}

/** `{{ 80 | percent }}` → "80%": the value is on a 0–100 scale, like usage.percent. */
function percent(this: FilterImpl, value: unknown, digits?: unknown): string {
  const n = toNumber(value);
  if (n === undefined) return '';
  const d = digitsOf(digits, 0);
  return spaces(
    numberFormat(envOf(this).locale, {
      style: 'percent',
      minimumFractionDigits: 0,
      maximumFractionDigits: d,
    }).format(n / 100),
  );
}

function formatDate(impl: FilterImpl, value: unknown, format: unknown, kind: 'date' | 'datetime' | 'time') {
  const env = envOf(impl);
  const dt = toDateTime(value, env);
  if (!dt) return '';
  if (typeof format === 'string' && format !== '' && !isStyle(format)) return dt.toFormat(format);
  const style: Style = isStyle(format) ? format : kind === 'time' ? 'short' : 'long';
  const options: Intl.DateTimeFormatOptions =
    kind === 'date'
      ? { dateStyle: style }
      : kind === 'time'
        ? { timeStyle: style === 'full' || style === 'long' ? 'short' : style }
        : { dateStyle: style, timeStyle: 'short' };
  return spaces(dateTimeFormat(env.locale, { ...options, timeZone: env.timezone }).format(dt.toJSDate()));
}

/** `{{ event.occurred_at | date }}` → "20 de novembro de 2026" in the customer's zone; styles short|medium|long|full or luxon tokens. */
function date(this: FilterImpl, value: unknown, format?: unknown): string {
  return formatDate(this, value, format, 'date');
}

/** `{{ touchpoint.due_at | datetime }}` → "20 de novembro de 2026 às 10:00". */
function datetime(this: FilterImpl, value: unknown, format?: unknown): string {
  return formatDate(this, value, format, 'datetime');
}

/** `{{ touchpoint.due_at | time }}` → "10:00". */
function time(this: FilterImpl, value: unknown, format?: unknown): string {
  return formatDate(this, value, format, 'time');
}

/** `{{ "ana souza" | first_name }}` → "Ana". */
function firstNameFilter(value: unknown): string {
  return typeof value === 'string' ? firstName(value) : '';
}

/** `{{ "https://loja.com/guia" | track }}` → the click-tracking URL that redirects there. */
function track(this: FilterImpl, value: unknown): string {
  if (typeof value !== 'string' || !/^https?:\/\//i.test(value))
    return typeof value === 'string' ? value : '';
  return envOf(this).trackUrl(value);
}

/** The filters Posvenda adds to LiquidJS's standard ones (`date` replaces the standard one). */
export const POSVENDA_FILTERS = {
  money,
  number,
  percent,
  date,
  datetime,
  time,
  first_name: firstNameFilter,
  track,
} as const;

/** The zone dates are shown in: the customer's when valid, else the workspace's. */
export function displayZone(customerZone: string | null | undefined, workspaceZone: string): string {
  if (customerZone && isValidZone(customerZone)) return customerZone;
  return isValidZone(workspaceZone) ? workspaceZone : 'UTC';
}

/**
 * The locale numbers and dates are written in: the customer's when it is the same language
 * as the template (a pt-PT reader of a pt-BR text gets pt-PT dates), else the template's, so
 * an English date never lands inside a Portuguese sentence.
 */
export function displayLocale(customerLocale: string | null | undefined, templateLocale: string): string {
  const language = (tag: string) => tag.split('-')[0]?.toLowerCase();
  if (customerLocale) {
    try {
      const [canonical] = Intl.getCanonicalLocales(customerLocale);
      if (canonical && language(canonical) === language(templateLocale)) return canonical;
    } catch {
      // not a locale tag: use the template's
    }
  }
  return templateLocale;
}
