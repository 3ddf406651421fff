import Type from 'typebox';
import { ListQuery, Timestamp } from '../../http/schemas.js';
import { TASK_KINDS, TEMPLATE_CHANNELS, TEMPLATE_KEY_PATTERN, TONES } from './template-document.js';

export const TemplateKey = Type.String({
  pattern: TEMPLATE_KEY_PATTERN,
  description: 'A slug: lower-case letters, digits, "-" and "_", up to 64 characters.',
  examples: ['welcome'],
});
const VariantKey = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$', examples: ['a'] });
const Liquid = (description: string, example: string) =>
  Type.String({ maxLength: 100_000, description, examples: [example] });

const Objection = Type.Object(
  {
    objection: Liquid('What the customer may say.', 'Agora não tenho tempo.'),
    answer: Liquid('How to answer it.', 'Sem problema! Posso te ligar na quinta às 10h?'),
  },
  { additionalProperties: false },
);

export const CallScript = Type.Object(
  {
    kind: Type.Optional(Type.Enum(TASK_KINDS, { description: 'How the person makes the contact.' })),
    title: Type.Optional(Liquid('The task title.', 'Check-in com {{ customer.name }}')),
    opening: Liquid('Empathetic opening.', 'Oi, {{ customer.first_name }}! Tudo bem?'),
    diagnosis: Type.Array(Liquid('A diagnosis question.', 'Como está sendo a configuração?'), {
      minItems: 1,
      maxItems: 30,
    }),
    value_proposal: Liquid('The value on offer.', 'Podemos fazer uma sessão de 20 minutos com você.'),
    call_to_action: Liquid('What to ask for.', 'Posso agendar para amanhã às 10h?'),
    objections: Type.Array(Objection, { maxItems: 30 }),
    escalation: Liquid('When and to whom to escalate.', 'Se houver insatisfação, passe ao gerente.'),
  },
  { additionalProperties: false, description: 'Task templates: a call/meeting/WhatsApp script.' },
);

const Variant = Type.Object(
  {
    key: VariantKey,
    weight: Type.Integer({
      minimum: 0,
      maximum: 10_000,
      default: 1,
      description: 'Relative share of customers; 0 pauses the variant.',
    }),
    subject: Type.Optional(Liquid('Email subject (plain text).', 'Bem-vinda, {{ customer.first_name }}!')),
    html: Type.Optional(Liquid('Email HTML; output is HTML-escaped unless `| raw`.', '<p>Oi!</p>')),
    text: Type.Optional(Liquid('Email plain text; derived from html when absent.', 'Oi!')),
    script: Type.Optional(CallScript),
    payload: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'Webhook templates: a JSON object whose strings, at any depth, are Liquid.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'email: subject + html and/or text · task: script · webhook: payload.',
  },
);

const fields = {
  channel: Type.Enum(TEMPLATE_CHANNELS),
  locale: Type.String({ minLength: 2, maxLength: 35, description: 'BCP 47', examples: ['pt-BR'] }),
  tone: Type.Enum(TONES),
  name: Type.Optional(Type.String({ maxLength: 200, examples: ['Boas-vindas (D+3)'] })),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  family: Type.Optional(
    Type.Union([TemplateKey, Type.Null()], {
      description:
        'The key of the template this one translates or re-tones. A step naming that key renders the ' +
        "family member that best fits the customer's locale and tone.",
    }),
  ),
  variants: Type.Array(Variant, { minItems: 1, maxItems: 20 }),
};

const example = {
  key: 'welcome',
  channel: 'email',
  locale: 'pt-BR',
  tone: 'informal',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject: 'Bem-vinda, {{ customer.first_name }}!',
      html: '<p>Oi, {{ customer.first_name }}! Seu pedido chegou.</p>',
      text: 'Oi, {{ customer.first_name }}! Seu pedido chegou.',
    },
  ],
};

const { key: _key, ...exampleBody } = example;

export const CreateTemplateBody = Type.Object(
  { key: TemplateKey, ...fields },
  { additionalProperties: false, examples: [example] },
);

export const ReplaceTemplateBody = Type.Object(
  { key: Type.Optional(TemplateKey), ...fields },
  {
    additionalProperties: false,
    description: 'The whole new document; saved as the next version. `key`, when given, must match the path.',
    examples: [exampleBody],
  },
);

export const Template = Type.Object(
  {
    key: TemplateKey,
    ...fields,
    version: Type.Integer({ minimum: 1, description: 'The version this document is.' }),
    current_version: Type.Integer({ minimum: 1 }),
    created_at: Timestamp,
    updated_at: Type.String({ format: 'date-time', description: 'When this version was saved.' }),
  },
  { examples: [{ ...example, version: 2, current_version: 2 }] },
);

export const KeyParams = Type.Object({ key: TemplateKey });

export const GetTemplateQuery = Type.Object(
  {
    version: Type.Optional(Type.Integer({ minimum: 1, description: 'A past version; default the current.' })),
  },
  { additionalProperties: false },
);

export const ListTemplatesQuery = Type.Object(
  {
    ...ListQuery.properties,
    channel: Type.Optional(Type.Enum(TEMPLATE_CHANNELS)),
    family: Type.Optional(TemplateKey),
  },
  { additionalProperties: false },
);

const PreviewCustomer = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 200, examples: ['c-42'] }),
    name: Type.Optional(Type.String({ maxLength: 200, examples: ['Ana Souza'] })),
    email: Type.Optional(Type.String({ maxLength: 320 })),
    phone: Type.Optional(Type.String({ maxLength: 40 })),
    locale: Type.Optional(Type.String({ minLength: 2, maxLength: 35 })),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    segment: Type.Optional(Type.String({ maxLength: 100 })),
    attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    facts: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'Derived facts to preview with, e.g. { "orders_count": 3 } → customer.orders_count.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const PreviewBody = Type.Object(
  {
    customer: PreviewCustomer,
    event: Type.Optional(
      Type.Object(
        {
          type: Type.String({ minLength: 1, maxLength: 100, examples: ['delivery'] }),
          occurred_at: Type.Optional(Timestamp),
          properties: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        },
        { additionalProperties: false },
      ),
    ),
    usage: Type.Optional(
      Type.Object(
        { metric: Type.String({ minLength: 1 }), value: Type.Number(), limit: Type.Number() },
        { additionalProperties: false, description: 'Gives usage.value, usage.limit and usage.percent.' },
      ),
    ),
    variant: Type.Optional(VariantKey),
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    workspace_links: Type.Optional(
      Type.Record(
        Type.String({ pattern: '^[a-z0-9_]{1,64}$' }),
        Type.String({ pattern: '^https?://', maxLength: 2000 }),
        {
          description:
            'The shop pages to preview with as workspace.links (help, reports_tutorial, plans, premium_demo, schedule).',
          examples: [{ help: 'https://loja.example/ajuda' }],
        },
      ),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        customer: { id: 'c-42', name: 'Ana Souza', locale: 'pt-BR', timezone: 'America/Sao_Paulo' },
        event: { type: 'delivery', occurred_at: '2026-11-20T13:00:00Z', properties: { amount: 3500 } },
      },
    ],
  },
);

export const Preview = Type.Object({
  template: TemplateKey,
  version: Type.Integer(),
  variant: VariantKey,
  channel: Type.Enum(TEMPLATE_CHANNELS),
  subject: Type.Optional(Type.String()),
  html: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  text: Type.Optional(Type.String()),
  script: Type.Optional(CallScript),
  payload: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
