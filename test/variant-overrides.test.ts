import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setVariantOverride, variantOverride } from '../src/modules/alerts/variant-overrides.js';
import { call, createKey, createWorkspace, problemOf, startTestApp, type TestApp } from './helpers/app.js';

// Overrides are set by alert actions (alert-rules.test.ts covers that path); here they are written
// with the same repository function the evaluator uses, then listed and cleared through the API.

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const at = new Date('2026-11-20T13:00:00Z');

describe('/v1/variant-overrides', () => {
  it('lists a workspace’s overrides by playbook and step, page by page, and clears one', async () => {
    const shop = await createWorkspace(t.app);
    const other = await createWorkspace(t.app);
    const reader = await createKey(t.app, shop.key, ['read']);
    const empty = await call(t.app, 'GET', '/v1/variant-overrides', shop.key);
    expect(empty.statusCode).toBe(200);
    expect(empty.json()).toEqual({ data: [], next_cursor: null });

    const set = (workspaceId: string, playbookKey: string, stepKey: string, variant: string) =>
      setVariantOverride(t.deps.db, { workspaceId, playbookKey, stepKey, variant, ruleId: null, at });
    await set(shop.id, 'onboarding', 'upgrade-offer', 'b');
    await set(shop.id, 'onboarding', 'checkin', 'a');
    await set(shop.id, 'anniversary', 'welcome', 'c');
    await set(other.id, 'onboarding', 'upgrade-offer', 'a');

    const first = await call(t.app, 'GET', '/v1/variant-overrides?limit=2', reader.key);
    expect(first.statusCode, first.body).toBe(200);
    const page1 = first.json();
    expect(page1.data).toEqual([
      { playbook: 'anniversary', step: 'welcome', variant: 'c', rule_id: null, created_at: at.toISOString() },
      { playbook: 'onboarding', step: 'checkin', variant: 'a', rule_id: null, created_at: at.toISOString() },
    ]);
    expect(page1.next_cursor).toEqual(expect.any(String));
    const second = await call(
      t.app,
      'GET',
      `/v1/variant-overrides?limit=2&cursor=${page1.next_cursor}`,
      reader.key,
    );
    expect(second.json()).toEqual({
      data: [
        {
          playbook: 'onboarding',
          step: 'upgrade-offer',
          variant: 'b',
          rule_id: null,
          created_at: at.toISOString(),
        },
      ],
      next_cursor: null,
    });

    // Clearing needs the admin scope; then the step is back to the weighted choice.
    const path = '/v1/variant-overrides/onboarding/upgrade-offer';
    expect((await call(t.app, 'DELETE', path, reader.key)).statusCode).toBe(403);
    expect((await call(t.app, 'DELETE', path, shop.key)).statusCode).toBe(204);
    expect(await variantOverride(t.deps.db, shop.id, 'onboarding', 'upgrade-offer')).toBeUndefined();
    const gone = await call(t.app, 'DELETE', path, shop.key);
    expect(gone.statusCode).toBe(404);
    expect(problemOf(gone).code).toBe('not_found');
    // The other workspace's override of the same step is untouched.
    expect(await variantOverride(t.deps.db, other.id, 'onboarding', 'upgrade-offer')).toBe('a');
    const left = await call(t.app, 'GET', '/v1/variant-overrides', shop.key);
    expect(left.json().data.map((o: { step: string }) => o.step)).toEqual(['welcome', 'checkin']);
  });

  it('rejects a cursor it did not issue, and needs a key', async () => {
    const shop = await createWorkspace(t.app);
    const bad = await call(t.app, 'GET', '/v1/variant-overrides?cursor=not-ours', shop.key);
    expect(bad.statusCode).toBe(400);
    expect(problemOf(bad).code).toBe('invalid_cursor');
    const anonymous = await t.app.inject({ method: 'GET', url: '/v1/variant-overrides' });
    expect(anonymous.statusCode).toBe(401);
  });
});
