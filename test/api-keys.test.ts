import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  createWorkspace,
  problemOf,
  startTestApp,
  TEST_ADMIN_KEY,
  type TestApp,
} from './helpers/app.js';

describe('API keys', () => {
  let t: TestApp;
  let shop: { id: string; key: string };
  beforeAll(async () => {
    t = await startTestApp();
    shop = await createWorkspace(t.app);
  });
  afterAll(async () => t.close());

  it('creates a key, shows it once, and stores only a hash', async () => {
    const response = await call(t.app, 'POST', '/v1/api-keys', shop.key, {
      name: 'checkout',
      scopes: ['events:write'],
    });
    expect(response.statusCode).toBe(201);
    const created = response.json();
    expect(created).toMatchObject({
      name: 'checkout',
      scopes: ['events:write'],
      managed: false,
      last_used_at: null,
    });
    expect(created.key).toMatch(/^pv_[A-Za-z0-9_-]{22}_[A-Za-z0-9_-]{43}$/);
    expect(created.key_hint).toBe(`${created.key.slice(0, 8)}…${created.key.slice(-4)}`);

    const listed = (await call(t.app, 'GET', '/v1/api-keys', shop.key))
      .json()
      .data.find((k: { id: string }) => k.id === created.id);
    expect(listed).toBeDefined();
    expect(listed.key).toBeUndefined();
    const row = await t.deps.db
      .selectFrom('apiKeys')
      .selectAll()
      .where('workspaceId', '=', shop.id)
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(created.key.slice(-20));
    expect(row.keyHash).toHaveLength(32);
  });

  it('rejects unknown scopes, empty scopes and unknown fields with field paths', async () => {
    const response = await call(t.app, 'POST', '/v1/api-keys', shop.key, {
      name: 'x',
      scopes: ['root'],
      colour: 'red',
    });
    expect(response.statusCode).toBe(400);
    const problem = problemOf(response);
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { path: '/body/scopes/0', message: 'must be one of "admin", "events:write", "read"' },
        { path: '/body/colour', message: 'is not a known field' },
      ]),
    );
    const empty = await call(t.app, 'POST', '/v1/api-keys', shop.key, { name: 'x', scopes: [] });
    expect(problemOf(empty).errors?.[0]?.path).toBe('/body/scopes');
    const missing = await call(t.app, 'POST', '/v1/api-keys', shop.key, { scopes: ['read'] });
    expect(problemOf(missing).errors).toEqual([{ path: '/body/name', message: 'is required' }]);
  });

  it('pages through keys with an opaque cursor, newest first, with no overlap', async () => {
    for (let i = 0; i < 5; i++) {
      await call(t.app, 'POST', '/v1/api-keys', shop.key, { name: `k${i}`, scopes: ['read'] });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/api-keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const body = (await call(t.app, 'GET', url, shop.key)).json();
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...body.data.map((k: { id: string }) => k.id));
      cursor = body.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(7);
    expect([...seen].sort().reverse()).toEqual(seen);
  });

  it('rejects a cursor it did not issue, and limits out of range', async () => {
    const bad = await call(t.app, 'GET', '/v1/api-keys?cursor=not-ours', shop.key);
    expect(bad.statusCode).toBe(400);
    expect(problemOf(bad).code).toBe('invalid_cursor');
    const big = await call(t.app, 'GET', '/v1/api-keys?limit=501', shop.key);
    expect(problemOf(big).errors?.[0]?.path).toBe('/querystring/limit');
  });

  it('revoking an unknown or already revoked key is 404', async () => {
    const created = (
      await call(t.app, 'POST', '/v1/api-keys', shop.key, { name: 'x', scopes: ['read'] })
    ).json();
    expect((await call(t.app, 'DELETE', `/v1/api-keys/${created.id}`, shop.key)).statusCode).toBe(204);
    expect((await call(t.app, 'DELETE', `/v1/api-keys/${created.id}`, shop.key)).statusCode).toBe(404);
    expect((await call(t.app, 'DELETE', '/v1/api-keys/not-a-uuid', shop.key)).statusCode).toBe(400);
  });

  it('the key provisioned from POSVENDA_ADMIN_KEY cannot be revoked through the API (409)', async () => {
    const keys = (await call(t.app, 'GET', '/v1/api-keys', TEST_ADMIN_KEY)).json().data;
    const managed = keys.find((k: { managed: boolean }) => k.managed);
    expect(managed).toBeDefined();
    const response = await call(t.app, 'DELETE', `/v1/api-keys/${managed.id}`, TEST_ADMIN_KEY);
    expect(response.statusCode).toBe(409);
    expect(problemOf(response).code).toBe('managed_key');
    expect((await call(t.app, 'GET', '/v1/settings', TEST_ADMIN_KEY)).statusCode).toBe(200);
  });

  it('a workspace can revoke the key it is using; the next call is 401', async () => {
    const second = await createWorkspace(t.app);
    const keys = (await call(t.app, 'GET', '/v1/api-keys', second.key)).json().data;
    expect(keys).toHaveLength(1);
    expect((await call(t.app, 'DELETE', `/v1/api-keys/${keys[0].id}`, second.key)).statusCode).toBe(204);
    expect((await call(t.app, 'GET', '/v1/api-keys', second.key)).statusCode).toBe(401);
  });
});
