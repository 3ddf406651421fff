// The in-memory key cache across replicas: two apps on one database, as two API replicas.
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createKey, createWorkspace, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { waitFor } from './helpers/process.js';

const TTL_MS = 5000;
const clock = new TestClock('2026-11-20T12:00:00Z');
let a: TestApp;
let b: TestApp;
let shop: { id: string; key: string };

beforeAll(async () => {
  const env = { API_KEY_CACHE_TTL_MS: String(TTL_MS) };
  a = await startTestApp({ clock, env });
  b = await startTestApp({ clock, env, skipBootstrap: true });
  shop = await createWorkspace(a.app);
});
afterAll(async () => {
  await a.close();
  await b.close();
});

const settings = (t: TestApp, key: string) =>
  call(t.app, 'GET', '/v1/settings', key).then((r) => r.statusCode);

/** Revokes behind the service's back with the notification trigger off: no replica hears of it. */
async function revokeUnheard(keyId: string): Promise<void> {
  await a.deps.db.transaction().execute(async (trx) => {
    await sql`ALTER TABLE api_keys DISABLE TRIGGER api_keys_rights_changed`.execute(trx);
    await sql`UPDATE api_keys SET revoked_at = now() WHERE id = ${keyId}`.execute(trx);
    await sql`ALTER TABLE api_keys ENABLE TRIGGER api_keys_rights_changed`.execute(trx);
  });
}

describe('API key cache across replicas', () => {
  it('a key revoked through replica A is refused on replica B’s next request', async () => {
    const key = await createKey(a.app, shop.key, ['read']);
    expect(await settings(b, key.key)).toBe(200);
    expect(await settings(b, key.key)).toBe(200); // now served from B's cache
    expect((await call(a.app, 'DELETE', `/v1/api-keys/${key.id}`, shop.key)).statusCode).toBe(204);
    expect(await settings(b, key.key)).toBe(401);
    expect(await settings(a, key.key)).toBe(401);
  });

  it('a revocation made in SQL by an operator reaches the replicas too', async () => {
    const key = await createKey(a.app, shop.key, ['read']);
    expect(await settings(b, key.key)).toBe(200);
    await sql`UPDATE api_keys SET revoked_at = now() WHERE id = ${key.id}`.execute(a.deps.db);
    await waitFor(async () => ((await settings(b, key.key)) === 401 ? true : undefined), 2000, 'B to refuse');
  });

  it('deleting a workspace’s keys (the cascade path) reaches the replicas', async () => {
    const key = await createKey(a.app, shop.key, ['read']);
    expect(await settings(b, key.key)).toBe(200);
    await sql`DELETE FROM api_keys WHERE id = ${key.id}`.execute(a.deps.db);
    await waitFor(async () => ((await settings(b, key.key)) === 401 ? true : undefined), 2000, 'B to refuse');
  });

  it('with no notification at all, the revoking replica refuses at once and the others within the TTL', async () => {
    const key = await createKey(a.app, shop.key, ['read']);
    expect(await settings(a, key.key)).toBe(200);
    expect(await settings(b, key.key)).toBe(200);
    await a.deps.db.transaction().execute(async (trx) => {
      await sql`ALTER TABLE api_keys DISABLE TRIGGER api_keys_rights_changed`.execute(trx);
    });
    try {
      expect((await call(a.app, 'DELETE', `/v1/api-keys/${key.id}`, shop.key)).statusCode).toBe(204);
    } finally {
      await sql`ALTER TABLE api_keys ENABLE TRIGGER api_keys_rights_changed`.execute(a.deps.db);
    }
    expect(await settings(a, key.key)).toBe(401);
    // B never heard: its entry holds, and is the bound the TTL promises.
    expect(await settings(b, key.key)).toBe(200);
    clock.advance(TTL_MS - 1);
    expect(await settings(b, key.key)).toBe(200);
    clock.advance(1);
    expect(await settings(b, key.key)).toBe(401);
  });

  it('a replica that loses its listener stops trusting its cache, and trusts it again once back', async () => {
    const before = await createKey(a.app, shop.key, ['read']);
    expect(await settings(b, before.key)).toBe(200);
    await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE application_name = 'posvenda-key-listener' AND datname = current_database()`.execute(
      a.deps.db,
    );
    await sleep(200); // the replicas see their connections closed
    await revokeUnheard(before.id);
    expect(await settings(b, before.key)).toBe(401);

    // Reconnected (after about a second), the cache serves again: an unheard revocation now
    // goes unseen until the TTL, which shows the entry came from memory.
    await waitFor(
      async () =>
        (
          await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE application_name = 'posvenda-key-listener' AND datname = current_database()
              AND query ILIKE 'LISTEN%'`.execute(a.deps.db)
        ).rows[0]?.n === 2
          ? true
          : undefined,
      5000,
      'listeners back',
    );
    const after = await createKey(a.app, shop.key, ['read']);
    expect(await settings(b, after.key)).toBe(200);
    await revokeUnheard(after.id);
    expect(await settings(b, after.key)).toBe(200);
    clock.advance(TTL_MS);
    expect(await settings(b, after.key)).toBe(401);
  });

  it('API_KEY_CACHE_TTL_MS=0 turns the cache off: an unheard revocation is seen at once', async () => {
    const off = await startTestApp({ clock, env: { API_KEY_CACHE_TTL_MS: '0' }, skipBootstrap: true });
    try {
      const key = await createKey(a.app, shop.key, ['read']);
      expect(await settings(off, key.key)).toBe(200);
      await revokeUnheard(key.id);
      expect(await settings(off, key.key)).toBe(401);
    } finally {
      await off.close();
    }
  });
});
