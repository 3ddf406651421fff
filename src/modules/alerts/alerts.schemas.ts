import Type from 'typebox';
import { Timestamp } from '../../http/schemas.js';
import { KPI_KEYS } from '../workspaces/settings.js';

const Comparison = Type.Enum(['lt', 'lte', 'gt', 'gte'], {
  description: 'The rule holds when `value <comparison> threshold`.',
});

const Action = Type.Object(
  {
    switch_variant: Type.Object(
      {
        playbook: Type.String({ minLength: 1, maxLength: 64, examples: ['onboarding'] }),
        step: Type.String({ minLength: 1, maxLength: 64, examples: ['upgrade-offer'] }),
        variant: Type.String({ minLength: 1, maxLength: 64, examples: ['b'] }),
      },
      {
        additionalProperties: false,
        description:
          "From the trigger on, touchpoints of this playbook step use this variant of the step's template " +
          'instead of the weighted choice.',
      },
    ),
  },
  { additionalProperties: false },
);

export const AlertRuleBody = Type.Object(
  {
    kpi: Type.String({ maxLength: 64, description: `One of ${KPI_KEYS.join(', ')}.`, examples: ['nps'] }),
    window: Type.String({
      maxLength: 32,
      description: 'ISO-8601 duration of the trailing window the KPI is computed over (at most 366 days).',
      examples: ['P30D'],
    }),
    segment: Type.Optional(Type.String({ minLength: 1, maxLength: 200, examples: ['smb'] })),
    comparison: Comparison,
    threshold: Type.Number({ examples: [50] }),
    cooldown: Type.Optional(
      Type.String({
        maxLength: 32,
        description: 'ISO-8601 duration: after a trigger, the rule does not fire again sooner. Default PT1H.',
        examples: ['P1D'],
      }),
    ),
    action: Type.Optional(Action),
  },
  {
    additionalProperties: false,
    examples: [
      {
        kpi: 'nps',
        window: 'P30D',
        segment: 'smb',
        comparison: 'lt',
        threshold: 50,
        cooldown: 'P7D',
        action: { switch_variant: { playbook: 'onboarding', step: 'upgrade-offer', variant: 'b' } },
      },
    ],
  },
);

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const AlertRule = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    kpi: Type.String(),
    window: Type.String(),
    segment: Nullable(Type.String()),
    comparison: Comparison,
    threshold: Type.Number(),
    cooldown: Type.String(),
    action: Nullable(Action),
    state: Type.Object(
      {
        holding: Type.Boolean({ description: 'Whether the rule held at its last evaluation.' }),
        last_value: Nullable(Type.Number()),
        last_evaluated_at: Nullable(Timestamp),
        last_triggered_at: Nullable(Timestamp),
      },
      {
        description:
          'Evaluated every minute. It fires (alert.triggered, then its action) when it starts holding — it did ' +
          'not at the previous evaluation — and its cooldown since the last trigger is over; not again while it ' +
          'keeps holding. A KPI with no data does not hold.',
      },
    ),
    created_at: Timestamp,
  },
  {
    examples: [
      {
        id: '019a9a6e-1f00-7000-8000-000000000001',
        kpi: 'nps',
        window: 'P30D',
        segment: 'smb',
        comparison: 'lt',
        threshold: 50,
        cooldown: 'P7D',
        action: null,
        state: {
          holding: false,
          last_value: 62.5,
          last_evaluated_at: '2026-11-20T13:00:00.000Z',
          last_triggered_at: null,
        },
        created_at: '2026-11-20T12:00:00.000Z',
      },
    ],
  },
);

export const VariantOverride = Type.Object(
  {
    playbook: Type.String({ description: 'Key of the playbook.' }),
    step: Type.String({ description: 'Key of the step.' }),
    variant: Type.String({
      description: "The template variant the step's touchpoints use instead of the weighted choice.",
    }),
    rule_id: Nullable(
      Type.String({
        format: 'uuid',
        description: 'The alert rule whose action set it (kept when the rule is deleted).',
      }),
    ),
    created_at: Timestamp,
  },
  {
    examples: [
      {
        playbook: 'onboarding',
        step: 'upgrade-offer',
        variant: 'b',
        rule_id: '019a9a6e-1f00-7000-8000-000000000001',
        created_at: '2026-11-20T13:00:00.000Z',
      },
    ],
  },
);

export const VariantOverrideParams = Type.Object({
  playbook: Type.String({ minLength: 1, maxLength: 64 }),
  step: Type.String({ minLength: 1, maxLength: 64 }),
});
