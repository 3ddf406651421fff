import Type, { type TSchema } from 'typebox';
import { ListQuery, Timestamp } from '../../http/schemas.js';
import { TOUCHPOINT_EXAMPLE, touchpointProperties } from '../touchpoints/touchpoints.schemas.js';
import { CONSENT_CHANNELS, CONSENT_STATUSES } from './consent.js';
import { LIFECYCLE_STAGES } from './customer-state.js';

const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

export const CustomerParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 200, description: "The shop's customer id." }) },
  { additionalProperties: false },
);

export const ConsentParams = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 200, description: "The shop's customer id." }),
    channel: Type.Enum(CONSENT_CHANNELS),
  },
  { additionalProperties: false },
);

export const ConsentBody = Type.Object(
  { status: Type.Enum(CONSENT_STATUSES) },
  { additionalProperties: false, examples: [{ status: 'opted_out' }] },
);

const ConsentEntry = Type.Object({
  status: Type.Enum(CONSENT_STATUSES),
  source: Type.String({
    description:
      '`default` until someone chooses; then who did: `api`, or `unsubscribe` (the person used the ' +
      'unsubscribe link of an email).',
  }),
  updated_at: NullableTimestamp,
});

export const ConsentResult = Type.Object(
  { channel: Type.Enum(CONSENT_CHANNELS), ...ConsentEntry.properties },
  {
    examples: [
      { channel: 'email', status: 'opted_out', source: 'api', updated_at: '2026-11-20T13:00:00.000Z' },
    ],
  },
);

const PROFILE_EXAMPLE = {
  id: 'c-42',
  name: 'Ana Souza',
  email: 'ana@example.com',
  phone: '+5511999990000',
  locale: 'pt-BR',
  timezone: 'America/Sao_Paulo',
  segment: 'smb',
  attributes: { plan: 'pro' },
  lifecycle_stage: 'onboarding',
  first_seen_at: '2026-11-18T10:00:00.000Z',
  first_purchase_at: '2026-11-18T10:00:00.000Z',
  last_purchase_at: '2026-11-18T10:00:00.000Z',
  last_activity_at: '2026-11-20T13:00:00.000Z',
  first_use_at: null,
  orders_count: 1,
  revenue_total: 3500,
  average_ticket: 3500,
  currency: 'BRL',
  nps: 9,
  health_score: 97,
  open_tickets: 0,
  consent: {
    email: { status: 'opted_in', source: 'default', updated_at: null },
    phone: { status: 'opted_in', source: 'default', updated_at: null },
    whatsapp: { status: 'opted_out', source: 'default', updated_at: null },
    sms: { status: 'opted_out', source: 'default', updated_at: null },
  },
  created_at: '2026-11-18T10:00:01.000Z',
  updated_at: '2026-11-20T13:00:01.000Z',
};

const NullableString = Type.Union([Type.String(), Type.Null()]);

