import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createKey, createWorkspace, problemOf, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import type { TouchpointItem as Item } from './helpers/touchpoints.js';

const clock = new TestClock('2026-11-20T12:00:00Z');
let t: TestApp;
let key: string;
let other: string;
let n = 0;
const uid = (prefix: string) => `${prefix}-${++n}`;

const get = (url: string, as = key) => call(t.app, 'GET', url, as);
const post = (url: string, as = key, body?: unknown) => call(t.app, 'POST', url, as, body);

async function send(type: string, customer: Record<string, unknown>, as = key): Promise<Item[]> {
  const response = await post('/v1/events', as, {
    id: uid('e'),
    type,
    occurred_at: '2026-11-20T11:00:00Z',
    customer,
    properties: { order_id: uid('o'), amount: 100, currency: 'BRL' },
  });
  expect(response.statusCode).toBe(202);
  return (await get(`/v1/touchpoints?customer_id=${customer.id}&limit=500`, as)).json().data;
}

const enterprise = (id: string, name = 'Ana Souza') => ({
  id,
  name,
  email: 'ana@example.com',
  phone: '+5511999990000',
  timezone: 'America/Sao_Paulo',
  segment: 'enterprise',
});

/** The token in a feed URL, and the path to fetch it by inject. */
const feedPath = (url: string) => url.slice(url.indexOf('/v1/calendar.ics'));

beforeAll(async () => {
  t = await startTestApp({ clock });
  key = (await createWorkspace(t.app, { timezone: 'America/Sao_Paulo' })).key;
  other = (await createWorkspace(t.app)).key;
  // A late-evening call in São Paulo: 22:30 local is 01:30 UTC the next day.
  const playbook = await post('/v1/playbooks', key, {
    key: 'evening-call',
    name: 'Evening call',
    enabled: true,
    trigger: { event: 'custom.evening' },
    reentry: 'always',
    steps: [
      {
        key: 'call',
        after: 'P1D',
        channel: 'task',
        task: { kind: 'call' },
        template: 'checkin-call',
        at: '22:30',
      },
    ],
  });
  expect(playbook.statusCode, playbook.body).toBe(201);
});
afterAll(async () => t.close());

