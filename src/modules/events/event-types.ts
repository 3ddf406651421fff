import Type, { type TSchema } from 'typebox';

// The event types of API.md "Events" and the properties each one takes.

const Money = Type.Number({ minimum: 0, maximum: 1e12, examples: [3500] });
const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217', examples: ['BRL'] });
const ShortText = Type.String({ minLength: 1, maxLength: 200 });
const LongText = Type.String({ maxLength: 5000 });

const Product = Type.Object(
  {
    sku: ShortText,
    category: Type.Optional(ShortText),
    quantity: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e6 })),
    price: Type.Optional(Money),
  },
  { additionalProperties: false },
);

function props<T extends Record<string, TSchema>>(
  id: string,
  properties: T,
  example: Record<string, unknown>,
) {
  return Type.Object(properties, { $id: id, additionalProperties: false, examples: [example] });
}

export const TICKET_CATEGORIES = [
  'support',
  'return',
  'exchange',
  'complaint',
  'praise',
  'question',
] as const;

/** Properties of each event type (API.md "Events"); unknown fields are rejected, use `custom.*` for free data. */
export const EVENT_PROPERTIES = {
  purchase: props(
    'PurchaseProperties',
    {
      amount: Money,
      currency: Type.Optional(Currency),
      order_id: Type.Optional(ShortText),
      products: Type.Optional(Type.Array(Product, { maxItems: 500 })),
      plan: Type.Optional(ShortText),
    },
    {
      amount: 3500,
      currency: 'BRL',
      order_id: '981',
      products: [{ sku: 'NB-14', category: 'notebooks', quantity: 1, price: 3500 }],
    },
  ),
  delivery: props(
    'DeliveryProperties',
    {
      order_id: Type.Optional(ShortText),
      amount: Type.Optional(Money),
      currency: Type.Optional(Currency),
      carrier: Type.Optional(ShortText),
      tracking_code: Type.Optional(ShortText),
    },
    { order_id: '981', amount: 3500, currency: 'BRL' },
  ),
  first_use: props('FirstUseProperties', { feature: Type.Optional(ShortText) }, { feature: 'reports' }),
  activity: props(
    'ActivityProperties',
    { action: Type.Optional(ShortText), feature: Type.Optional(ShortText) },
    { action: 'login' },
  ),
  usage: props(
    'UsageProperties',
    {
      metric: ShortText,
      value: Type.Number({ minimum: 0 }),
      limit: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    },
    { metric: 'seats', value: 8, limit: 10 },
  ),
  inactivity: props(
    'InactivityProperties',
    { days: Type.Integer({ minimum: 0, maximum: 36500 }) },
    { days: 15 },
  ),
  renewal: props(
    'RenewalProperties',
    {
      amount: Type.Optional(Money),
      currency: Type.Optional(Currency),
      plan: Type.Optional(ShortText),
      order_id: Type.Optional(ShortText),
    },
    { plan: 'pro', amount: 1200, currency: 'BRL' },
  ),
  cancellation: props(
    'CancellationProperties',
    { reason: Type.Optional(ShortText), plan: Type.Optional(ShortText) },
    { reason: 'price' },
  ),
  survey_response: props(
    'SurveyResponseProperties',
    {
      survey: Type.Enum(['nps', 'ces', 'csat']),
      score: Type.Integer({ description: 'NPS 0–10, CES 1–7, CSAT 1–5.' }),
      comment: Type.Optional(LongText),
      touchpoint_id: Type.Optional(Type.String({ format: 'uuid' })),
    },
    { survey: 'nps', score: 9, comment: 'Entrega rápida!' },
  ),
  support_ticket: props(
    'SupportTicketProperties',
    {
      ticket_id: ShortText,
      category: Type.Optional(Type.Enum(TICKET_CATEGORIES)),
      channel: Type.Optional(Type.String({ minLength: 1, maxLength: 50, examples: ['whatsapp'] })),
    },
    { ticket_id: 'T-1001', category: 'support', channel: 'whatsapp' },
  ),
  custom: Type.Record(Type.String(), Type.Unknown(), {
    $id: 'CustomProperties',
    description: 'Free properties of a `custom.<name>` event.',
    examples: [{ coupon: 'VOLTA10' }],
  }),
} as const;

/** The ranges of survey scores, per survey. */
export const SURVEY_SCALES = { nps: [0, 10], ces: [1, 7], csat: [1, 5] } as const;

export const KNOWN_TYPES = [
  'purchase',
  'delivery',
  'first_use',
  'activity',
  'usage',
  'inactivity',
  'renewal',
  'cancellation',
  'survey_response',
  'support_ticket.opened',
  'support_ticket.first_response',
  'support_ticket.resolved',
  'support_ticket.reopened',
] as const;

export const EVENT_TYPE_PATTERN = `^(${KNOWN_TYPES.map((t) => t.replace('.', '\\.')).join('|')}|custom\\.[a-z0-9_]{1,64})$`;

export const TYPE_DOC = [
  'purchase → PurchaseProperties',
  'delivery → DeliveryProperties',
  'first_use → FirstUseProperties',
  'activity → ActivityProperties',
  'usage → UsageProperties',
  'inactivity → InactivityProperties',
  'renewal → RenewalProperties',
  'cancellation → CancellationProperties',
  'survey_response → SurveyResponseProperties',
  'support_ticket.{opened,first_response,resolved,reopened} → SupportTicketProperties',
  'custom.<name> → CustomProperties (free)',
].join('; ');
