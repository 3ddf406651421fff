import Type from 'typebox';
import { ListQuery, Timestamp } from '../../http/schemas.js';
import { OUTGOING_EVENT_TYPES } from '../outbox/outbox.js';

export const DELIVERY_STATUSES = ['pending', 'sending', 'succeeded', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** An endpoint's subscription: an outgoing event type, or `*` for every type. */
export const SUBSCRIBABLE = [...OUTGOING_EVENT_TYPES, '*'] as const;

const EventType = Type.String({
  description: `An outgoing event type (${OUTGOING_EVENT_TYPES.join(', ')}), or \`*\` for all of them.`,
  examples: ['touchpoint.sent'],
});

export const CreateWebhookBody = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description:
        'Where events are POSTed: an http(s) URL. Unless WEBHOOK_ALLOW_PRIVATE is true, its host must ' +
        'resolve only to public addresses (no loopback, private, link-local, CGNAT …), checked now and ' +
        'again at every connection.',
      examples: ['https://crm.example.com/hooks/posvenda'],
    }),
    events: Type.Array(EventType, {
      minItems: 1,
      maxItems: 20,
      uniqueItems: true,
      examples: [['touchpoint.sent', 'touchpoint.failed']],
    }),
    description: Type.Optional(Type.String({ maxLength: 500, examples: ['CRM sync'] })),
  },
  { additionalProperties: false },
);

export const UpdateWebhookBody = Type.Object(
  {
    url: Type.Optional(CreateWebhookBody.properties.url),
    events: Type.Optional(CreateWebhookBody.properties.events),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
    enabled: Type.Optional(
      Type.Boolean({
        description:
          '`true` turns a disabled endpoint (e.g. after a 410) back on for new events; `false` turns it ' +
          'off and cancels its waiting deliveries.',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ enabled: true }] },
);

export const WEBHOOK_EXAMPLE = {
  id: '019a9a6e-1f00-7000-8000-0000000000aa',
  url: 'https://crm.example.com/hooks/posvenda',
  events: ['touchpoint.sent', 'touchpoint.failed'],
  description: 'CRM sync',
  enabled: true,
  disabled_reason: null,
  created_at: '2026-11-20T13:00:00.000Z',
  previous_secret_expires_at: null,
};

export const Webhook = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    url: Type.String(),
    events: Type.Array(Type.String()),
    description: Type.Union([Type.String(), Type.Null()]),
    enabled: Type.Boolean({
      description: 'False once the endpoint answered 410 Gone: it gets nothing more.',
    }),
    disabled_reason: Type.Union([Type.String(), Type.Null()], { description: '`gone` (it answered 410).' }),
    created_at: Timestamp,
    previous_secret_expires_at: Type.Union([Timestamp, Type.Null()], {
      description:
        'After a secret rotation: until when deliveries are also signed with the old secret. Null when ' +
        'only the current secret signs.',
    }),
  },
  { examples: [WEBHOOK_EXAMPLE] },
);

export const CreatedWebhook = Type.Intersect([
  Webhook,
  Type.Object({
    secret: Type.String({
      description:
        'The signing secret (`whsec_` + base64). Shown once: store it now. Verify `webhook-signature` ' +
        'with it as Standard Webhooks describe.',
      examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    }),
  }),
]);

export const RotateSecretBody = Type.Object(
  {
    grace_period: Type.Optional(
      Type.String({
        minLength: 2,
        maxLength: 64,
        description:
          'How long the old secret keeps signing beside the new one: an ISO-8601 duration from `PT0S` ' +
          '(it stops at once, e.g. after a leak) to `P7D`. Default `PT24H`.',
        examples: ['PT24H'],
      }),
    ),
  },
  { additionalProperties: false, examples: [{ grace_period: 'PT48H' }] },
);

const ROTATED_SECRET = 'whsec_x3ZC1aX0yQ9f7sPiLRbOe5VmG6uqk2Tn';

export const RotatedWebhook = Type.Intersect(
  [
    Webhook,
    Type.Object({
      secret: Type.String({
        description:
          'The new signing secret. Shown once: store it now. Until `previous_secret_expires_at` each ' +
          'delivery carries two signatures in `webhook-signature` (`v1,<new> v1,<old>`), so a receiver ' +
          'verifies with either secret; after it, only with this one.',
        examples: [ROTATED_SECRET],
      }),
    }),
  ],
  {
    examples: [
      { ...WEBHOOK_EXAMPLE, previous_secret_expires_at: '2026-11-21T13:00:00.000Z', secret: ROTATED_SECRET },
    ],
  },
);

export const DeliveryParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  delivery_id: Type.String({ format: 'uuid' }),
});

export const DeliveryListQuery = Type.Object(
  {
    ...ListQuery.properties,
    status: Type.Optional(Type.Enum(DELIVERY_STATUSES, { description: 'Only deliveries in this status.' })),
  },
  { additionalProperties: false },
);

const Attempt = Type.Object({
  attempt: Type.Integer({ minimum: 1 }),
  at: Timestamp,
  status_code: Type.Union([Type.Integer(), Type.Null()], { description: 'Null when no response came.' }),
  duration_ms: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()], {
    description: 'Why no usable answer came: refused address, connection error, timeout.',
  }),
  response_excerpt: Type.Union([Type.String(), Type.Null()], {
    description: 'The first KiB of the response body.',
  }),
});

export const Delivery = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    webhook_id: Type.String({ format: 'uuid' }),
    event_id: Type.String({
      format: 'uuid',
      description: 'The event delivered; sent as the `webhook-id` header, the same on every retry.',
    }),
    event_type: Type.String({ examples: ['touchpoint.sent'] }),
    status: Type.Enum(DELIVERY_STATUSES, {
      description:
        'pending (waiting for its next attempt) · sending · succeeded · failed (attempts exhausted, ' +
        'or 410) · cancelled (the endpoint was disabled or deleted first).',
    }),
    attempts: Type.Integer({ minimum: 0 }),
    next_attempt_at: Type.Union([Timestamp, Type.Null()]),
    last_status_code: Type.Union([Type.Integer(), Type.Null()]),
    last_error: Type.Union([Type.String(), Type.Null()]),
    created_at: Timestamp,
    completed_at: Type.Union([Timestamp, Type.Null()]),
    attempt_log: Type.Array(Attempt, { description: 'Every HTTP attempt, first to last.' }),
  },
  {
    examples: [
      {
        id: '019a9a6e-2000-7000-8000-0000000000bb',
        webhook_id: WEBHOOK_EXAMPLE.id,
        event_id: '019a9a6e-1f00-7000-8000-0000000000cc',
        event_type: 'touchpoint.sent',
        status: 'succeeded',
        attempts: 2,
        next_attempt_at: null,
        last_status_code: 200,
        last_error: null,
        created_at: '2026-11-20T13:00:00.000Z',
        completed_at: '2026-11-20T13:00:05.300Z',
        attempt_log: [
          {
            attempt: 1,
            at: '2026-11-20T13:00:00.100Z',
            status_code: 503,
            duration_ms: 120,
            error: null,
            response_excerpt: 'Service Unavailable',
          },
          {
            attempt: 2,
            at: '2026-11-20T13:00:05.200Z',
            status_code: 200,
            duration_ms: 95,
            error: null,
            response_excerpt: 'ok',
          },
        ],
      },
    ],
  },
);
