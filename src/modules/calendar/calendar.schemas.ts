import Type from 'typebox';
import { Timestamp } from '../../http/schemas.js';
import { TouchpointFilters } from '../touchpoints/touchpoints.schemas.js';

/** The longest window `GET /v1/calendar` answers for, in days. */
export const MAX_CALENDAR_DAYS = 92;

const Bound = (description: string) =>
  Type.Union([Type.String({ format: 'date' }), Type.String({ format: 'date-time' })], {
    description,
  });

export const CalendarQuery = Type.Object(
  {
    from: Bound('A local date (from its start, in `timezone`) or an instant; inclusive.'),
    to: Bound('A local date (to its end, inclusive) or an instant (exclusive).'),
    timezone: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: "An IANA time zone for the days; the workspace's by default.",
        examples: ['America/Sao_Paulo'],
      }),
    ),
    ...TouchpointFilters,
  },
  {
    additionalProperties: false,
    examples: [{ from: '2026-11-23', to: '2026-11-29', channel: 'task' }],
  },
);

export const CalendarDays = Type.Object(
  {
    timezone: Type.String({ examples: ['America/Sao_Paulo'] }),
    from: Timestamp,
    to: Timestamp,
    days: Type.Array(
      Type.Object(
        {
          date: Type.String({ format: 'date', examples: ['2026-11-23'] }),
          touchpoints: Type.Array(Type.Ref('Touchpoint')),
        },
        { additionalProperties: false },
      ),
      { description: 'Only days that have touchpoints, in order; touchpoints by due_at, then id.' },
    ),
    truncated: Type.Boolean({
      description:
        'More touchpoints fall in the window than one answer holds; narrow it or use /v1/touchpoints.',
    }),
  },
  {
    additionalProperties: false,
    examples: [
      {
        timezone: 'America/Sao_Paulo',
        from: '2026-11-23T03:00:00.000Z',
        to: '2026-11-30T03:00:00.000Z',
        days: [
          {
            date: '2026-11-23',
            touchpoints: [
              {
                id: '019a9a6e-1f00-7000-8000-000000000001',
                customer_id: 'c-42',
                playbook: 'onboarding',
                step: 'welcome',
                channel: 'email',
                template: 'welcome',
                template_version: null,
                variant: null,
                due_at: '2026-11-23T13:00:00.000Z',
                status: 'scheduled',
                status_reason: null,
                task_kind: null,
                outcome: null,
                created_at: '2026-11-20T13:00:01.000Z',
                updated_at: '2026-11-20T13:00:01.000Z',
              },
            ],
          },
        ],
        truncated: false,
      },
    ],
  },
);

export const FeedUrl = Type.Object(
  { url: Type.String({ format: 'uri', description: 'Secret: anyone holding it reads the task calendar.' }) },
  {
    additionalProperties: false,
    examples: [{ url: 'https://posvenda.example.com/v1/calendar.ics?token=019a…' }],
  },
);

export const FeedQuery = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 200, description: 'From GET /v1/calendar/feed-url.' }) },
  { additionalProperties: false, examples: [{ token: '019a9a6e-1f00-7000-8000-000000000001.q1w2e3…' }] },
);
