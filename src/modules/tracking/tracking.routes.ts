import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import Type from 'typebox';
import { AppError } from '../../errors.js';
import { buildValidator } from '../../http/validation.js';
import { htmlPage, OneClickBody, problemOrPage, SurveyQuery, TokenParams } from './tracking.schemas.js';
import {
  answerSurvey,
  type TrackingContext,
  trackClick,
  trackOpen,
  unsubscribe,
  unsubscribePage,
} from './tracking.service.js';
import {
  errorPage,
  PIXEL_GIF,
  surveyThanksPage,
  unsubscribeConfirmPage,
  unsubscribedPage,
} from './tracking-pages.js';

const tags = ['tracking'];

/**
 * Per address, on the links people click by hand (each is a transaction): far above any person,
 * far below a flood. The pixel and clicks keep the app-wide limit: mail proxies fetch them for
 * many people from few addresses, and a repeated one costs a primary-key lookup.
 */
export const PERSON_LINKS_PER_SECOND = 10;

// Tokens sit in these URLs: keep them out of caches, referrers and search engines, and let the
// pages do nothing but show text and post their own form.
const PAGE_HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
} as const;

const sendPage = (reply: FastifyReply, status: number, html: string) =>
  reply.code(status).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(html);

const wantsHtml = (request: FastifyRequest): boolean => /\btext\/html\b/i.test(request.headers.accept ?? '');

function statusOf(error: FastifyError | AppError | Error): number {
  if (error instanceof AppError) return error.status;
  const fe = error as FastifyError & { validation?: unknown };
  if (Array.isArray(fe.validation)) return 400;
  return typeof fe.statusCode === 'number' ? fe.statusCode : 500;
}

// The one-click body is read but not needed: the token is the whole request (RFC 8058 senders
// post `List-Unsubscribe=One-Click`, browsers the confirmation form, some clients nothing).
const params = buildValidator();
const bodyIgnored: FastifySchemaCompiler<unknown> = (route) =>
  route.httpPart === 'body' ? (value) => ({ value }) : params(route);

const PROBLEMS = {
  404: problemOrPage('The token is forged, altered, of another kind of link, or its touchpoint is gone.'),
  429: problemOrPage('Too many requests from this address.'),
};

/**
 * The public links of emails: open pixel, click redirect, unsubscribe, survey answer (no API
 * key). GET routes get no automatic HEAD twin: link checkers send HEAD, which must record nothing.
 */