describe('GET /v1/calendar', () => {
  it('groups by local day: 01:30 UTC belongs to the previous day in São Paulo', async () => {
    const id = uid('c');
    const items = await send('custom.evening', enterprise(id));
    const evening = items.find((item) => item.playbook === 'evening-call');
    expect(evening?.due_at).toBe('2026-11-22T01:30:00.000Z');

    const local = await get('/v1/calendar?from=2026-11-21&to=2026-11-22&playbook=evening-call');
    expect(local.statusCode, local.body).toBe(200);
    const body = local.json();
    expect(body).toMatchObject({
      timezone: 'America/Sao_Paulo',
      from: '2026-11-21T03:00:00.000Z',
      to: '2026-11-23T03:00:00.000Z',
      truncated: false,
    });
    const day = body.days.find((d: { touchpoints: Item[] }) =>
      d.touchpoints.some((tp) => tp.id === evening?.id),
    );
    expect(day.date).toBe('2026-11-21');

    const utc = (
      await get('/v1/calendar?from=2026-11-21&to=2026-11-22&playbook=evening-call&timezone=UTC')
    ).json();
    const utcDay = utc.days.find((d: { touchpoints: Item[] }) =>
      d.touchpoints.some((tp) => tp.id === evening?.id),
    );
    expect(utc.timezone).toBe('UTC');
    expect(utcDay.date).toBe('2026-11-22');
  });

  it('lists days in order, touchpoints within a day by due time, and filters by channel', async () => {
    const id = uid('c');
    await send('delivery', enterprise(id));
    const response = await get('/v1/calendar?from=2026-11-20&to=2026-12-31&channel=task');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    const dates = body.days.map((d: { date: string }) => d.date);
    expect(dates).toEqual([...dates].sort());
    expect(new Set(dates).size).toBe(dates.length);
    const all: Item[] = body.days.flatMap((d: { touchpoints: Item[] }) => d.touchpoints);
    expect(all.length).toBeGreaterThan(0);
    expect(all.every((tp) => tp.channel === 'task')).toBe(true);
    expect(all.map((tp) => tp.due_at)).toEqual(all.map((tp) => tp.due_at).sort());
    expect(all.some((tp) => tp.customer_id === id && tp.step === 'checkin-call')).toBe(true);
    // Instants work too, with `to` exclusive.
    const instants = await get('/v1/calendar?from=2026-11-20T00:00:00Z&to=2026-12-20T00:00:00Z');
    expect(instants.json()).toMatchObject({
      from: '2026-11-20T00:00:00.000Z',
      to: '2026-12-20T00:00:00.000Z',
    });
  });

  it('validates the window and the time zone (422), and the query (400)', async () => {
    const long = problemOf(await get('/v1/calendar?from=2026-01-01&to=2026-06-30'));
    expect(long).toMatchObject({ status: 422 });
    expect(long.detail).toContain('92 days');
    expect((await get('/v1/calendar?from=2026-11-01&to=2027-01-31')).statusCode).toBe(200);
    expect(problemOf(await get('/v1/calendar?from=2026-11-10&to=2026-11-01')).status).toBe(422);
    const zone = problemOf(await get('/v1/calendar?from=2026-11-01&to=2026-11-02&timezone=Mars/Olympus'));
    expect(zone.status).toBe(422);
    expect(zone.errors?.[0]?.path).toBe('/querystring/timezone');
    expect((await get('/v1/calendar?from=2026-11-01')).statusCode).toBe(400);
    expect((await get('/v1/calendar?from=soon&to=later')).statusCode).toBe(400);
    expect((await get('/v1/calendar?from=2026-11-01&to=2026-11-02&status=lost')).statusCode).toBe(400);
  });

  it("shows only the caller's workspace", async () => {
    const id = uid('c');
    await send('delivery', enterprise(id));
    const body = (await get('/v1/calendar?from=2026-11-20&to=2027-01-31', other)).json();
    const all: Item[] = body.days.flatMap((d: { touchpoints: Item[] }) => d.touchpoints);
    expect(all.some((tp) => tp.customer_id === id)).toBe(false);
  });
});

