import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isScoreOf, surveyKindOf } from '../src/modules/tracking/survey-kind.js';
import { type TrackingLinks, trackingLinks } from '../src/modules/tracking/tracking-links.js';
import { signTrackingToken } from '../src/modules/tracking/tracking-token.js';
import { call, createWorkspace, problemOf, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import type { TouchpointItem } from './helpers/touchpoints.js';

type Item = TouchpointItem & { template: string };

const clock = new TestClock('2026-11-20T12:00:00Z');
let t: TestApp;
let workspace: { id: string; key: string };
let signingKey: Buffer;
let n = 0;
const uid = (prefix: string) => `${prefix}-${++n}`;

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

/** The path and query of a link, for app.inject. */
const path = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
};
const linksOf = (touchpointId: string, workspaceId = workspace.id): TrackingLinks =>
  trackingLinks(signingKey, t.deps.config.publicUrl, { workspaceId, touchpointId });
const get = (url: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url: path(url), headers });

async function post(event: Record<string, unknown>): Promise<void> {
  const response = await call(t.app, 'POST', '/v1/events', workspace.key, event);
  expect(response.statusCode, response.body).toBe(202);
}

async function touchpointsOf(customerId: string): Promise<Item[]> {
  const response = await call(
    t.app,
    'GET',
    `/v1/touchpoints?customer_id=${customerId}&limit=500`,
    workspace.key,
  );
  expect(response.statusCode).toBe(200);
  return response.json().data;
}

/** A small customer's delivery: the onboarding playbook plans its emails, the NPS survey among them. */
async function deliveredCustomer(
  extra: Record<string, unknown> = {},
): Promise<{ id: string; items: Item[] }> {
  const id = uid('c');
  await post({
    id: uid('e'),
    type: 'delivery',
    occurred_at: '2026-11-20T11:00:00Z',
    customer: { id, name: 'Ana Souza', email: 'ana@example.com', segment: 'smb', ...extra },
    properties: { order_id: uid('o') },
  });
  return { id, items: await touchpointsOf(id) };
}

async function npsTouchpoint(extra: Record<string, unknown> = {}) {
  const customer = await deliveredCustomer(extra);
  const touchpoint = customer.items.find((item) => item.step === 'nps');
  if (!touchpoint) throw new Error('no NPS touchpoint planned');
  expect(touchpoint.template).toBe('nps-survey');
  return { customerId: customer.id, touchpoint, items: customer.items };
}

async function engagement(touchpointId: string) {
  return t.deps.db
    .selectFrom('touchpoints')
    .select(['deliveredAt', 'openedAt', 'clickedAt', 'answeredAt', 'unsubscribedAt', 'status'])
    .where('workspaceId', '=', workspace.id)
    .where('id', '=', touchpointId)
    .executeTakeFirstOrThrow();
}

async function outboxOf(touchpointId: string) {
  const rows = await t.deps.db
    .selectFrom('outbox')
    .select(['id', 'type', 'data', 'createdAt'])
    .where('workspaceId', '=', workspace.id)
    .execute();
  return rows.filter((row) => (row.data as { touchpoint?: { id?: string } }).touchpoint?.id === touchpointId);
}

async function surveyEvents(customerId: string) {
  const response = await call(t.app, 'GET', `/v1/customers/${customerId}/timeline?limit=500`, workspace.key);
  expect(response.statusCode).toBe(200);
  return (response.json().data as { kind: string; type?: string; id: string; properties?: unknown }[]).filter(
    (item) => item.kind === 'event' && item.type === 'survey_response',
  );
}

const customer = async (id: string) => {
  const response = await call(t.app, 'GET', `/v1/customers/${id}`, workspace.key);
  expect(response.statusCode).toBe(200);
  return response.json();
};

const NOTHING = {
  deliveredAt: null,
  openedAt: null,
  clickedAt: null,
  answeredAt: null,
  unsubscribedAt: null,
};

beforeAll(async () => {
  // Every inject comes from one address: the per-address limits have a test of their own below.
  t = await startTestApp({ clock, env: { RATE_LIMIT_RPS: '0' } });
  workspace = await createWorkspace(t.app, { timezone: 'America/Sao_Paulo' });
  signingKey = await t.deps.secrets.signingKey();
});
afterAll(async () => t.close());

