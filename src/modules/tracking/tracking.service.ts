import type { Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import type { DB } from '../../db/types.js';
import { AppError } from '../../errors.js';
import type { Secrets } from '../../secrets.js';
import { effectiveConsent } from '../customers/consent.js';
import { setConsent } from '../customers/customers.service.js';
import { SURVEY_SCALES } from '../events/event-types.js';
import { ingestEvent } from '../events/events.service.js';
import type { EventPlanner } from '../events/planner.js';
import { emitEvent, touchpointEventData, touchpointEventSource } from '../outbox/outbox.js';
import { isScoreOf, type SurveyKind, surveyKindOf } from './survey-kind.js';
import { findTrackedTouchpoint, recordEngagement } from './tracking.repository.js';
import { type PageLanguage, pageLanguage } from './tracking-pages.js';
import { type TrackingClaims, type TrackingKind, verifyTrackingToken } from './tracking-token.js';

export interface TrackingContext {
  readonly db: Database;
  readonly clock: Clock;
  readonly secrets: Secrets;
  /** Ingest's planner: a survey answer is an event, planned like any other (e.g. a detractor follow-up). */
  readonly planner: EventPlanner;
}

/** Who a page speaks to: the customer's language (else the workspace's) and the shop's name. */
export interface PageAudience {
  readonly language: PageLanguage;
  readonly shop: string;
}

// The same answer for a forged token and for a touchpoint that is gone: a link either works or not.
const linkNotFound = () => new AppError('link_not_found', 404, 'This link is not valid or no longer exists.');

async function claimsOf(ctx: TrackingContext, token: string, kind: TrackingKind): Promise<TrackingClaims> {
  const claims = verifyTrackingToken(await ctx.secrets.signingKey(), token, kind);
  if (!claims) throw linkNotFound();
  return claims;
}

async function trackedTouchpoint(ctx: TrackingContext, claims: TrackingClaims) {
  const touchpoint = await findTrackedTouchpoint(ctx.db, claims.workspaceId, claims.touchpointId);
  if (!touchpoint) throw linkNotFound();
  return touchpoint;
}

const audienceOf = (touchpoint: {
  readonly customerLocale: string | null;
  readonly workspaceLocale: string;
  readonly workspaceName: string;
}): PageAudience => ({
  language: pageLanguage(touchpoint.customerLocale ?? touchpoint.workspaceLocale),
  shop: touchpoint.workspaceName,
});

/** The open pixel: records the first open (and delivery, which an open proves). */
export async function trackOpen(ctx: TrackingContext, token: string): Promise<void> {
  const claims = await claimsOf(ctx, token, 'o');
  await recordEngagement(
    ctx.db,
    claims.workspaceId,
    claims.touchpointId,
    ['delivered', 'opened'],
    ctx.clock.now(),
  );
}

/** The destination for a Location header: http(s) only; undefined for anything else. */
function redirectTarget(raw: string | undefined): string | undefined {
  if (raw === undefined || !URL.canParse(raw)) return undefined;
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  // As sealed when it is plain visible ASCII; otherwise the parsed form, which is header-safe.
  return /^[\x21-\x7e]+$/.test(raw) ? raw : url.href;
}

/** A click: records it (a click proves the open and the delivery) and returns the sealed destination. */
export async function trackClick(ctx: TrackingContext, token: string): Promise<string> {
  const claims = await claimsOf(ctx, token, 'c');
  const target = redirectTarget(claims.url);
  // We never sign anything else, but a key leak must not make us an open redirect to javascript:.
  if (target === undefined) throw linkNotFound();
  await recordEngagement(
    ctx.db,
    claims.workspaceId,
    claims.touchpointId,
    ['delivered', 'opened', 'clicked'],
    ctx.clock.now(),
  );
  return target;
}

/** GET /u/{token}: who the confirmation page is for. Changes nothing (RFC 8058: mail scanners GET links). */
export async function unsubscribePage(ctx: TrackingContext, token: string): Promise<PageAudience> {
  return audienceOf(await trackedTouchpoint(ctx, await claimsOf(ctx, token, 'u')));
}

/**
 * The unsubscribe itself (POST, RFC 8058 one-click): opts the customer out of email through
 * the consent API's own function (source `unsubscribe`), and marks the touchpoint. Pending
 * emails are left as planned: the dispatcher checks consent when each one falls due, so an
 * opt-out stops them all, and opting in again later brings them back. Idempotent: a customer
 * already opted out is not written again (the first opt-out keeps its time).
 */
export async function unsubscribe(ctx: TrackingContext, token: string): Promise<PageAudience> {
  const claims = await claimsOf(ctx, token, 'u');
  const touchpoint = await trackedTouchpoint(ctx, claims);
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const stored = (touchpoint.customerConsent ?? {}) as Record<string, unknown>;
    // An erased customer holds no consent and gets no email: there is nothing to withdraw.
    if (touchpoint.customerErasedAt === null && effectiveConsent(stored).email.status !== 'opted_out') {
      await setConsent(
        { db: trx, clock: { now: () => now } },
        claims.workspaceId,
        touchpoint.customerExternalId,
        'email',
        'opted_out',
        'unsubscribe',
      );
    }
    await recordEngagement(trx, claims.workspaceId, touchpoint.id, ['delivered', 'unsubscribed'], now);
  });
  return audienceOf(touchpoint);
}

