import Type, { type Static, type TSchema } from 'typebox';
import { Timestamp } from '../../http/schemas.js';
import { EVENT_PROPERTIES, EVENT_TYPE_PATTERN, TYPE_DOC } from './event-types.js';

/** The `customer` of an event: upserted on ingest (given fields overwrite, `attributes` merge). */
export const CustomerInput = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 200, description: "The shop's own customer id." }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 320 })),
    phone: Type.Optional(
      Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$', description: 'E.164, e.g. +5511999990000' }),
    ),
    locale: Type.Optional(Type.String({ minLength: 2, maxLength: 35, description: 'BCP 47' })),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone' })),
    segment: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'e.g. account size' })),
    attributes: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'Free attributes; merged key by key into the stored ones.',
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        id: 'c-42',
        name: 'Ana Souza',
        email: 'ana@example.com',
        phone: '+5511999990000',
        locale: 'pt-BR',
        timezone: 'America/Sao_Paulo',
        segment: 'smb',
        attributes: { plan: 'pro' },
      },
    ],
  },
);

/** One event, as posted. `properties` are checked against the schema of the event's `type`. */
export const EventInput = Type.Object(
  {
    id: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Your id of the event: the idempotency key within the workspace.',
    }),
    type: Type.String({
      pattern: EVENT_TYPE_PATTERN,
      description: 'One of the known types, or custom.<name> (lowercase letters, digits, _).',
      examples: ['delivery'],
    }),
    occurred_at: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'Defaults to now. May be in the past (backfill); at most 5 minutes ahead.',
      }),
    ),
    customer: CustomerInput,
    properties: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), { description: `Depends on type: ${TYPE_DOC}.` }),
    ),
  },
  {
    $id: 'EventInput',
    additionalProperties: false,
    examples: [
      {
        id: 'order-981-delivered',
        type: 'delivery',
        occurred_at: '2026-11-20T13:00:00Z',
        customer: {
          id: 'c-42',
          name: 'Ana Souza',
          email: 'ana@example.com',
          phone: '+5511999990000',
          locale: 'pt-BR',
          timezone: 'America/Sao_Paulo',
          segment: 'smb',
          attributes: {},
        },
        properties: { order_id: '981', amount: 3500.0, currency: 'BRL' },
      },
    ],
  },
);

export const PlannedTouchpoint = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    playbook: Type.String({ description: 'The playbook key.' }),
    step: Type.String({ description: 'The step key.' }),
    channel: Type.String({ examples: ['email'] }),
    due_at: Timestamp,
    status: Type.String({ examples: ['scheduled'] }),
  },
  {
    $id: 'PlannedTouchpoint',
    examples: [
      {
        id: '019a9a6e-1f00-7000-8000-000000000001',
        playbook: 'onboarding',
        step: 'welcome',
        channel: 'email',
        due_at: '2026-11-23T13:00:00.000Z',
        status: 'scheduled',
      },
    ],
  },
);

export const EventAccepted = Type.Object(
  {
    id: Type.String({ description: 'Your id of the event.' }),
    status: Type.Enum(['accepted', 'duplicate'], {
      description: 'duplicate: this id was already accepted with the same body; nothing changed.',
    }),
    customer_id: Type.String({ description: "The event's customer.id." }),
    touchpoints: Type.Array(Type.Ref('PlannedTouchpoint'), {
      description: 'Touchpoints planned because of this event (empty for a duplicate).',
    }),
    exited: Type.Array(
      Type.Object({ playbook: Type.String(), reason: Type.String() }, { additionalProperties: false }),
      { description: 'Enrollments this event ended.' },
    ),
  },
  {
    $id: 'EventAccepted',
    examples: [
      { id: 'order-981-delivered', status: 'accepted', customer_id: 'c-42', touchpoints: [], exited: [] },
    ],
  },
);
export type EventAcceptedBody = Static<typeof EventAccepted>;

export const BatchBody = Type.Object(
  { events: Type.Array(Type.Ref('EventInput'), { minItems: 1, maxItems: 1000 }) },
  {
    additionalProperties: false,
    description: 'Each event is checked on its own: a bad one is rejected, the others go in.',
    examples: [
      {
        events: [
          {
            id: 'order-982',
            type: 'purchase',
            customer: { id: 'c-43' },
            properties: { amount: 120, order_id: '982' },
          },
          {
            id: 'c-43-nps-1',
            type: 'survey_response',
            customer: { id: 'c-43' },
            properties: { survey: 'nps', score: 10 },
          },
        ],
      },
    ],
  },
);

const BatchItemResult = Type.Object({
  id: Type.Union([Type.String(), Type.Null()], { description: "The event's id (null when it had none)." }),
  status: Type.Enum(['accepted', 'duplicate', 'rejected']),
  customer_id: Type.Optional(Type.String()),
  code: Type.Optional(
    Type.String({ description: 'Why it was rejected: validation_failed, unprocessable or event_conflict.' }),
  ),
  error: Type.Optional(Type.String({ description: 'Why it was rejected, for people.' })),
  errors: Type.Optional(
    Type.Array(Type.Object({ path: Type.String(), message: Type.String() }), {
      description: 'Field problems, with JSON Pointers into the request body.',
    }),
  ),
});

export const BatchResult = Type.Object(
  { results: Type.Array(BatchItemResult, { description: 'One result per posted event, in order.' }) },
  {
    examples: [
      {
        results: [
          { id: 'order-982', status: 'accepted', customer_id: 'c-43' },
          {
            id: 'c-43-nps-1',
            status: 'rejected',
            code: 'validation_failed',
            error: '/body/events/1/properties/score must be at most 10 for an nps survey',
            errors: [
              { path: '/body/events/1/properties/score', message: 'must be at most 10 for an nps survey' },
            ],
          },
        ],
      },
    ],
  },
);

/** Schemas referenced by `$ref` from the routes; registered once with the app. */
export const SHARED_EVENT_SCHEMAS: readonly TSchema[] = [
  EventInput,
  PlannedTouchpoint,
  EventAccepted,
  ...Object.values(EVENT_PROPERTIES),
];