describe('calendar feed', () => {
  it('feed-url is the same on every call, needs an admin key, and differs per workspace', async () => {
    const first = await get('/v1/calendar/feed-url');
    expect(first.statusCode).toBe(200);
    const { url } = first.json();
    expect(url).toMatch(
      /^http:\/\/localhost:3000\/v1\/calendar\.ics\?token=[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/,
    );
    expect((await get('/v1/calendar/feed-url')).json().url).toBe(url);
    expect((await get('/v1/calendar/feed-url', other)).json().url).not.toBe(url);
    const reader = await createKey(t.app, key, ['read']);
    expect((await get('/v1/calendar/feed-url', reader.key)).statusCode).toBe(403);
    expect((await post('/v1/calendar/feed-url/rotate', reader.key)).statusCode).toBe(403);
  });

  it('serves an iCalendar of task touchpoints without an API key', async () => {
    const id = uid('c');
    const items = await send('delivery', enterprise(id, 'Bruna Lima'));
    const smb = uid('c');
    await send('delivery', { ...enterprise(smb, 'Carla Dias'), segment: 'smb' });
    const checkin = items.find((item) => item.step === 'checkin-call');
    const { url } = (await get('/v1/calendar/feed-url')).json();
    const response = await call(t.app, 'GET', feedPath(url), undefined);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/calendar; charset=utf-8');
    expect(response.headers['cache-control']).toBe('private, max-age=300');
    const ics = response.body.replace(/\r\n[ \t]/g, '');
    expect(ics.startsWith('BEGIN:VCALENDAR\r\n')).toBe(true);
    expect(ics.trimEnd().endsWith('END:VCALENDAR')).toBe(true);
    const events = ics.split('BEGIN:VEVENT').slice(1);
    const uids = events.map((event) => /UID:(.*)\r\n/.exec(event)?.[1]);
    // Only tasks: every task touchpoint in the window, no emails.
    const tasks = (await get('/v1/touchpoints?channel=task&limit=500')).json().data as Item[];
    const emails = (await get('/v1/touchpoints?channel=email&limit=500')).json().data as Item[];
    expect(uids.sort()).toEqual(tasks.map((tp) => `${tp.id}@posvenda`).sort());
    expect(emails.some((tp) => uids.includes(`${tp.id}@posvenda`))).toBe(false);
    const event = events.find((e) => e.includes(`UID:${checkin?.id}@posvenda`)) ?? '';
    const start = checkin?.due_at.replace(/[-:]/g, '').replace('.000', '');
    expect(event).toContain(`DTSTART:${start}\r\n`);
    expect(event).toContain('SUMMARY:Ligar: Bruna Lima — checkin-call\r\n');
    expect(event).toContain('DURATION:PT30M\r\n');
    expect(event).toContain('STATUS:CONFIRMED\r\n');
    // Made now, by the service's clock (a test clock here).
    const stamp = clock
      .now()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    expect(events.every((e) => e.includes(`DTSTAMP:${stamp}\r\n`))).toBe(true);
    expect(event).toContain('+5511999990000');
    expect(event).toContain(`/v1/touchpoints/${checkin?.id}`);
    expect(event).toContain('onboarding');
  });

  it('marks cancelled tasks CANCELLED; erasing a customer cancels its tasks and keeps it out of the feed', async () => {
    const id = uid('c');
    const items = await send('delivery', enterprise(id, 'Daniela Erased'));
    const kept = uid('c');
    const keptItems = await send('delivery', enterprise(kept, 'Elisa Kept'));
    const task = keptItems.find((item) => item.step === 'checkin-call');
    expect((await post(`/v1/touchpoints/${task?.id}/cancel`)).statusCode).toBe(200);
    expect((await call(t.app, 'DELETE', `/v1/customers/${id}`, key)).statusCode).toBe(204);
    const { url } = (await get('/v1/calendar/feed-url')).json();
    const ics = (await call(t.app, 'GET', feedPath(url), undefined)).body.replace(/\r\n[ \t]/g, '');
    const cancelled = ics.split('BEGIN:VEVENT').find((e) => e.includes(`UID:${task?.id}@posvenda`)) ?? '';
    expect(cancelled).toContain('STATUS:CANCELLED');
    expect(ics).not.toContain('Daniela');
    const erasedTask = items.find((item) => item.step === 'checkin-call');
    const erased = ics.split('BEGIN:VEVENT').find((e) => e.includes(`UID:${erasedTask?.id}@posvenda`)) ?? '';
    expect(erased).toContain('STATUS:CANCELLED');
    expect(erased).toContain('SUMMARY:Ligar: cliente removido — checkin-call');
    expect(erased).not.toContain('ana@example.com');
    expect(erased).not.toContain('+5511999990000');
    const detail = (await get(`/v1/touchpoints/${erasedTask?.id}`)).json();
    expect(detail).toMatchObject({ status: 'cancelled', status_reason: 'exited:erased' });
    expect(detail.customer).toMatchObject({ name: null, email: null, phone: null });
    expect(detail.customer_id).not.toBe(id);
  });

  it('a forged, altered or foreign-looking token is a 404 that reveals nothing', async () => {
    const { url } = (await get('/v1/calendar/feed-url')).json();
    const path = feedPath(url);
    const token = path.slice(path.indexOf('token=') + 6);
    const [workspace, mac] = token.split('.');
    const flipped = `${mac?.slice(0, -2)}${mac?.endsWith('AA') ? 'AB' : 'AA'}`;
    for (const bad of [
      `${workspace}.${flipped}`,
      `${workspace}.${mac}x`,
      `${workspace}.`,
      `019a9a6e-1f00-7000-8000-000000000001.${mac}`,
      'nonsense',
    ]) {
      const response = await call(
        t.app,
        'GET',
        `/v1/calendar.ics?token=${encodeURIComponent(bad)}`,
        undefined,
      );
      const problem = problemOf(response);
      expect(problem.status).toBe(404);
      expect(problem.detail).toBe('Calendar feed not found');
    }
    expect((await call(t.app, 'GET', '/v1/calendar.ics', undefined)).statusCode).toBe(400);
  });

  it('rotate revokes every URL given before and returns the new one', async () => {
    const before = (await get('/v1/calendar/feed-url')).json().url;
    const rotated = await post('/v1/calendar/feed-url/rotate');
    expect(rotated.statusCode).toBe(200);
    const after = rotated.json().url;
    expect(after).not.toBe(before);
    expect((await get('/v1/calendar/feed-url')).json().url).toBe(after);
    expect(problemOf(await call(t.app, 'GET', feedPath(before), undefined)).status).toBe(404);
    expect((await call(t.app, 'GET', feedPath(after), undefined)).statusCode).toBe(200);
  });

  it("a workspace that never asked for a URL has no feed; another workspace's is its own", async () => {
    const fresh = (await createWorkspace(t.app)).key;
    const { url } = (await get('/v1/calendar/feed-url', other)).json();
    const ics = (await call(t.app, 'GET', feedPath(url), undefined)).body;
    expect(ics).not.toContain('Bruna Lima');
    expect((await post('/v1/calendar/feed-url/rotate', fresh)).statusCode).toBe(200);
  });
});

describe('customer timeline', () => {
  it('merges an event and a touchpoint at the same instant, paging one at a time without overlap', async () => {
    const created = await post('/v1/playbooks', key, {
      key: 'instant-task',
      name: 'Instant task',
      enabled: true,
      trigger: { event: 'custom.instant' },
      reentry: 'always',
      steps: [
        { key: 'now', after: 'PT0S', channel: 'task', task: { kind: 'whatsapp' }, template: 'checkin-call' },
      ],
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = uid('c');
    const items = await send('custom.instant', enterprise(id));
    const instant = items.find((item) => item.playbook === 'instant-task');
    expect(instant?.due_at).toBe('2026-11-20T11:00:00.000Z');
    const seen: { kind: string; id: string; occurred_at?: string; due_at?: string }[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/customers/${id}/timeline?limit=1${cursor ? `&cursor=${cursor}` : ''}`;
      const page: { data: typeof seen; next_cursor: string | null } = (await get(url)).json();
      expect(page.data.length).toBeLessThanOrEqual(1);
      seen.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.length).toBe(items.length + 1);
    expect(new Set(seen.map((item) => `${item.kind}:${item.id}`)).size).toBe(seen.length);
    const at = seen.map((item) => Date.parse(item.due_at ?? item.occurred_at ?? ''));
    expect(at).toEqual([...at].sort((a, b) => b - a));
    // At the tie the touchpoint comes first (kind, descending), then the event.
    const tie = seen.filter((item) => (item.due_at ?? item.occurred_at) === '2026-11-20T11:00:00.000Z');
    expect(tie.map((item) => item.kind)).toEqual(['touchpoint', 'event']);
    expect(tie[0]?.id).toBe(instant?.id);
  });
});

describe('OpenAPI', () => {
  it('documents the touchpoint schemas with examples, and only the feed goes without a key', async () => {
    const document = (await call(t.app, 'GET', '/openapi.json', undefined)).json();
    const schemas = document.components.schemas as Record<string, { examples?: unknown[] }>;
    for (const name of ['Touchpoint', 'TouchpointDetail', 'TimelineItem']) {
      expect(schemas[name]?.examples?.length, name).toBeGreaterThan(0);
    }
    const paths = document.paths as Record<string, Record<string, { security?: unknown[]; tags?: string[] }>>;
    const unauthenticated = Object.entries(paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, op]) => ({ at: `${method} ${path}`, op })),
      )
      .filter(({ op }) => !op.security?.length)
      .map(({ at }) => at);
    expect(unauthenticated).toEqual(['get /v1/calendar.ics']);
    expect(paths['/v1/calendar']?.get?.tags).toEqual(['calendar']);
    expect(paths['/v1/touchpoints']?.get?.tags).toEqual(['touchpoints']);
  });
});