export const trackingRoutes: FastifyPluginAsyncTypebox<{
  ctx: TrackingContext;
  /** The app-wide requests per second (RATE_LIMIT_RPS); people's links get at most PERSON_LINKS_PER_SECOND. */
  rps: number;
}> = async (app, { ctx, rps }) => {
  const personLimit = { max: Math.min(rps, PERSON_LINKS_PER_SECOND) };
  // Browsers get a page rather than JSON; other clients keep problem+json from the app's handler.
  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    const status = statusOf(error);
    if (status < 400 || status >= 500 || !wantsHtml(request)) throw error;
    if (error instanceof AppError && error.headers) reply.headers(error.headers);
    return sendPage(reply, status, errorPage(status));
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined));

  app.get(
    '/t/o/:token',
    {
      config: { access: 'public' },
      exposeHeadRoute: false,
      schema: {
        tags,
        operationId: 'trackOpen',
        summary: 'Open pixel: a 1×1 GIF that records the first open of an email',
        description:
          'Records `opened_at` (and `delivered_at`, which an open proves) the first time; later loads change ' +
          'nothing. A forged or altered token answers 404 and records nothing.',
        params: TokenParams,
        response: {
          200: { description: 'A 1×1 transparent GIF.', content: { 'image/gif': { schema: Type.String() } } },
          ...PROBLEMS,
        },
      },
    },
    async (request, reply) => {
      await trackOpen(ctx, request.params.token);
      return reply.type('image/gif').header('cache-control', 'no-store').send(PIXEL_GIF);
    },
  );

  app.get(
    '/t/c/:token',
    {
      config: { access: 'public' },
      exposeHeadRoute: false,
      schema: {
        tags,
        operationId: 'trackClick',
        summary: 'Tracked link: records the first click and redirects to the URL sealed in the token',
        description:
          'Redirects (302) only to the http(s) URL signed into the token, never to one given in the request. ' +
          'Records `clicked_at` the first time, and `opened_at`/`delivered_at` when not yet set.',
        params: TokenParams,
        response: {
          302: {
            type: 'null',
            description: 'To the destination sealed in the token (Location header).',
            headers: { location: Type.String({ format: 'uri' }) },
          },
          ...PROBLEMS,
        },
      },
    },
    async (request, reply) => {
      const target = await trackClick(ctx, request.params.token);
      return reply
        .headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' })
        .redirect(target, 302);
    },
  );

  app.get(
    '/u/:token',
    {
      config: { access: 'public', rateLimit: personLimit },
      exposeHeadRoute: false,
      schema: {
        tags,
        operationId: 'getUnsubscribe',
        summary: 'Unsubscribe page: asks to confirm with a button (a GET never unsubscribes)',
        description:
          'Mail scanners open every link of an email, so this page changes nothing (RFC 8058); its button ' +
          "POSTs to the same URL. In the customer's language (else the workspace's): Portuguese or English.",
        params: TokenParams,
        response: { 200: htmlPage('The confirmation page.'), ...PROBLEMS },
      },
    },
    async (request, reply) => {
      const { language, shop } = await unsubscribePage(ctx, request.params.token);
      return sendPage(reply, 200, unsubscribeConfirmPage(language, shop));
    },
  );

  app.post(
    '/u/:token',
    {
      config: { access: 'public', rateLimit: personLimit },
      bodyLimit: 4096,
      validatorCompiler: bodyIgnored,
      schema: {
        tags,
        operationId: 'postUnsubscribe',
        summary: 'Unsubscribe (RFC 8058 one-click): opts the customer out of email',
        description:
          "Sets the customer's email consent to `opted_out` (source `unsubscribe`) as " +
          '`PUT /v1/customers/{id}/consent/email` does, and records `unsubscribed_at` on the touchpoint. ' +
          'Pending emails stay planned and are skipped when due while consent is withdrawn. Takes ' +
          '`List-Unsubscribe=One-Click` (form-encoded), any other body or none. Idempotent.',
        params: TokenParams,
        body: { content: { 'application/x-www-form-urlencoded': { schema: OneClickBody } } },
        response: {
          200: htmlPage('Unsubscribed (also when already so).'),
          ...PROBLEMS,
          413: problemOrPage('Body over 4 KiB.'),
        },
      },
    },
    async (request, reply) => {
      const { language, shop } = await unsubscribe(ctx, request.params.token);
      return sendPage(reply, 200, unsubscribedPage(language, shop));
    },
  );

  app.get(
    '/s/:token',
    {
      config: { access: 'public', rateLimit: personLimit },
      exposeHeadRoute: false,
      schema: {
        tags,
        operationId: 'answerSurvey',
        summary: 'Survey answer from an email: records the score and thanks the customer',
        description:
          'Ingests a `survey_response` event (`survey`, `score`, `touchpoint_id`; id `survey-answer:<touchpoint ' +
          'id>`) through the event path, marks the touchpoint answered and emits `survey.responded`, in one ' +
          'transaction. The first answer of a touchpoint stands: later clicks, with any score, change ' +
          'nothing and see the same thanks. A score outside the survey’s range answers 400.',
        params: TokenParams,
        querystring: SurveyQuery,
        response: {
          200: htmlPage('Thanks, in the customer’s language.'),
          400: problemOrPage('No score, or one outside the survey’s range.'),
          ...PROBLEMS,
        },
      },
    },
    async (request, reply) => {
      const answer = await answerSurvey(ctx, request.params.token, request.query.score);
      const { language, shop } = answer.audience;
      return sendPage(reply, 200, surveyThanksPage(language, shop, answer.status === 'already_answered'));
    },
  );
};
