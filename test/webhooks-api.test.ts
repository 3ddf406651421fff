import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createKey, createWorkspace, problemOf, startTestApp, type TestApp } from './helpers/app.js';

// The guard is on (WEBHOOK_ALLOW_PRIVATE unset): endpoints here use a public IP literal, which
// needs no DNS, and nothing is delivered (no worker runs in this file).
const PUBLIC_URL = 'https://93.184.216.34/hooks/posvenda';

describe('webhooks API', () => {
  let t: TestApp;
  let shop: { id: string; key: string };
  let other: { id: string; key: string };
  beforeAll(async () => {
    t = await startTestApp();
    shop = await createWorkspace(t.app);
    other = await createWorkspace(t.app);
  });
  afterAll(async () => t.close());

  const create = (body: unknown, key = shop.key) => call(t.app, 'POST', '/v1/webhooks', key, body);

  it('creates an endpoint and shows its secret once', async () => {
    const response = await create({ url: PUBLIC_URL, events: ['touchpoint.sent'], description: 'CRM' });
    expect(response.statusCode).toBe(201);
    const created = response.json();
    expect(created).toMatchObject({
      url: PUBLIC_URL,
      events: ['touchpoint.sent'],
      description: 'CRM',
      enabled: true,
      disabled_reason: null,
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(created.secret.slice(6), 'base64')).toHaveLength(24);

    const got = await call(t.app, 'GET', `/v1/webhooks/${created.id}`, shop.key);
    expect(got.statusCode).toBe(200);
    expect(got.json().secret).toBeUndefined();
    const listed = (await call(t.app, 'GET', '/v1/webhooks', shop.key)).json();
    expect(listed.data.find((w: { id: string }) => w.id === created.id)).toMatchObject({ id: created.id });
    expect(JSON.stringify(listed)).not.toContain(created.secret);

    // At rest the secret is encrypted, not stored as given.
    const row = await t.deps.db
      .selectFrom('webhookEndpoints')
      .select('secretCiphertext')
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow();
    expect(row.secretCiphertext.toString('latin1')).not.toContain(created.secret.slice(6));
  });

  it('accepts every outgoing event type and *', async () => {
    const response = await create({ url: PUBLIC_URL, events: ['*', 'touchpoint.due', 'alert.triggered'] });
    expect(response.statusCode).toBe(201);
  });

  it('refuses unknown event types and non-http URLs with 422 naming the field', async () => {
    const response = await create({
      url: 'ftp://example.com/x',
      events: ['touchpoint.sent', 'order.placed'],
    });
    expect(response.statusCode).toBe(422);
    const problem = problemOf(response);
    expect(problem.errors?.map((e) => e.path).sort()).toEqual(['/body/events/1', '/body/url']);

    const notUrl = problemOf(await create({ url: 'not a url', events: ['touchpoint.sent'] }));
    expect(notUrl.status).toBe(422);
    expect(notUrl.errors?.[0]?.path).toBe('/body/url');
  });

  it('refuses malformed bodies with 400', async () => {
    expect((await create({ url: PUBLIC_URL, events: [] })).statusCode).toBe(400);
    expect((await create({ url: PUBLIC_URL })).statusCode).toBe(400);
    expect((await create({ url: PUBLIC_URL, events: ['touchpoint.sent'], extra: 1 })).statusCode).toBe(400);
  });

  it.each([
    ['http://127.0.0.1:8080/hook', 'loopback'],
    ['http://10.1.2.3/hook', 'private'],
    ['http://192.168.0.10/hook', 'private'],
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://[::1]:8080/hook', 'loopback'],
    ['http://[::ffff:127.0.0.1]/hook', 'loopback'],
    ['http://[fd00::1]/hook', 'private'],
    ['http://100.64.0.1/hook', 'carrier-grade NAT'],
    ['http://0.0.0.0/hook', 'unspecified'],
    ['http://224.0.0.1/hook', 'multicast'],
    ['http://localhost:8080/hook', 'loopback'],
  ])('refuses %s (%s) at creation', async (url, kind) => {
    const response = await create({ url, events: ['touchpoint.sent'] });
    expect(response.statusCode).toBe(422);
    const problem = problemOf(response);
    expect(problem.errors?.[0]?.path).toBe('/body/url');
    expect(problem.detail).toContain(kind);
    expect(problem.detail).toContain('WEBHOOK_ALLOW_PRIVATE');
  });

  it('paginates the list newest first', async () => {
    const ws = await createWorkspace(t.app);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await create({ url: PUBLIC_URL, events: ['*'] }, ws.key)).json().id);
    const first = (await call(t.app, 'GET', '/v1/webhooks?limit=2', ws.key)).json();
    expect(first.data.map((w: { id: string }) => w.id)).toEqual([ids[2], ids[1]]);
    const second = (
      await call(t.app, 'GET', `/v1/webhooks?limit=2&cursor=${first.next_cursor}`, ws.key)
    ).json();
    expect(second.data.map((w: { id: string }) => w.id)).toEqual([ids[0]]);
    expect(second.next_cursor).toBeNull();
  });

  it("answers 404 for another workspace's endpoint, and deletes", async () => {
    const id = (await create({ url: PUBLIC_URL, events: ['*'] })).json().id;
    for (const [method, url] of [
      ['GET', `/v1/webhooks/${id}`],
      ['DELETE', `/v1/webhooks/${id}`],
      ['GET', `/v1/webhooks/${id}/deliveries`],
      ['POST', `/v1/webhooks/${id}/deliveries/${id}/retry`],
    ] as const) {
      const response = await call(t.app, method, url, other.key);
      expect(response.statusCode, `${method} ${url}`).toBe(404);
      problemOf(response);
    }
    expect((await call(t.app, 'DELETE', `/v1/webhooks/${id}`, shop.key)).statusCode).toBe(204);
    expect((await call(t.app, 'GET', `/v1/webhooks/${id}`, shop.key)).statusCode).toBe(404);
    expect((await call(t.app, 'DELETE', `/v1/webhooks/${id}`, shop.key)).statusCode).toBe(404);
    const listed = (await call(t.app, 'GET', '/v1/webhooks', shop.key)).json();
    expect(listed.data.some((w: { id: string }) => w.id === id)).toBe(false);
  });

  it('needs the admin scope to change endpoints and read to list them', async () => {
    const reader = await createKey(t.app, shop.key, ['read']);
    expect((await create({ url: PUBLIC_URL, events: ['*'] }, reader.key)).statusCode).toBe(403);
    expect((await call(t.app, 'GET', '/v1/webhooks', reader.key)).statusCode).toBe(200);
    expect((await call(t.app, 'GET', '/v1/webhooks', undefined)).statusCode).toBe(401);
  });

  it('answers 404 for an unknown delivery and 400 for a bad status filter', async () => {
    const id = (await create({ url: PUBLIC_URL, events: ['*'] })).json().id;
    const missing = await call(
      t.app,
      'POST',
      `/v1/webhooks/${id}/deliveries/019a9a6e-1f00-7000-8000-000000000001/retry`,
      shop.key,
    );
    expect(missing.statusCode).toBe(404);
    expect(
      (await call(t.app, 'GET', `/v1/webhooks/${id}/deliveries?status=bogus`, shop.key)).statusCode,
    ).toBe(400);
    const empty = await call(t.app, 'GET', `/v1/webhooks/${id}/deliveries`, shop.key);
    expect(empty.json()).toEqual({ data: [], next_cursor: null });
  });

  it('changes an endpoint with PATCH, checking the URL as at creation', async () => {
    const id = (await create({ url: PUBLIC_URL, events: ['touchpoint.sent'] })).json().id;
    const url = `/v1/webhooks/${id}`;
    const changed = await call(t.app, 'PATCH', url, shop.key, {
      events: ['touchpoint.failed', 'alert.triggered'],
      description: 'ops',
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({
      id,
      url: PUBLIC_URL,
      events: ['touchpoint.failed', 'alert.triggered'],
    });
    expect(changed.json().secret).toBeUndefined();

    const off = (await call(t.app, 'PATCH', url, shop.key, { enabled: false })).json();
    expect(off).toMatchObject({ enabled: false, disabled_reason: 'manual', description: 'ops' });
    const on = (await call(t.app, 'PATCH', url, shop.key, { enabled: true, description: null })).json();
    expect(on).toMatchObject({ enabled: true, disabled_reason: null, description: null });

    const refused = await call(t.app, 'PATCH', url, shop.key, { url: 'http://10.0.0.7/x', events: ['nope'] });
    expect(refused.statusCode).toBe(422);
    expect(
      problemOf(refused)
        .errors?.map((e) => e.path)
        .sort(),
    ).toEqual(['/body/events/0', '/body/url']);
    expect((await call(t.app, 'GET', url, shop.key)).json().events).toEqual([
      'touchpoint.failed',
      'alert.triggered',
    ]);

    expect((await call(t.app, 'PATCH', url, shop.key, {})).statusCode).toBe(400);
    expect((await call(t.app, 'PATCH', url, other.key, { enabled: false })).statusCode).toBe(404);
  });
});
