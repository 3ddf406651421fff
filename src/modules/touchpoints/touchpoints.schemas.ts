import Type, { type TSchema } from 'typebox';
import { ListQuery, Timestamp } from '../../http/schemas.js';
import { TASK_KINDS } from '../templates/template-document.js';
import { CallScript } from '../templates/templates.schemas.js';

export const TOUCHPOINT_STATUSES = [
  'scheduled',
  'queued',
  'sending',
  'sent',
  'failed',
  'skipped',
  'cancelled',
  'pending',
  'completed',
] as const;
export type TouchpointStatus = (typeof TOUCHPOINT_STATUSES)[number];

export const TOUCHPOINT_CHANNELS = ['email', 'webhook', 'task'] as const;

const Status = Type.Enum(TOUCHPOINT_STATUSES, {
  description:
    'scheduled → queued → sending → sent | failed | skipped | cancelled; tasks: scheduled → queued → ' +
    'pending → completed | cancelled.',
});
const Channel = Type.Enum(TOUCHPOINT_CHANNELS);
const PlaybookKey = Type.String({ minLength: 1, maxLength: 100, examples: ['onboarding'] });

export const TOUCHPOINT_EXAMPLE = {
  id: '019a9a6e-1f00-7000-8000-000000000001',
  customer_id: 'c-42',
  playbook: 'onboarding',
  step: 'checkin-call',
  channel: 'task',
  template: 'checkin-call',
  template_version: null,
  variant: null,
  due_at: '2026-11-30T13:00:00.000Z',
  status: 'scheduled',
  status_reason: null,
  task_kind: 'call',
  outcome: null,
  created_at: '2026-11-20T13:00:01.000Z',
  updated_at: '2026-11-20T13:00:01.000Z',
};

/** The fields of a touchpoint in lists, for schemas that embed them (the customer timeline). */
export const touchpointProperties = {
  id: Type.String({ format: 'uuid' }),
  customer_id: Type.String({ description: "The shop's customer id (an erased customer's pseudonym)." }),
  playbook: Type.String({ description: 'The playbook key.' }),
  step: Type.String({ description: 'The step key.' }),
  channel: Channel,
  template: Type.String({ description: 'The template key.' }),
  template_version: Type.Union([Type.Integer(), Type.Null()], {
    description: 'The template version rendered for the customer; null until rendered.',
  }),
  variant: Type.Union([Type.String(), Type.Null()], { description: 'The A/B variant; null until rendered.' }),
  due_at: Timestamp,
  status: Status,
  status_reason: Type.Union([Type.String(), Type.Null()], {
    description:
      'Why it is where it is. skipped: late, condition, consent, no_address, frequency_cap, ' +
      'smtp_not_configured (rendered and stored, not sent); cancelled: exited:<reason>, manual, erased; ' +
      'failed: smtp_rejected (5xx), smtp_unavailable (4xx or no connection after every retry), ' +
      'template_missing, render_error, error; scheduled again: frequency_cap, quiet_hours (moved by ' +
      'the dispatcher), rescheduled (a task outcome).',
  }),
  task_kind: Type.Union([Type.Enum(TASK_KINDS), Type.Null()], {
    description: 'For tasks: what the person does.',
  }),
  outcome: Type.Union([Type.String(), Type.Null()], { description: 'For tasks: what the person recorded.' }),
  created_at: Timestamp,
  updated_at: Timestamp,
};

/** A touchpoint as lists show it. */
export const Touchpoint = Type.Object(touchpointProperties, {
  $id: 'Touchpoint',
  additionalProperties: false,
  examples: [TOUCHPOINT_EXAMPLE],
});

const TouchpointCustomer = Type.Object(
  {
    id: Type.String({ description: "The shop's customer id." }),
    name: Type.Union([Type.String(), Type.Null()]),
    email: Type.Union([Type.String(), Type.Null()]),
    phone: Type.Union([Type.String(), Type.Null()]),
    segment: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);

/** What the dispatcher rendered, in the shape of a template preview. */
const RenderedContent = Type.Object(
  {
    rendered_at: Timestamp,
    channel: Channel,
    subject: Type.Optional(Type.String()),
    html: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    text: Type.Optional(Type.String()),
    script: Type.Optional(CallScript),
    payload: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

const DeliveryAttempt = Type.Object(
  {
    attempt: Type.Integer({ minimum: 1 }),
    at: Timestamp,
    status: Type.Enum(['succeeded', 'failed']),
    error: Type.Union([Type.String(), Type.Null()], { description: 'Why it failed, for people.' }),
    provider_message_id: Type.Union([Type.String(), Type.Null()], {
      description: 'The SMTP Message-ID or the webhook delivery id.',
    }),
  },
  { additionalProperties: false },
);

/** One touchpoint with its customer, rendered content and delivery attempts. */
export const TouchpointDetail = Type.Object(
  {
    ...touchpointProperties,
    outcome_notes: Type.Union([Type.String(), Type.Null()]),
    customer: TouchpointCustomer,
    content: Type.Union([RenderedContent, Type.Null()], {
      description: 'The rendered template or call script; null until the dispatcher renders it.',
    }),
    attempts: Type.Array(DeliveryAttempt, { description: 'Delivery attempts, oldest first.' }),
  },
  {
    $id: 'TouchpointDetail',
    additionalProperties: false,
    examples: [
      {
        ...TOUCHPOINT_EXAMPLE,
        outcome_notes: null,
        customer: {
          id: 'c-42',
          name: 'Ana Souza',
          email: 'ana@example.com',
          phone: '+5511999990000',
          segment: 'enterprise',
        },
        content: null,
        attempts: [],
      },
    ],
  },
);

export const TouchpointFilters = {
  status: Type.Optional(Status),
  channel: Type.Optional(Channel),
  playbook: Type.Optional(PlaybookKey),
};

export const TouchpointListQuery = Type.Object(
  {
    ...ListQuery.properties,
    ...TouchpointFilters,
    customer_id: Type.Optional(
      Type.String({ minLength: 1, maxLength: 255, description: "The shop's customer id." }),
    ),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'due_at ≥ from.' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'due_at < to.' })),
  },
  {
    additionalProperties: false,
    examples: [{ status: 'scheduled', channel: 'task', from: '2026-11-23T00:00:00Z', limit: 50 }],
  },
);

export const TASK_OUTCOMES = ['completed', 'no_answer', 'rescheduled', 'escalated', 'converted'] as const;
export type TaskOutcome = (typeof TASK_OUTCOMES)[number];

/** What a person records after acting on a task (a call, a meeting, a WhatsApp conversation). */
export const TaskOutcomeBody = Type.Object(
  {
    outcome: Type.Enum(TASK_OUTCOMES, {
      description:
        '`rescheduled` puts the task back on the calendar at `reschedule_at` (it becomes `scheduled` ' +
        'again and is re-rendered when due); every other outcome completes it.',
    }),
    notes: Type.Optional(Type.String({ maxLength: 10_000, description: 'What happened, for people.' })),
    reschedule_at: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'Required with `rescheduled`, and only with it: when to do the task again (future).',
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      { outcome: 'completed', notes: 'Cliente satisfeita; pediu material sobre relatórios.' },
      { outcome: 'rescheduled', reschedule_at: '2026-11-24T14:00:00Z', notes: 'Pediu para ligar segunda.' },
    ],
  },
);

/** Schemas referenced by `$ref` from the touchpoint, calendar and customer routes. */
export const SHARED_TOUCHPOINT_SCHEMAS: readonly TSchema[] = [Touchpoint, TouchpointDetail];