describe('GET /t/o/{token} (open pixel)', () => {
  it('answers a 1×1 GIF and records the first open and the delivery, once', async () => {
    const { touchpoint } = await npsTouchpoint();
    const links = linksOf(touchpoint.id);
    const opened = clock.now();
    const first = await get(links.openPixel);
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('image/gif');
    expect(first.headers['cache-control']).toBe('no-store');
    expect(first.rawPayload.subarray(0, 6).toString('latin1')).toBe('GIF89a');
    // 1×1: the logical screen's width and height, little-endian, after the signature.
    expect([...first.rawPayload.subarray(6, 10)]).toEqual([1, 0, 1, 0]);
    expect(await engagement(touchpoint.id)).toMatchObject({
      ...NOTHING,
      deliveredAt: opened,
      openedAt: opened,
    });

    clock.advance(60_000);
    const again = await get(links.openPixel);
    expect(again.statusCode).toBe(200);
    expect(again.rawPayload).toEqual(first.rawPayload);
    expect((await engagement(touchpoint.id)).openedAt).toEqual(opened);
  });
});

describe('GET /t/c/{token} (click)', () => {
  it('redirects to the sealed URL only, recording the first click (and the open it proves)', async () => {
    const { touchpoint } = await npsTouchpoint();
    const destination = 'https://shop.example.com/produtos/981?utm_source=posvenda';
    const link = linksOf(touchpoint.id).trackUrl(destination);
    const clicked = clock.now();
    const response = await get(`${link}?url=https://evil.example.com/`);
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe(destination);
    expect(await engagement(touchpoint.id)).toMatchObject({
      ...NOTHING,
      deliveredAt: clicked,
      openedAt: clicked,
      clickedAt: clicked,
    });

    clock.advance(60_000);
    expect((await get(link)).headers.location).toBe(destination);
    expect((await engagement(touchpoint.id)).clickedAt).toEqual(clicked);
  });

  it('keeps an earlier open and refuses to redirect anywhere but http(s)', async () => {
    const { touchpoint } = await npsTouchpoint();
    const links = linksOf(touchpoint.id);
    const opened = clock.now();
    await get(links.openPixel);
    clock.advance(5_000);
    expect((await get(links.trackUrl('http://shop.example.com/'))).statusCode).toBe(302);
    expect(await engagement(touchpoint.id)).toMatchObject({ openedAt: opened, clickedAt: clock.now() });

    const other = (await npsTouchpoint()).touchpoint;
    for (const url of ['javascript:alert(1)', 'data:text/html,hi', 'not a url']) {
      const response = await get(linksOf(other.id).trackUrl(url));
      expect(response.statusCode).toBe(404);
      expect(response.headers.location).toBeUndefined();
    }
    expect(await engagement(other.id)).toMatchObject(NOTHING);
  });
});

