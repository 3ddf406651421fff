import { Duration, IANAZone } from 'luxon';
import type { FieldError } from '../../errors.js';

/** The KPIs of API.md's Metrics section, by their path names. */
export const KPI_KEYS = [
  'nps',
  'churn',
  'retention',
  'revenue-retention',
  'ltv',
  'average-ticket',
  'upsell-conversion',
  'cross-sell-rate',
  'response-time',
  'first-response-time',
  'time-to-resolution',
  'first-contact-resolution',
  'ces',
  'csat',
  'lead-time',
] as const;
export type KpiKey = (typeof KPI_KEYS)[number];

export const CHANNELS = ['email', 'webhook', 'task'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * A KPI target: `gte` means higher is better. Between `value` and `warn` the status is
 * "warn", past `warn` it is "breach". `basis: change_percent` compares the change against
 * the previous window instead of the value (the seed's "LTV +30 % a quarter").
 */
export interface KpiTarget {
  readonly op: 'gte' | 'lte';
  readonly value: number;
  readonly warn: number;
  readonly basis: 'value' | 'change_percent';
}

export interface FrequencyCap {
  readonly per_day: number | null;
  readonly per_week: number | null;
}

export interface QuietHours {
  readonly start: string;
  readonly end: string;
}

/** The effective settings of a workspace: its own values over the defaults. */
export interface WorkspaceSettings {
  readonly timezone: string;
  readonly country: string;
  readonly currency: string;
  readonly locale: string;
  readonly late_grace: string;
  readonly quiet_hours: QuietHours | null;
  readonly frequency_caps: Readonly<Record<Channel, FrequencyCap>>;
  readonly kpi_targets: Readonly<Partial<Record<KpiKey, KpiTarget>>>;
  /**
   * The shop's own pages templates link to as `workspace.links.<name>` (the seed library uses
   * help, reports_tutorial, plans, premium_demo, schedule); a link not set is left out of emails.
   */
  readonly links: Readonly<Record<string, string>>;
}

/** What a workspace stores in its `settings` column: only what it changed. */
export interface SettingsOverrides {
  late_grace?: string;
  quiet_hours?: QuietHours | null;
  frequency_caps?: Partial<Record<Channel, FrequencyCap>>;
  kpi_targets?: Partial<Record<KpiKey, KpiTarget>>;
  links?: Record<string, string>;
}

/** The seed article's target table, plus the warn lines it implies (e.g. "NPS below 50: act"). */
export const DEFAULT_KPI_TARGETS: Readonly<Partial<Record<KpiKey, KpiTarget>>> = {
  nps: { op: 'gte', value: 70, warn: 50, basis: 'value' },
  churn: { op: 'lte', value: 5, warn: 10, basis: 'value' },
  'response-time': { op: 'lte', value: 24, warn: 48, basis: 'value' },
  'upsell-conversion': { op: 'gte', value: 3, warn: 1, basis: 'value' },
  'revenue-retention': { op: 'gte', value: 85, warn: 70, basis: 'value' },
  ltv: { op: 'gte', value: 30, warn: 10, basis: 'change_percent' },
};

export const DEFAULT_SETTINGS = {
  late_grace: 'PT24H',
  quiet_hours: { start: '21:00', end: '08:00' },
  frequency_caps: {
    email: { per_day: 1, per_week: 3 },
    webhook: { per_day: null, per_week: null },
    task: { per_day: null, per_week: null },
  },
} as const satisfies Omit<
  WorkspaceSettings,
  'timezone' | 'country' | 'currency' | 'locale' | 'kpi_targets' | 'links'
>;

/** Merges a workspace's stored overrides over the defaults. */
export function effectiveSettings(
  columns: {
    readonly timezone: string;
    readonly country: string;
    readonly currency: string;
    readonly locale: string;
  },
  overrides: SettingsOverrides,
): WorkspaceSettings {
  return {
    ...columns,
    late_grace: overrides.late_grace ?? DEFAULT_SETTINGS.late_grace,
    quiet_hours: overrides.quiet_hours === undefined ? DEFAULT_SETTINGS.quiet_hours : overrides.quiet_hours,
    frequency_caps: { ...DEFAULT_SETTINGS.frequency_caps, ...overrides.frequency_caps },
    kpi_targets: { ...DEFAULT_KPI_TARGETS, ...overrides.kpi_targets },
    links: { ...overrides.links },
  };
}

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
const currencies = new Set(Intl.supportedValuesOf('currency'));

/** Checks what a JSON schema cannot: real time zones, countries, currencies, locales, durations. */
export function checkLocaleFields(
  input: {
    readonly timezone?: string;
    readonly country?: string;
    readonly currency?: string;
    readonly locale?: string;
    readonly late_grace?: string;
  },
  base = '/body',
): FieldError[] {
  const errors: FieldError[] = [];
  if (input.timezone !== undefined && !IANAZone.isValidZone(input.timezone)) {
    errors.push({ path: `${base}/timezone`, message: `unknown IANA time zone "${input.timezone}"` });
  }
  if (input.country !== undefined && regionNames.of(input.country) === input.country) {
    errors.push({ path: `${base}/country`, message: `unknown ISO 3166-1 country code "${input.country}"` });
  }
  if (input.currency !== undefined && !currencies.has(input.currency)) {
    errors.push({ path: `${base}/currency`, message: `unknown ISO 4217 currency code "${input.currency}"` });
  }
  if (input.locale !== undefined) {
    try {
      Intl.getCanonicalLocales(input.locale);
    } catch {
      errors.push({ path: `${base}/locale`, message: `not a BCP 47 locale tag: "${input.locale}"` });
    }
  }
  if (input.late_grace !== undefined) {
    const duration = Duration.fromISO(input.late_grace);
    if (!duration.isValid || duration.as('milliseconds') < 0) {
      errors.push({ path: `${base}/late_grace`, message: 'must be an ISO-8601 duration such as PT24H' });
    }
  }
  return errors;
}