export const CustomerProfile = Type.Object(
  {
    id: Type.String({ description: "The shop's customer id." }),
    name: NullableString,
    email: NullableString,
    phone: NullableString,
    locale: NullableString,
    timezone: NullableString,
    segment: NullableString,
    attributes: Type.Record(Type.String(), Type.Unknown()),
    lifecycle_stage: Type.Enum(LIFECYCLE_STAGES, {
      description:
        'At read time, first rule that holds: churned (cancelled, no purchase/renewal since); at_risk ' +
        '(latest NPS ≤ 6, an inactivity event after the latest activity, or no activity-class event for ' +
        '30 days); onboarding (no first_use, first purchase/delivery < 30 days ago); adoption (first_use ' +
        '< 30 days ago); active.',
    }),
    first_seen_at: Timestamp,
    first_purchase_at: NullableTimestamp,
    last_purchase_at: NullableTimestamp,
    last_activity_at: Type.Union([Timestamp, Type.Null()], {
      description: 'Latest activity, first_use, usage, purchase or delivery event.',
    }),
    first_use_at: NullableTimestamp,
    orders_count: Type.Integer({ description: 'Purchase events.' }),
    revenue_total: Type.Number({ description: 'Sum of purchase amounts in `currency`.' }),
    average_ticket: Type.Union([Type.Number(), Type.Null()], {
      description: 'revenue_total / purchases in `currency`; null with none.',
    }),
    currency: Type.String({ description: "The workspace's currency; purchases in others are not summed." }),
    nps: Type.Union([Type.Integer({ minimum: 0, maximum: 10 }), Type.Null()], {
      description: 'Score of the latest NPS answer (by occurred_at).',
    }),
    health_score: Type.Integer({
      minimum: 0,
      maximum: 100,
      description:
        'Recency up to 50 (full within 7 days of activity, 0 at 60) + 3 × NPS (15 without) + 20 with no open ' +
        'ticket, 10 with one; 0 when churned.',
    }),
    open_tickets: Type.Integer({ description: 'Tickets whose latest event is not `resolved`.' }),
    consent: Type.Record(Type.String(), ConsentEntry, {
      description:
        'Per channel (email, phone, whatsapp, sms). Defaults: email and phone opted in, others out.',
    }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'CustomerProfile', examples: [PROFILE_EXAMPLE] },
);

export const CustomerListQuery = Type.Object(
  {
    ...ListQuery.properties,
    segment: Type.Optional(Type.String({ minLength: 1, maxLength: 100, examples: ['smb'] })),
    stage: Type.Optional(Type.Enum(LIFECYCLE_STAGES)),
    email: Type.Optional(
      Type.String({ minLength: 1, maxLength: 320, description: 'Exact, case-insensitive.' }),
    ),
  },
  { additionalProperties: false },
);

const EventItem = Type.Object(
  {
    kind: Type.Literal('event'),
    id: Type.String({ description: 'Your id of the event.' }),
    type: Type.String(),
    occurred_at: Timestamp,
    received_at: Timestamp,
    properties: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);

const TouchpointItem = Type.Object(
  { kind: Type.Literal('touchpoint'), ...touchpointProperties },
  { additionalProperties: false, description: 'Placed on the timeline at its due_at.' },
);

export const TimelineItem = Type.Union([EventItem, TouchpointItem], {
  $id: 'TimelineItem',
  description: 'An event (at occurred_at) or a touchpoint (at due_at); tickets join later.',
  examples: [
    {
      kind: 'event',
      id: 'order-981-delivered',
      type: 'delivery',
      occurred_at: '2026-11-20T13:00:00.000Z',
      received_at: '2026-11-20T13:00:01.000Z',
      properties: { order_id: '981', amount: 3500, currency: 'BRL' },
    },
    { kind: 'touchpoint', ...TOUCHPOINT_EXAMPLE },
  ],
});

const ExportedEvent = Type.Object({
  id: Type.String(),
  type: Type.String(),
  occurred_at: Timestamp,
  received_at: Timestamp,
  properties: Type.Record(Type.String(), Type.Unknown()),
  customer: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
    description: 'The customer object as sent with the event.',
  }),
});

export const CustomerExport = Type.Object(
  {
    exported_at: Timestamp,
    customer: Type.Ref('CustomerProfile'),
    events: Type.Array(ExportedEvent),
    touchpoints: Type.Array(Type.Ref('Touchpoint')),
  },
  {
    description: 'Everything Posvenda holds about the person (LGPD art. 18, GDPR art. 15/20).',
    examples: [
      {
        exported_at: '2026-11-21T09:00:00.000Z',
        customer: PROFILE_EXAMPLE,
        events: [
          {
            id: 'order-981-delivered',
            type: 'delivery',
            occurred_at: '2026-11-20T13:00:00.000Z',
            received_at: '2026-11-20T13:00:01.000Z',
            properties: { order_id: '981', amount: 3500, currency: 'BRL' },
            customer: { id: 'c-42', name: 'Ana Souza', email: 'ana@example.com' },
          },
        ],
        touchpoints: [],
      },
    ],
  },
);

/** Schemas referenced by `$ref` from the customer routes. */
export const SHARED_CUSTOMER_SCHEMAS: readonly TSchema[] = [CustomerProfile, TimelineItem];