describe('forged tokens', () => {
  it('answer 404 on every route and record nothing', async () => {
    const { customerId, touchpoint } = await npsTouchpoint();
    const victim = linksOf(touchpoint.id);
    const otherWorkspace = await createWorkspace(t.app);
    const signed = (kind: 'o' | 'c' | 'u' | 's', key: Buffer, workspaceId = workspace.id, url?: string) =>
      signTrackingToken(key, {
        kind,
        workspaceId,
        touchpointId: touchpoint.id,
        ...(url ? { url } : {}),
      });
    const wrongKey = Buffer.from('not-the-secret-key-0123456789abcdefghijklmn');
    const tokenOf = (url: string) => new URL(url).pathname.split('/').at(-1) ?? '';
    const [payload, mac] = tokenOf(victim.openPixel).split('.') as [string, string];
    const flipped = `${mac.slice(0, -2)}${mac.at(-2) === 'A' ? 'B' : 'A'}${mac.at(-1)}`;
    // A payload naming another destination under the MAC of the genuine click link.
    const genuineClick = tokenOf(victim.trackUrl('https://shop.example.com/'));
    const otherPayload = tokenOf(linksOf(touchpoint.id).trackUrl('https://evil.example.com/')).split('.')[0];

    const forgeries: [string, string][] = [
      ['GET', `/t/o/${payload}.${flipped}`],
      ['GET', `/t/o/${payload}`],
      ['GET', `/t/o/${signed('o', wrongKey)}`],
      ['GET', `/t/o/${signed('o', wrongKey, otherWorkspace.id)}`],
      ['GET', `/t/o/${tokenOf(victim.unsubscribe)}`],
      ['GET', `/t/c/${otherPayload}.${genuineClick.split('.')[1]}`],
      ['GET', `/t/c/${signed('c', wrongKey, workspace.id, 'https://evil.example.com/')}`],
      ['GET', `/t/c/${tokenOf(victim.openPixel)}`],
      ['GET', `/u/${tokenOf(victim.openPixel)}`],
      ['POST', `/u/${tokenOf(victim.openPixel)}`],
      ['POST', `/u/${signed('u', wrongKey)}`],
      ['POST', `/u/${tokenOf(victim.unsubscribe)}x`],
      ['GET', `/s/${tokenOf(victim.unsubscribe)}?score=9`],
      ['GET', `/s/${signed('s', wrongKey)}?score=9`],
      ['GET', `/s/${signed('s', wrongKey, otherWorkspace.id)}?score=9`],
      ['GET', `/s/${payload}.${flipped}?score=9`],
    ];
    for (const [method, url] of forgeries) {
      const response = await t.app.inject({
        method: method as 'GET' | 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: method === 'POST' ? 'List-Unsubscribe=One-Click' : undefined,
      });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
      expect(problemOf(response).code).toBe('link_not_found');
      expect(response.headers.location).toBeUndefined();
    }
    // A person in a browser gets a page rather than JSON.
    const page = await get(`http://x/s/${signed('s', wrongKey)}?score=9`, HTML);
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('Este link não é válido');

    expect(await engagement(touchpoint.id)).toMatchObject(NOTHING);
    expect(await outboxOf(touchpoint.id)).toEqual([]);
    expect(await surveyEvents(customerId)).toEqual([]);
    expect((await customer(customerId)).consent.email).toMatchObject({
      status: 'opted_in',
      source: 'default',
    });
  });
});

describe('/u/{token} (unsubscribe)', () => {
  it('GET shows a confirmation page with a POST button and changes nothing', async () => {
    const { customerId, touchpoint } = await npsTouchpoint();
    const response = await get(linksOf(touchpoint.id).unsubscribe, HTML);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toContain('Cancelar inscrição');
    expect(response.body).toContain('<form method="post">');
    expect(response.body).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(response.body).toContain('Test shop');
    expect((await customer(customerId)).consent.email.status).toBe('opted_in');
    expect(await engagement(touchpoint.id)).toMatchObject(NOTHING);
  });

  it('speaks English to an English-speaking customer', async () => {
    const { touchpoint } = await npsTouchpoint({ locale: 'en-US' });
    const response = await get(linksOf(touchpoint.id).unsubscribe, HTML);
    expect(response.body).toContain('<html lang="en">');
    expect(response.body).toContain('You will no longer receive emails from Test shop');
  });

  it('POST one-click (no API key) withdraws email consent as the consent API does; idempotent', async () => {
    const { customerId, touchpoint, items } = await npsTouchpoint();
    const url = path(linksOf(touchpoint.id).unsubscribe);
    const at = clock.now();
    const oneClick = () =>
      t.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      });
    const response = await oneClick();
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('inscrição cancelada');
    const consent = { status: 'opted_out', source: 'unsubscribe', updated_at: at.toISOString() };
    expect((await customer(customerId)).consent.email).toEqual(consent);
    expect((await customer(customerId)).consent.phone.status).toBe('opted_in');
    expect(await engagement(touchpoint.id)).toMatchObject({
      ...NOTHING,
      deliveredAt: at,
      unsubscribedAt: at,
    });

    clock.advance(60_000);
    expect((await oneClick()).statusCode).toBe(200);
    expect((await customer(customerId)).consent.email).toEqual(consent);
    expect((await engagement(touchpoint.id)).unsubscribedAt).toEqual(at);
    // Pending emails stay planned: the dispatcher checks consent when each falls due.
    const after = await touchpointsOf(customerId);
    expect(after.map((item) => item.status)).toEqual(items.map((item) => item.status));
  });

  it('POST with an empty body, or the confirmation form, unsubscribes too', async () => {
    const first = await npsTouchpoint();
    const empty = await t.app.inject({ method: 'POST', url: path(linksOf(first.touchpoint.id).unsubscribe) });
    expect(empty.statusCode).toBe(200);
    expect((await customer(first.customerId)).consent.email.status).toBe('opted_out');

    const second = await npsTouchpoint();
    const multipart = await t.app.inject({
      method: 'POST',
      url: path(linksOf(second.touchpoint.id).unsubscribe),
      headers: { 'content-type': 'multipart/form-data; boundary=x', ...HTML },
      payload: '--x\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--x--\r\n',
    });
    expect(multipart.statusCode).toBe(200);
    expect((await customer(second.customerId)).consent.email.status).toBe('opted_out');
  });

  it('opts out again after the customer was opted back in through the API', async () => {
    const { customerId, touchpoint } = await npsTouchpoint();
    const url = path(linksOf(touchpoint.id).unsubscribe);
    await t.app.inject({ method: 'POST', url });
    const optIn = await call(t.app, 'PUT', `/v1/customers/${customerId}/consent/email`, workspace.key, {
      status: 'opted_in',
    });
    expect(optIn.statusCode).toBe(200);
    clock.advance(1000);
    await t.app.inject({ method: 'POST', url });
    expect((await customer(customerId)).consent.email).toMatchObject({
      status: 'opted_out',
      source: 'unsubscribe',
      updated_at: clock.now().toISOString(),
    });
  });
});

