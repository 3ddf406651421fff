import Type from 'typebox';
import { Timestamp } from '../../http/schemas.js';
import { KPI_KEYS } from '../workspaces/settings.js';
import { GROUP_FIELDS } from './touchpoint-stats.repository.js';
import { OUTCOMES } from './touchpoint-stats.service.js';

const Instant = (description: string) =>
  Type.Optional(Type.String({ format: 'date-time', description, examples: ['2026-11-01T03:00:00Z'] }));

const windowFields = {
  from: Instant('Start of the window, inclusive. Default: 30 days before `to`.'),
  to: Instant('End of the window, exclusive. Default: now.'),
};

const segmentField = {
  segment: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      description:
        'Only customers whose current segment is this one (the `customer.segment` of their events).',
      examples: ['smb'],
    }),
  ),
};

export const SummaryQuery = Type.Object(
  { ...windowFields, ...segmentField },
  { additionalProperties: false, examples: [{ from: '2026-10-01T03:00:00Z', to: '2026-11-01T03:00:00Z' }] },
);

export const KpiQuery = Type.Object(
  {
    ...windowFields,
    ...segmentField,
    interval: Type.Optional(
      Type.Enum(['day', 'week', 'month'], {
        description:
          "Series buckets, in the workspace's time zone (weeks start on Monday). Default: day up to 31 days, " +
          'week up to 190, month beyond. At most 366 points.',
      }),
    ),
  },
  { additionalProperties: false, examples: [{ interval: 'week', segment: 'smb' }] },
);

export const KpiParams = Type.Object({
  kpi: Type.String({ maxLength: 64, description: `One of ${KPI_KEYS.join(', ')}.`, examples: ['nps'] }),
});

const KpiUnit = Type.Enum(['score', 'percent', 'currency', 'hours', 'count'], {
  description:
    'score (NPS −100…100, CES 1–7), percent (0–100), currency (the workspace currency), hours, count.',
});

const Value = Type.Union([Type.Number(), Type.Null()], {
  description: 'Null when there is nothing to measure.',
});

const Target = Type.Union(
  [
    Type.Object({
      op: Type.Enum(['gte', 'lte']),
      value: Type.Number(),
      warn: Type.Number(),
      basis: Type.Enum(['value', 'change_percent']),
    }),
    Type.Null(),
  ],
  { description: 'The workspace target (PATCH /v1/settings `kpi_targets`); null when none.' },
);

export const Summary = Type.Object(
  {
    from: Timestamp,
    to: Timestamp,
    currency: Type.String({ examples: ['BRL'], description: 'Of every currency value.' }),
    data: Type.Array(
      Type.Object({
        key: Type.Enum([...KPI_KEYS]),
        value: Value,
        unit: KpiUnit,
        target: Target,
        status: Type.Enum(['ok', 'warn', 'breach', 'no_data'], {
          description:
            'Against the target: gte — ok at or above `value`, warn at or above `warn`, else breach (lte mirrors ' +
            'it). basis change_percent (LTV) judges the growth from `previous`, compounded to a quarter. ' +
            'no_data without a value; ok with a value and no target.',
        }),
        previous: Type.Union([Type.Number(), Type.Null()], {
          description: 'The value over the previous window of equal length.',
        }),
      }),
    ),
  },
  {
    examples: [
      {
        from: '2026-10-21T12:00:00.000Z',
        to: '2026-11-20T12:00:00.000Z',
        currency: 'BRL',
        data: [
          {
            key: 'nps',
            value: 62.5,
            unit: 'score',
            target: { op: 'gte', value: 70, warn: 50, basis: 'value' },
            status: 'warn',
            previous: 58,
          },
        ],
      },
    ],
  },
);

