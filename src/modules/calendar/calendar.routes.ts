import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { AUTH_PROBLEMS, problems } from '../../http/schemas.js';
import { presentTouchpoint } from '../touchpoints/touchpoint-view.js';
import { CalendarDays, CalendarQuery, FeedQuery, FeedUrl } from './calendar.schemas.js';
import {
  type CalendarContext,
  calendarDays,
  calendarFeed,
  calendarFeedUrl,
  rotateCalendarFeedUrl,
} from './calendar.service.js';

const tags = ['calendar'];

/** `/v1/calendar…`: touchpoints by local day, and the secret iCalendar feed of tasks. */
export const calendarRoutes: FastifyPluginAsyncTypebox<{ ctx: CalendarContext }> = async (app, { ctx }) => {
  app.get(
    '/calendar',
    {
      config: { access: 'read' },
      schema: {
        tags,
        operationId: 'getCalendar',
        summary: 'Touchpoints in a window of at most 92 days, grouped by local day',
        description:
          "Days are in the workspace's time zone unless `timezone` says otherwise. `from` and `to` are " +
          'local dates (both inclusive) or instants (`to` exclusive). An unknown time zone, `to` not after ' +
          '`from` or a window over 92 days answers 422.',
        querystring: CalendarQuery,
        response: { 200: CalendarDays, ...problems(...AUTH_PROBLEMS, 422) },
      },
    },
    async (request) => {
      const result = await calendarDays(ctx, request.principal.workspaceId, request.query);
      return {
        timezone: result.timezone,
        from: result.from.toISOString(),
        to: result.to.toISOString(),
        days: result.days.map((day) => ({
          date: day.date,
          touchpoints: day.touchpoints.map(presentTouchpoint),
        })),
        truncated: result.truncated,
      };
    },
  );

  app.get(
    '/calendar/feed-url',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'getCalendarFeedUrl',
        summary: 'The secret iCalendar feed URL of the workspace’s tasks (the same until rotated)',
        description:
          'Anyone holding the URL reads task details (customer names and contacts) without a key, so only ' +
          'admin keys get it. Subscribe to it from Google Calendar, Outlook or Apple Calendar.',
        response: { 200: FeedUrl, ...problems(...AUTH_PROBLEMS) },
      },
    },
    async (request) => ({ url: await calendarFeedUrl(ctx, request.principal.workspaceId) }),
  );

  app.post(
    '/calendar/feed-url/rotate',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        operationId: 'rotateCalendarFeedUrl',
        summary: 'Revoke every feed URL given out so far and get a new one',
        response: { 200: FeedUrl, ...problems(...AUTH_PROBLEMS) },
      },
    },
    async (request) => ({ url: await rotateCalendarFeedUrl(ctx, request.principal.workspaceId) }),
  );

  app.get(
    '/calendar.ics',
    {
      // No API key: calendar apps cannot send one. The signed token in the URL is the credential.
      config: { access: 'public' },
      schema: {
        tags,
        operationId: 'getCalendarFeed',
        summary: 'The iCalendar feed of call, meeting and WhatsApp tasks (no API key; signed token)',
        description:
          'Tasks due from 30 days ago to 180 days ahead; cancelled ones carry STATUS:CANCELLED, skipped ones ' +
          'are left out. A wrong, altered or rotated-away token answers 404.',
        querystring: FeedQuery,
        response: {
          200: {
            description: 'An iCalendar (RFC 5545) document.',
            content: { 'text/calendar': { schema: Type.String() } },
          },
          ...problems(400, 404, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const body = await calendarFeed(ctx, request.query.token);
      return reply
        .type('text/calendar; charset=utf-8')
        .header('cache-control', 'private, max-age=300')
        .header('content-disposition', 'inline; filename="posvenda.ics"')
        .send(body);
    },
  );
};