describe('GET /s/{token}?score=N (survey answer)', () => {
  it('ingests a survey_response event, marks the touchpoint answered and emits survey.responded', async () => {
    const { customerId, touchpoint } = await npsTouchpoint();
    clock.advance(1000);
    const at = clock.now();
    const response = await get(linksOf(touchpoint.id).context.survey['9'] ?? '', HTML);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('Obrigado!');
    expect(response.body).toContain('Sua resposta foi registrada');

    const events = await surveyEvents(customerId);
    expect(events).toEqual([
      expect.objectContaining({
        id: `survey-answer:${touchpoint.id}`,
        occurred_at: at.toISOString(),
        properties: { survey: 'nps', score: 9, touchpoint_id: touchpoint.id },
      }),
    ]);
    expect((await customer(customerId)).nps).toBe(9);
    expect(await engagement(touchpoint.id)).toMatchObject({
      deliveredAt: at,
      openedAt: at,
      clickedAt: at,
      answeredAt: at,
      unsubscribedAt: null,
    });
    const outbox = await outboxOf(touchpoint.id);
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({
      type: 'survey.responded',
      createdAt: at,
      data: {
        touchpoint: { id: touchpoint.id, playbook: 'onboarding', step: 'nps', channel: 'email' },
        customer: { id: customerId, name: 'Ana Souza', email: 'ana@example.com', segment: 'smb' },
        survey: 'nps',
        score: 9,
      },
    });
  });

  it('keeps the first answer: a second click, with any score, changes nothing', async () => {
    const { customerId, touchpoint } = await npsTouchpoint();
    const survey = linksOf(touchpoint.id).context.survey;
    const answeredAt = clock.now();
    expect((await get(survey['10'] ?? '')).statusCode).toBe(200);
    clock.advance(60_000);
    for (const score of ['10', '2']) {
      const again = await get(survey[score] ?? '', HTML);
      expect(again.statusCode).toBe(200);
      expect(again.body).toContain('já estava registrada');
    }
    expect(await surveyEvents(customerId)).toHaveLength(1);
    expect((await customer(customerId)).nps).toBe(10);
    expect((await engagement(touchpoint.id)).answeredAt).toEqual(answeredAt);
    expect(await outboxOf(touchpoint.id)).toHaveLength(1);
  });

  it('two clicks at once record one answer', async () => {
    const { customerId, touchpoint } = await npsTouchpoint();
    const survey = linksOf(touchpoint.id).context.survey;
    const answers = await Promise.all([
      get(survey['8'] ?? ''),
      get(survey['3'] ?? ''),
      get(survey['8'] ?? ''),
    ]);
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200]);
    expect(await surveyEvents(customerId)).toHaveLength(1);
    expect(await outboxOf(touchpoint.id)).toHaveLength(1);
  });

  it('an NPS detractor goes through the event path: the detractor follow-up call is planned', async () => {
    const { customerId, touchpoint, items } = await npsTouchpoint();
    expect(items.some((item) => item.playbook === 'detractor-followup')).toBe(false);
    expect((await get(linksOf(touchpoint.id).context.survey['3'] ?? '')).statusCode).toBe(200);
    const after = await touchpointsOf(customerId);
    expect(after).toContainEqual(
      expect.objectContaining({ playbook: 'detractor-followup', step: 'escalation-call', channel: 'task' }),
    );
  });

  it("refuses a score outside the survey's range (400, a page for browsers) and records nothing", async () => {
    // A resolved ticket plans the CSAT survey (1–5).
    const id = uid('c');
    await post({
      id: uid('e'),
      type: 'support_ticket.resolved',
      customer: { id, email: 'bia@example.com' },
      properties: { ticket_id: uid('T') },
    });
    const csat = (await touchpointsOf(id)).find((item) => item.template === 'csat-survey');
    if (!csat) throw new Error('no CSAT touchpoint planned');
    const survey = linksOf(csat.id).context.survey;

    const html = await get(survey['7'] ?? '', HTML);
    expect(html.statusCode).toBe(400);
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.body).toContain('não traz uma nota válida');
    const json = await get(survey['0'] ?? '');
    expect(json.statusCode).toBe(400);
    expect(problemOf(json)).toMatchObject({
      code: 'invalid_score',
      detail: 'The score must be an integer from 1 to 5 for a csat survey.',
    });
    const base = (survey['1'] ?? '').replace(/\?.*$/, '');
    for (const query of ['?score=11', '?score=-1', '?score=abc', '?score=4.5', '']) {
      const response = await get(`${base}${query}`);
      expect(response.statusCode, query).toBe(400);
      problemOf(response);
    }
    const malformed = await get(`${base}?score=abc`, HTML);
    expect(malformed.statusCode).toBe(400);
    expect(malformed.body).toContain('não traz uma nota válida');
    expect(await engagement(csat.id)).toMatchObject(NOTHING);
    expect(await outboxOf(csat.id)).toEqual([]);
    expect(await surveyEvents(id)).toEqual([]);

    expect((await get(survey['5'] ?? '')).statusCode).toBe(200);
    expect(await surveyEvents(id)).toEqual([
      expect.objectContaining({ properties: { survey: 'csat', score: 5, touchpoint_id: csat.id } }),
    ]);
  });

  it('answers 404 for a touchpoint whose template is no survey', async () => {
    const { touchpoint, items } = await npsTouchpoint();
    const welcome = items.find((item) => item.step === 'welcome' && item.id !== touchpoint.id);
    if (!welcome) throw new Error('no welcome touchpoint planned');
    const response = await get(linksOf(welcome.id).context.survey['9'] ?? '');
    expect(response.statusCode).toBe(404);
    expect(problemOf(response).code).toBe('not_a_survey');
    expect(await engagement(welcome.id)).toMatchObject(NOTHING);
  });
});

