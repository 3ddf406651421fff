import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  createKey,
  createWorkspace,
  problemOf,
  startTestApp,
  TEST_ADMIN_KEY,
  type TestApp,
} from './helpers/app.js';

describe('authentication and scopes', () => {
  let t: TestApp;
  let shopA: { id: string; key: string };
  let shopB: { id: string; key: string };
  beforeAll(async () => {
    t = await startTestApp();
    shopA = await createWorkspace(t.app, { name: 'Loja A' });
    shopB = await createWorkspace(t.app, { name: 'Loja B' });
  });
  afterAll(async () => t.close());

  it('answers 401 with WWW-Authenticate when no key is sent', async () => {
    const response = await call(t.app, 'GET', '/v1/settings', undefined);
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="posvenda"');
    expect(problemOf(response).code).toBe('unauthorized');
  });

  it('answers 401 for a header that is not a bearer token', async () => {
    const response = await call(t.app, 'GET', '/v1/settings', undefined, undefined, {
      authorization: `Basic ${Buffer.from('a:b').toString('base64')}`,
    });
    expect(response.statusCode).toBe(401);
  });

  it('answers 401 for an unknown key, also one shaped like a real key', async () => {
    expect((await call(t.app, 'GET', '/v1/settings', 'nope')).statusCode).toBe(401);
    const forged = `${shopA.key.slice(0, -4)}AAAA`;
    const response = await call(t.app, 'GET', '/v1/settings', forged);
    expect(response.statusCode).toBe(401);
    expect(problemOf(response).detail).toMatch(/not valid or has been revoked/);
  });

  it('a revoked key is refused on the very next request', async () => {
    const extra = await createKey(t.app, shopA.key, ['read']);
    expect((await call(t.app, 'GET', '/v1/settings', extra.key)).statusCode).toBe(200);
    const revoked = await call(t.app, 'DELETE', `/v1/api-keys/${extra.id}`, shopA.key);
    expect(revoked.statusCode).toBe(204);
    expect(revoked.body).toBe('');
    expect((await call(t.app, 'GET', '/v1/settings', extra.key)).statusCode).toBe(401);
  });

  it('a read key cannot write: 403 naming the scope', async () => {
    const reader = await createKey(t.app, shopA.key, ['read']);
    const response = await call(t.app, 'PATCH', '/v1/settings', reader.key, { late_grace: 'PT2H' });
    expect(response.statusCode).toBe(403);
    expect(problemOf(response).detail).toContain('"admin" scope');
    expect((await call(t.app, 'GET', '/v1/settings', shopA.key)).json().late_grace).toBe('PT24H');
  });

  it('an events:write key cannot read settings or manage keys', async () => {
    const writer = await createKey(t.app, shopA.key, ['events:write']);
    expect((await call(t.app, 'GET', '/v1/settings', writer.key)).statusCode).toBe(403);
    expect((await call(t.app, 'GET', '/v1/api-keys', writer.key)).statusCode).toBe(403);
  });

  it('an admin key has every scope', async () => {
    expect((await call(t.app, 'GET', '/v1/settings', shopA.key)).statusCode).toBe(200);
    expect((await call(t.app, 'GET', '/v1/api-keys', shopA.key)).statusCode).toBe(200);
  });

  it("another workspace's key id is 404, not 403, and stays active", async () => {
    const keyOfB = await createKey(t.app, shopB.key, ['read']);
    const response = await call(t.app, 'DELETE', `/v1/api-keys/${keyOfB.id}`, shopA.key);
    expect(response.statusCode).toBe(404);
    expect(problemOf(response).code).toBe('not_found');
    expect((await call(t.app, 'GET', '/v1/settings', keyOfB.key)).statusCode).toBe(200);
  });

  it('a key lists only its own workspace keys', async () => {
    const listA = (await call(t.app, 'GET', '/v1/api-keys?limit=500', shopA.key)).json();
    const listB = (await call(t.app, 'GET', '/v1/api-keys?limit=500', shopB.key)).json();
    const idsA = new Set(listA.data.map((k: { id: string }) => k.id));
    for (const key of listB.data) expect(idsA.has(key.id)).toBe(false);
  });

  it('only an admin of the default workspace may create or list workspaces', async () => {
    const response = await call(t.app, 'POST', '/v1/workspaces', shopA.key, { name: 'Nope' });
    expect(response.statusCode).toBe(403);
    expect(problemOf(response).detail).toContain('default workspace');
    expect((await call(t.app, 'GET', '/v1/workspaces', shopA.key)).statusCode).toBe(403);
    const reader = await createKey(t.app, TEST_ADMIN_KEY, ['read']);
    expect((await call(t.app, 'POST', '/v1/workspaces', reader.key, { name: 'Nope' })).statusCode).toBe(403);
  });

  it('a workspace admin cannot read another workspace through /v1/workspaces/{id}', async () => {
    expect((await call(t.app, 'GET', `/v1/workspaces/${shopB.id}`, shopA.key)).statusCode).toBe(403);
    expect((await call(t.app, 'GET', `/v1/workspaces/${shopB.id}`, TEST_ADMIN_KEY)).statusCode).toBe(200);
  });
});
