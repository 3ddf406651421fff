import { DateTime, IANAZone } from 'luxon';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import { notFound, unprocessable } from '../../errors.js';
import type { Secrets } from '../../secrets.js';
import { listTouchpoints, type TouchpointRow } from '../touchpoints/touchpoints.repository.js';
import { findWorkspace } from '../workspaces/workspaces.repository.js';
import { ensureFeedGeneration, findFeedGeneration, rotateFeedGeneration } from './calendar.repository.js';
import { MAX_CALENDAR_DAYS } from './calendar.schemas.js';
import { feedTokenWorkspace, signFeedToken, verifyFeedToken } from './feed-token.js';
import { buildFeed, type FeedTask } from './ics.js';

export interface CalendarContext {
  readonly db: Database;
  readonly clock: Clock;
  readonly secrets: Secrets;
  readonly publicUrl: string;
}

export interface CalendarInput {
  readonly from: string;
  readonly to: string;
  readonly timezone?: string;
  readonly status?: string;
  readonly channel?: string;
  readonly playbook?: string;
}

/** At most this many touchpoints in one calendar answer or feed. */
const MAX_TOUCHPOINTS = 5000;
const DAY_MS = 24 * 60 * 60 * 1000;
// The feed covers recent history (to see what was done) and the planned months ahead.
const FEED_PAST_DAYS = 30;
const FEED_AHEAD_DAYS = 180;
const TASK_KINDS_IN_FEED = ['call', 'meeting', 'whatsapp'];

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** A bound as an instant: a local date is its start (or, for `to`, its end) in `zone`. */
function instant(value: string, zone: string, end: boolean): Date {
  if (!DATE_ONLY.test(value)) return new Date(value);
  const day = DateTime.fromISO(value, { zone }).startOf('day');
  return (end ? day.plus({ days: 1 }) : day).toJSDate();
}

async function workspaceOf(ctx: CalendarContext, workspaceId: string) {
  const workspace = await findWorkspace(ctx.db, workspaceId);
  if (!workspace) throw notFound('Workspace');
  return workspace;
}

/** Touchpoints in a window grouped by local day (in the workspace's or the given time zone). */
export async function calendarDays(ctx: CalendarContext, workspaceId: string, input: CalendarInput) {
  if (input.timezone !== undefined && !IANAZone.isValidZone(input.timezone)) {
    throw unprocessable(`unknown IANA time zone "${input.timezone}"`, [
      { path: '/querystring/timezone', message: 'not an IANA time zone' },
    ]);
  }
  const zone = input.timezone ?? (await workspaceOf(ctx, workspaceId)).timezone;
  const from = instant(input.from, zone, false);
  const to = instant(input.to, zone, true);
  if (to <= from) {
    throw unprocessable('`to` must be after `from`', [
      { path: '/querystring/to', message: 'must be after from' },
    ]);
  }
  if (to.getTime() - from.getTime() > MAX_CALENDAR_DAYS * DAY_MS + 2 * 60 * 60 * 1000) {
    // The slack of two hours lets a window of whole local days cross a DST change.
    throw unprocessable(`The window is longer than ${MAX_CALENDAR_DAYS} days; ask for a shorter one.`, [
      { path: '/querystring/to', message: `at most ${MAX_CALENDAR_DAYS} days after from` },
    ]);
  }
  const rows = await listTouchpoints(ctx.db, workspaceId, {
    status: input.status,
    channel: input.channel,
    playbook: input.playbook,
    from,
    to,
    limit: MAX_TOUCHPOINTS + 1,
  });
  const days = new Map<string, TouchpointRow[]>();
  for (const row of rows.slice(0, MAX_TOUCHPOINTS)) {
    const date = DateTime.fromJSDate(row.dueAt, { zone }).toISODate() ?? '';
    const day = days.get(date);
    if (day) day.push(row);
    else days.set(date, [row]);
  }
  return {
    timezone: zone,
    from,
    to,
    days: [...days].map(([date, touchpoints]) => ({ date, touchpoints })),
    truncated: rows.length > MAX_TOUCHPOINTS,
  };
}

function feedUrlFor(ctx: CalendarContext, key: Buffer, workspaceId: string, generation: number): string {
  return `${ctx.publicUrl}/v1/calendar.ics?token=${signFeedToken(key, workspaceId, generation)}`;
}

/** The workspace's secret feed URL: the same one each time until rotated. */
export async function calendarFeedUrl(ctx: CalendarContext, workspaceId: string): Promise<string> {
  const generation = await ensureFeedGeneration(ctx.db, workspaceId, ctx.clock.now());
  return feedUrlFor(ctx, await ctx.secrets.signingKey(), workspaceId, generation);
}

/** Revokes every feed URL given out before and returns the new one. */
export async function rotateCalendarFeedUrl(ctx: CalendarContext, workspaceId: string): Promise<string> {
  const generation = await rotateFeedGeneration(ctx.db, workspaceId, ctx.clock.now());
  return feedUrlFor(ctx, await ctx.secrets.signingKey(), workspaceId, generation);
}

function feedTask(row: TouchpointRow): FeedTask {
  return {
    id: row.id,
    playbook: row.playbookKey,
    step: row.stepKey,
    taskKind: row.taskKind,
    dueAt: row.dueAt,
    status: row.status,
    updatedAt: row.updatedAt,
    customer: {
      name: row.customerName,
      email: row.customerEmail,
      phone: row.customerPhone,
      erased: row.customerErasedAt !== null,
    },
  };
}

/**
 * The iCalendar feed behind a feed token: the workspace's tasks from a month ago to six months
 * ahead. Any token that is not the current one — forged, altered, rotated away — is a 404
 * that says nothing about why.
 */
export async function calendarFeed(ctx: CalendarContext, token: string): Promise<string> {
  const missing = notFound('Calendar feed');
  const workspaceId = feedTokenWorkspace(token);
  if (!workspaceId) throw missing;
  const generation = await findFeedGeneration(ctx.db, workspaceId);
  const key = await ctx.secrets.signingKey();
  if (generation === undefined || !verifyFeedToken(key, token, workspaceId, generation)) throw missing;
  const workspace = await workspaceOf(ctx, workspaceId);
  const now = ctx.clock.now().getTime();
  const rows = await listTouchpoints(ctx.db, workspaceId, {
    channel: 'task',
    // Skipped tasks never reached anyone's agenda; cancelled ones stay, marked, so calendar
    // apps that already show them take them off.
    excludeStatuses: ['skipped'],
    from: new Date(now - FEED_PAST_DAYS * DAY_MS),
    to: new Date(now + FEED_AHEAD_DAYS * DAY_MS),
    limit: MAX_TOUCHPOINTS,
  });
  const tasks = rows.filter((row) => row.taskKind === null || TASK_KINDS_IN_FEED.includes(row.taskKind));
  return buildFeed(tasks.map(feedTask), {
    publicUrl: ctx.publicUrl,
    name: `Posvenda — ${workspace.name}`,
    now: ctx.clock.now(),
  });
}