describe('the survey of a template', () => {
  it('is nps, ces or csat as a word of the template key, else of its family', () => {
    expect(surveyKindOf('nps-survey', null)).toBe('nps');
    expect(surveyKindOf('ces-survey-en', 'ces-survey')).toBe('ces');
    expect(surveyKindOf('pesquisa_csat', null)).toBe('csat');
    expect(surveyKindOf('pesquisa-pos-venda', 'nps-survey')).toBe('nps');
    expect(surveyKindOf('welcome', null)).toBeUndefined();
    expect(surveyKindOf('npsx', 'success')).toBeUndefined();
  });

  it('sets the range of scores: NPS 0–10, CES 1–7, CSAT 1–5', () => {
    expect([0, 10, 11, -1, 4.5].map((s) => isScoreOf('nps', s))).toEqual([true, true, false, false, false]);
    expect([1, 7, 0, 8].map((s) => isScoreOf('ces', s))).toEqual([true, true, false, false]);
    expect([1, 5, 0, 6].map((s) => isScoreOf('csat', s))).toEqual([true, true, false, false]);
  });
});

describe('link checkers and erased customers', () => {
  it('HEAD requests record nothing', async () => {
    const { customerId, touchpoint } = await npsTouchpoint();
    const links = linksOf(touchpoint.id);
    for (const url of [
      links.openPixel,
      links.trackUrl('https://shop.example.com/'),
      links.context.survey['9'] ?? '',
    ]) {
      const response = await t.app.inject({ method: 'HEAD', url: path(url) });
      expect(response.statusCode).toBe(404);
    }
    expect(await engagement(touchpoint.id)).toMatchObject(NOTHING);
    expect(await surveyEvents(customerId)).toEqual([]);
  });

  it("an erased customer's survey link is gone; unsubscribing still answers", async () => {
    const { customerId, touchpoint } = await npsTouchpoint();
    const erased = await call(t.app, 'DELETE', `/v1/customers/${customerId}`, workspace.key);
    expect(erased.statusCode).toBe(204);
    const links = linksOf(touchpoint.id);
    const survey = await get(links.context.survey['9'] ?? '');
    expect(survey.statusCode).toBe(404);
    expect(problemOf(survey).code).toBe('link_not_found');
    expect((await t.app.inject({ method: 'POST', url: path(links.unsubscribe) })).statusCode).toBe(200);
    const row = await t.deps.db
      .selectFrom('customers')
      .select(['consent', 'nps'])
      .where('workspaceId', '=', workspace.id)
      .where('erasedAt', 'is not', null)
      .where('id', '=', (qb) =>
        qb.selectFrom('touchpoints').select('customerId').where('id', '=', touchpoint.id).limit(1),
      )
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ consent: {}, nps: null });
    expect(await outboxOf(touchpoint.id)).toEqual([]);
  });
});