/** The client id of the one survey_response event a touchpoint's survey can produce. */
export const surveyEventId = (touchpointId: string): string => `survey-answer:${touchpointId}`;

export interface SurveyAnswer {
  /** `recorded` now, or `already_answered`: the first answer of the touchpoint stands. */
  readonly status: 'recorded' | 'already_answered';
  readonly survey: SurveyKind;
  readonly score: number;
  readonly audience: PageAudience;
}

/**
 * A survey answer from an email's score link, ingested as a `survey_response` event through
 * the event path (customer facts such as the latest NPS, playbook triggers). In the same
 * transaction the touchpoint is marked answered (and clicked, opened, delivered) and
 * `survey.responded` goes to the outbox. The first answer of a touchpoint wins: its event id
 * is derived from the touchpoint, events are immutable, and one touchpoint counts once in the
 * metrics; a later click, with any score, changes nothing.
 */
export async function answerSurvey(
  ctx: TrackingContext,
  token: string,
  score: number,
): Promise<SurveyAnswer> {
  const claims = await claimsOf(ctx, token, 's');
  const touchpoint = await trackedTouchpoint(ctx, claims);
  // An erased person's answer would re-create data about them under a pseudonym.
  if (touchpoint.customerErasedAt !== null) throw linkNotFound();
  const survey = surveyKindOf(touchpoint.templateKey, touchpoint.templateFamily);
  if (!survey) throw new AppError('not_a_survey', 404, 'This link belongs to no survey.');
  if (!isScoreOf(survey, score)) {
    const [min, max] = SURVEY_SCALES[survey];
    throw new AppError(
      'invalid_score',
      400,
      `The score must be an integer from ${min} to ${max} for a${survey === 'nps' ? 'n' : ''} ${survey} survey.`,
      [{ path: '/querystring/score', message: `must be an integer from ${min} to ${max}` }],
    );
  }
  const audience = audienceOf(touchpoint);
  if (touchpoint.answeredAt !== null) return { status: 'already_answered', survey, score, audience };

  const eventId = surveyEventId(touchpoint.id);
  const planner: EventPlanner = {
    mayPlan: true,
    async plan(trx, input) {
      const plans = await ctx.planner.plan(trx, input);
      const accepted = input.accepted.find((a) => a.event.externalId === eventId);
      if (accepted) await recordAnswer(trx, claims, accepted.id, { survey, score }, input.now);
      return plans;
    },
  };
  const body = {
    id: eventId,
    type: 'survey_response',
    occurred_at: ctx.clock.now().toISOString(),
    customer: { id: touchpoint.customerExternalId },
    properties: { survey, score, touchpoint_id: touchpoint.id },
  };
  try {
    // No group commit: this transaction must hold this one event, for the planner's hook.
    const outcome = await ingestEvent({ db: ctx.db, clock: ctx.clock, planner }, claims.workspaceId, body);
    return {
      status: outcome.status === 'accepted' ? 'recorded' : 'already_answered',
      survey,
      score,
      audience,
    };
  } catch (error) {
    // Two clicks at once: the other one's event won (same id, another body or time).
    if (error instanceof AppError && error.code === 'event_conflict') {
      return { status: 'already_answered', survey, score, audience };
    }
    throw error;
  }
}

/** Inside the ingest transaction of the answer's event: the touchpoint's marks and the outgoing event. */
async function recordAnswer(
  trx: Transaction<DB>,
  claims: TrackingClaims,
  eventId: string,
  answer: { readonly survey: SurveyKind; readonly score: number },
  now: Date,
): Promise<void> {
  const { workspaceId, touchpointId } = claims;
  await recordEngagement(trx, workspaceId, touchpointId, ['delivered', 'opened', 'clicked', 'answered'], now);
  const source = await touchpointEventSource(trx, workspaceId, touchpointId);
  if (!source) throw new Error(`touchpoint ${touchpointId} vanished inside its survey answer`);
  await emitEvent(trx, {
    workspaceId,
    type: 'survey.responded',
    // The stored event's id: one outgoing event per answer, even if this ever ran twice.
    id: eventId,
    at: now,
    data: touchpointEventData(source, source.content, answer),
  });
}