export const KpiReport = Type.Object(
  {
    key: Type.Enum([...KPI_KEYS]),
    value: Value,
    unit: KpiUnit,
    currency: Type.Union([Type.String(), Type.Null()], { description: 'For currency values.' }),
    from: Timestamp,
    to: Timestamp,
    interval: Type.Enum(['day', 'week', 'month']),
    timezone: Type.String({ examples: ['America/Sao_Paulo'] }),
    series: Type.Array(
      Type.Object({
        start: Timestamp,
        value: Value,
      }),
      {
        description:
          "One point per local period; `start` is the period's start (the first may begin before `from`), its " +
          'value covers the period clipped to [from, to).',
      },
    ),
    details: Type.Record(Type.String(), Value, {
      description: 'What the value is made of (counts, sums); for ltv, `historical` and `predictive`.',
    }),
    formula: Type.String({ description: 'In words, what was counted.' }),
  },
  {
    examples: [
      {
        key: 'nps',
        value: 50,
        unit: 'score',
        currency: null,
        from: '2026-11-01T03:00:00.000Z',
        to: '2026-11-03T03:00:00.000Z',
        interval: 'day',
        timezone: 'America/Sao_Paulo',
        series: [
          { start: '2026-11-01T03:00:00.000Z', value: 100 },
          { start: '2026-11-02T03:00:00.000Z', value: 0 },
        ],
        details: { answered: 4, promoters: 2, detractors: 0 },
        formula: "Net Promoter Score: of each customer's latest NPS answer …",
      },
    ],
  },
);

export const TouchpointStatsQuery = Type.Object(
  {
    ...windowFields,
    group_by: Type.Optional(
      Type.String({
        maxLength: 100,
        description: `Comma-separated: ${GROUP_FIELDS.join(', ')}. Default playbook,step,variant.`,
        examples: ['playbook,step,variant'],
      }),
    ),
    outcome: Type.Optional(
      Type.Enum([...OUTCOMES], { description: 'What the variant test compares; default conversion.' }),
    ),
    playbook: Type.Optional(Type.String({ maxLength: 64, description: 'Only this playbook.' })),
  },
  { additionalProperties: false },
);

const Count = Type.Integer({ minimum: 0 });
const Rate = Type.Union([Type.Number(), Type.Null()]);
const Group = {
  playbook: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  step: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  variant: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  channel: Type.Optional(Type.Union([Type.String(), Type.Null()])),
};

export const TouchpointStats = Type.Object(
  {
    from: Timestamp,
    to: Timestamp,
    group_by: Type.Array(Type.String()),
    attribution_days: Type.Integer({
      description: 'A purchase this many days after the contact converts it.',
    }),
    definitions: Type.String(),
    data: Type.Array(
      Type.Object({
        ...Group,
        planned: Count,
        sent: Count,
        delivered: Count,
        opened: Count,
        clicked: Count,
        answered: Count,
        converted: Count,
        skipped: Count,
        failed: Count,
        rates: Type.Object(
          { delivery: Rate, open: Rate, click: Rate, answer: Rate, conversion: Rate },
          { description: 'Percent of sent; null when nothing was sent.' },
        ),
      }),
    ),
    variant_tests: Type.Object({
      outcome: Type.Enum([...OUTCOMES]),
      method: Type.String(),
      min_sample: Type.Integer(),
      tests: Type.Array(
        Type.Object({
          ...Group,
          variants: Type.Array(Type.Object({ variant: Type.String(), sent: Count, successes: Count })),
          method: Type.Union([Type.Enum(['two_proportion_z', 'chi_squared']), Type.Null()]),
          statistic: Rate,
          p_value: Rate,
          result: Type.Enum(['significant', 'not significant', 'not enough data']),
        }),
      ),
    }),
  },
  {
    examples: [
      {
        from: '2026-10-21T12:00:00.000Z',
        to: '2026-11-20T12:00:00.000Z',
        group_by: ['playbook', 'step', 'variant'],
        attribution_days: 14,
        definitions: 'Touchpoints due in the window …',
        data: [
          {
            playbook: 'upgrade-at-80',
            step: 'offer',
            variant: 'a',
            planned: 120,
            sent: 118,
            delivered: 117,
            opened: 60,
            clicked: 20,
            answered: 0,
            converted: 6,
            skipped: 2,
            failed: 0,
            rates: { delivery: 99.15, open: 50.85, click: 16.95, answer: 0, conversion: 5.08 },
          },
        ],
        variant_tests: {
          outcome: 'conversion',
          method: 'two-proportion z-test …',
          min_sample: 30,
          tests: [],
        },
      },
    ],
  },
);
