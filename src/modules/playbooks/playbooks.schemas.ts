import Type from 'typebox';
import { Timestamp } from '../../http/schemas.js';

const KEY_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';
const Key = Type.String({
  pattern: KEY_PATTERN,
  description: 'A slug: lower-case letters, digits, - and _.',
});
const IsoDuration = Type.String({
  minLength: 2,
  maxLength: 64,
  description: 'ISO-8601 duration',
  examples: ['P3D'],
});
const JsonLogic = Type.Union([Type.Object({}, { additionalProperties: true }), Type.Boolean()], {
  description: 'A JSON Logic condition (https://jsonlogic.com) over { customer, event }.',
  examples: [{ '==': [{ var: 'customer.segment' }, 'smb'] }],
});
const EventType = Type.String({
  minLength: 1,
  maxLength: 80,
  description: 'An event type of API.md, or custom.<name>.',
  examples: ['delivery'],
});

const Trigger = Type.Object(
  {
    event: Type.Optional(EventType),
    when: Type.Optional(JsonLogic),
    inactivity: Type.Optional(
      Type.Object({ days: Type.Integer({ minimum: 1, maximum: 3650 }) }, { additionalProperties: false }),
    ),
    usage: Type.Optional(
      Type.Object(
        {
          metric: Type.String({ minLength: 1, maxLength: 100 }),
          at_least: Type.Number({
            exclusiveMinimum: 0,
            maximum: 100,
            description: 'value / limit, e.g. 0.8',
          }),
        },
        { additionalProperties: false },
      ),
    ),
    before: Type.Optional(
      Type.Object(
        {
          attribute: Type.String({
            minLength: 1,
            maxLength: 100,
            description: 'A customer attribute holding a date.',
          }),
          days: Type.Integer({ minimum: 0, maximum: 3650 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Exactly one of: `event` (with an optional `when`), `inactivity: { days }`, `usage: { metric, at_least }`, ' +
      '`before: { attribute, days }`.',
  },
);

const Step = Type.Object(
  {
    key: Key,
    after: IsoDuration,
    channel: Type.Enum(['email', 'webhook', 'task']),
    template: Type.String({
      pattern: KEY_PATTERN,
      description: 'The key of a template of the same channel.',
    }),
    at: Type.Optional(
      Type.String({
        pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$',
        description: "Local time of day (the customer's zone).",
      }),
    ),
    business_days: Type.Optional(
      Type.Boolean({
        description: 'Count days as business days; never land on a weekend or national holiday.',
      }),
    ),
    when: Type.Optional(JsonLogic),
    send_if: Type.Optional(JsonLogic),
    task: Type.Optional(
      Type.Object({ kind: Type.Enum(['call', 'meeting', 'whatsapp']) }, { additionalProperties: false }),
    ),
    endpoint: Type.Optional(
      Type.String({ format: 'uuid', description: 'A webhook endpoint id (webhook steps).' }),
    ),
  },
  { additionalProperties: false },
);

const Reentry = Type.Union(
  [Type.Enum(['never', 'always']), Type.Object({ after: IsoDuration }, { additionalProperties: false })],
  {
    description:
      '"never", "always", or { "after": "P90D" }: when a customer may enter again after an enrollment ended.',
  },
);

const ExitRule = Type.Object(
  { event: EventType, when: Type.Optional(JsonLogic) },
  { additionalProperties: false },
);

const bodyFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  enabled: Type.Optional(Type.Boolean({ default: true })),
  trigger: Trigger,
  audience: Type.Optional(JsonLogic),
  reentry: Type.Optional(Reentry),
  exit_on: Type.Optional(Type.Array(ExitRule, { maxItems: 50 })),
  steps: Type.Array(Step, { minItems: 1, maxItems: 50 }),
};

const EXAMPLE = {
  key: 'onboarding',
  name: 'Onboarding — 90 dias',
  enabled: true,
  trigger: { event: 'delivery', when: { '==': [{ var: 'customer.segment' }, 'smb'] } },
  audience: { '!=': [{ var: 'customer.attributes.plan' }, 'premium'] },
  reentry: 'never',
  exit_on: [{ event: 'cancellation' }],
  steps: [
    { key: 'welcome', after: 'P3D', channel: 'email', template: 'welcome', at: '10:00', business_days: true },
    { key: 'checkin', after: 'P10D', channel: 'task', task: { kind: 'call' }, template: 'checkin-call' },
  ],
};

export const CreatePlaybookBody = Type.Object(
  { key: Key, ...bodyFields },
  { additionalProperties: false, examples: [EXAMPLE] },
);

export const UpdatePlaybookBody = Type.Object(
  { key: Type.Optional(Key), ...bodyFields },
  { additionalProperties: false, description: 'The whole document; saving makes a new version.' },
);

export const PlaybookResponse = Type.Object(
  {
    key: Type.String(),
    version: Type.Integer({ description: 'Running enrollments keep the version they started on.' }),
    ...bodyFields,
    enabled: Type.Boolean(),
    reentry: Reentry,
    exit_on: Type.Array(ExitRule),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  {
    examples: [
      {
        ...EXAMPLE,
        version: 1,
        created_at: '2026-11-20T13:00:00.000Z',
        updated_at: '2026-11-20T13:00:00.000Z',
      },
    ],
  },
);

export const PlaybookKeyParams = Type.Object({ key: Type.String({ pattern: KEY_PATTERN }) });

export const PlaybookVersionQuery = Type.Object(
  {
    version: Type.Optional(
      Type.Integer({ minimum: 1, description: 'A past version; the current one by default.' }),
    ),
  },
  { additionalProperties: false },
);

const PreviewCustomer = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 200 })),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    email: Type.Optional(Type.String({ maxLength: 320 })),
    locale: Type.Optional(Type.String({ maxLength: 35 })),
    timezone: Type.Optional(Type.String({ maxLength: 64 })),
    country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
    segment: Type.Optional(Type.String({ maxLength: 100 })),
    attributes: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  {
    additionalProperties: true,
    description: 'A hypothetical customer: the profile fields and facts the conditions read, all optional.',
  },
);

const PreviewEvent = Type.Object(
  {
    type: EventType,
    occurred_at: Timestamp,
    properties: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: false },
);

export const PreviewBody = Type.Object(
  {
    customer: PreviewCustomer,
    events: Type.Array(PreviewEvent, { minItems: 1, maxItems: 200 }),
  },
  {
    additionalProperties: false,
    examples: [
      {
        customer: { segment: 'smb', timezone: 'America/Sao_Paulo' },
        events: [{ type: 'delivery', occurred_at: '2026-11-20T13:00:00Z' }],
      },
    ],
  },
);

export const PreviewResponse = Type.Object({
  touchpoints: Type.Array(
    Type.Object({
      step: Type.String(),
      channel: Type.String(),
      template: Type.String(),
      due_at: Timestamp,
      status: Type.Enum(['scheduled', 'skipped', 'cancelled']),
      reason: Type.Optional(Type.String()),
    }),
  ),
  exited: Type.Array(Type.Object({ playbook: Type.String(), reason: Type.String(), at: Timestamp })),
});