describe('the tracking routes', () => {
  it('are in the OpenAPI document under the tracking tag, without security', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    const paths = response.json().paths;
    for (const [route, method] of [
      ['/t/o/{token}', 'get'],
      ['/t/c/{token}', 'get'],
      ['/u/{token}', 'get'],
      ['/u/{token}', 'post'],
      ['/s/{token}', 'get'],
    ] as const) {
      expect(paths[route]?.[method]?.tags, `${method} ${route}`).toEqual(['tracking']);
      expect(paths[route][method].security).toBeUndefined();
    }
  });
});

describe('rate limits', () => {
  it('hold people’s links to 10 a second per address, the pixel to the app-wide limit', async () => {
    const limited = await startTestApp({ clock, env: { RATE_LIMIT_RPS: '15' } });
    try {
      const touchpointId = '019a9a6e-1f00-7000-8000-000000000001';
      const token = (kind: 'o' | 's') =>
        signTrackingToken(signingKey, { kind, workspaceId: workspace.id, touchpointId });
      // At once, so that all fall in one 1-second window; half from browsers, half not.
      const burst = (url: string) =>
        Promise.all(
          Array.from({ length: 14 }, (_, i) =>
            limited.app.inject({ method: 'GET', url, headers: i % 2 === 0 ? HTML : {} }),
          ),
        );
      const answers = await burst(`/s/${token('s')}?score=1`);
      expect(answers.filter((r) => r.statusCode === 404)).toHaveLength(10);
      const refused = answers.filter((r) => r.statusCode === 429);
      expect(refused).toHaveLength(4);
      for (const response of refused) {
        expect(response.headers['retry-after']).toBeDefined();
        if (String(response.headers['content-type']).startsWith('text/html')) {
          expect(response.body).toContain('Muitas solicitações');
        } else {
          expect(problemOf(response)).toMatchObject({ code: 'rate_limited' });
          expect(problemOf(response).detail).toContain('for this address');
        }
      }
      // Mail proxies load pixels for many people from one address: the app-wide limit only.
      const pixels = await burst(`/t/o/${token('o')}`);
      expect(pixels.map((r) => r.statusCode)).toEqual(new Array(14).fill(200));
    } finally {
      await limited.close();
    }
  });
});
