import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap } from '../src/bootstrap.js';
import { closeDeps, createDeps, type Deps } from '../src/deps.js';
import { hashKey } from '../src/modules/api-keys/api-key-token.js';
import { DEFAULT_WORKSPACE_ID } from '../src/modules/workspaces/workspaces.service.js';
import { testConfig } from './helpers/app.js';

describe('bootstrap of the default workspace and its admin key', () => {
  let deps: Deps;
  beforeAll(() => {
    deps = createDeps(testConfig(), { log: pino({ level: 'silent' }) });
  });
  afterAll(async () => closeDeps(deps));

  const activeKeys = () =>
    deps.db
      .selectFrom('apiKeys')
      .select(['id', 'keyHash', 'managed'])
      .where('workspaceId', '=', DEFAULT_WORKSPACE_ID)
      .where('revokedAt', 'is', null)
      .execute();
  const withAdminKey = (adminKey: string | undefined) => ({ ...deps, config: { ...deps.config, adminKey } });

  it('with no key and no POSVENDA_ADMIN_KEY, creates one admin key once and returns it to print', async () => {
    const first = await bootstrap(withAdminKey(undefined));
    expect(first.initialAdminKey).toMatch(/^pv_/);
    const second = await bootstrap(withAdminKey(undefined));
    expect(second.initialAdminKey).toBeUndefined();
    const keys = await activeKeys();
    expect(keys).toHaveLength(1);
    expect(keys[0]!.keyHash.equals(hashKey(first.initialAdminKey!))).toBe(true);
  });

  it('provisions POSVENDA_ADMIN_KEY once, however many times it starts, also concurrently', async () => {
    const key = 'ops-admin-key-aaaaaaaaaaaaaaaa';
    await Promise.all([1, 2, 3, 4].map(() => bootstrap(withAdminKey(key))));
    await bootstrap(withAdminKey(key));
    const managed = (await activeKeys()).filter((k) => k.managed);
    expect(managed).toHaveLength(1);
    expect(managed[0]!.keyHash.equals(hashKey(key))).toBe(true);
  });

  it('a changed POSVENDA_ADMIN_KEY replaces the old one, which stops working', async () => {
    await bootstrap(withAdminKey('ops-admin-key-bbbbbbbbbbbbbbbb'));
    const managed = (await activeKeys()).filter((k) => k.managed);
    expect(managed).toHaveLength(1);
    expect(managed[0]!.keyHash.equals(hashKey('ops-admin-key-bbbbbbbbbbbbbbbb'))).toBe(true);
  });

  it('removing POSVENDA_ADMIN_KEY revokes the managed key and keeps the others', async () => {
    const result = await bootstrap(withAdminKey(undefined));
    expect(result.initialAdminKey).toBeUndefined(); // the key created in the first test still exists
    const keys = await activeKeys();
    expect(keys.filter((k) => k.managed)).toHaveLength(0);
    expect(keys).toHaveLength(1);
  });

  it('refuses a POSVENDA_ADMIN_KEY shaped like a generated key of another workspace', async () => {
    const foreign = `pv_${Buffer.alloc(16, 7).toString('base64url')}_${'a'.repeat(43)}`;
    await expect(bootstrap(withAdminKey(foreign))).rejects.toThrow(/another workspace/);
  });
});
