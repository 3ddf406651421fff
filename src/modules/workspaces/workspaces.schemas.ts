import Type, { type TSchema } from 'typebox';
import { Timestamp } from '../../http/schemas.js';
import { CHANNELS, KPI_KEYS } from './settings.js';

const Timezone = Type.String({ minLength: 1, maxLength: 64, examples: ['America/Sao_Paulo'] });
const Country = Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2', examples: ['BR'] });
const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217', examples: ['BRL'] });
const Locale = Type.String({ minLength: 2, maxLength: 35, description: 'BCP 47', examples: ['pt-BR'] });
const LocalTime = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', examples: ['21:00'] });
const IsoDuration = Type.String({ minLength: 2, maxLength: 64, examples: ['PT24H'] });

export const CreateWorkspaceBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, examples: ['Loja da Ana'] }),
    timezone: Type.Optional(Timezone),
    country: Type.Optional(Country),
    currency: Type.Optional(Currency),
    locale: Type.Optional(Locale),
  },
  { additionalProperties: false },
);

export const Workspace = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  timezone: Type.String(),
  country: Type.String(),
  currency: Type.String(),
  locale: Type.String(),
  created_at: Timestamp,
});

export const CreatedWorkspace = Type.Intersect([
  Workspace,
  Type.Object({ api_key: Type.String({ description: 'An admin key of the new workspace. Shown once.' }) }),
]);

const QuietHours = Type.Object(
  { start: LocalTime, end: LocalTime },
  {
    additionalProperties: false,
    description: "No email is sent between start and end, in the customer's local time.",
  },
);

const CapCount = Type.Union([Type.Integer({ minimum: 0, maximum: 1000 }), Type.Null()]);
const FrequencyCap = Type.Object(
  { per_day: CapCount, per_week: CapCount },
  { additionalProperties: false, description: 'At most this many touchpoints per customer; null: no cap.' },
);

const KpiTarget = Type.Object(
  {
    op: Type.Enum(['gte', 'lte'], { description: 'gte: higher is better.' }),
    value: Type.Number({ description: 'The target: at or past it the status is ok.' }),
    warn: Type.Number({ description: 'Between value and warn: warn; past warn: breach.' }),
    basis: Type.Enum(['value', 'change_percent'], {
      description: 'change_percent compares the change from the previous window.',
    }),
  },
  { additionalProperties: false },
);

const LINK_NAME = '^[a-z][a-z0-9_]{0,39}$';
const LinkUrl = Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2000, format: 'uri' });
const LINKS_DESCRIPTION =
  "The shop's own pages, by name, that templates link to as `workspace.links.<name>` (tracked when " +
  'sent): the seed library uses help, reports_tutorial, plans, premium_demo and schedule; a link ' +
  'not set is left out of the email.';

function byKey<T extends TSchema>(keys: readonly string[], schema: T, nullable: boolean) {
  const value = nullable ? Type.Union([schema, Type.Null()]) : schema;
  return Type.Object(Object.fromEntries(keys.map((key) => [key, Type.Optional(value)])), {
    additionalProperties: false,
  });
}

export const Settings = Type.Object(
  {
    timezone: Type.String(),
    country: Type.String(),
    currency: Type.String(),
    locale: Type.String(),
    late_grace: Type.String({
      description: 'A touchpoint overdue by more than this when planned is skipped (late).',
    }),
    quiet_hours: Type.Union([QuietHours, Type.Null()]),
    frequency_caps: byKey(CHANNELS, FrequencyCap, false),
    kpi_targets: byKey(KPI_KEYS, KpiTarget, false),
    links: Type.Record(Type.String({ pattern: LINK_NAME }), LinkUrl, {
      additionalProperties: false,
      description: LINKS_DESCRIPTION,
    }),
  },
  {
    examples: [
      {
        timezone: 'America/Sao_Paulo',
        country: 'BR',
        currency: 'BRL',
        locale: 'pt-BR',
        late_grace: 'PT24H',
        quiet_hours: { start: '21:00', end: '08:00' },
        frequency_caps: {
          email: { per_day: 1, per_week: 3 },
          webhook: { per_day: null, per_week: null },
          task: { per_day: null, per_week: null },
        },
        kpi_targets: { nps: { op: 'gte', value: 70, warn: 50, basis: 'value' } },
        links: { plans: 'https://loja.example.com/planos', help: 'https://ajuda.loja.example.com' },
      },
    ],
  },
);

export const SettingsPatch = Type.Object(
  {
    timezone: Type.Optional(Timezone),
    country: Type.Optional(Country),
    currency: Type.Optional(Currency),
    locale: Type.Optional(Locale),
    late_grace: Type.Optional(IsoDuration),
    quiet_hours: Type.Optional(
      Type.Union([QuietHours, Type.Null()], { description: 'null: no quiet hours.' }),
    ),
    frequency_caps: Type.Optional(byKey(CHANNELS, FrequencyCap, false)),
    kpi_targets: Type.Optional(byKey(KPI_KEYS, KpiTarget, true)),
    links: Type.Optional(
      Type.Record(Type.String({ pattern: LINK_NAME }), Type.Union([LinkUrl, Type.Null()]), {
        maxProperties: 50,
        additionalProperties: false,
        description: `${LINKS_DESCRIPTION} A link set to null is removed.`,
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Only the given fields change. A KPI target set to null goes back to its default; a link set to null is removed.',
    examples: [
      { late_grace: 'PT12H', kpi_targets: { nps: { op: 'gte', value: 60, warn: 40, basis: 'value' } } },
    ],
  },
);
