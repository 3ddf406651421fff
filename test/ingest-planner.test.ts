// The seam where the rules engine will plan touchpoints inside the ingest transaction.
// There is no HTTP route to install a planner yet, so these tests call the events service
// with the app's real database and a planner of their own (the rules engine does not exist).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestBatch, ingestEvent } from '../src/modules/events/events.service.js';
import type { AcceptedEvent, EventPlan, EventPlanner } from '../src/modules/events/planner.js';
import { call, createWorkspace, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';

const clock = new TestClock('2026-11-20T12:00:00Z');
let t: TestApp;
let workspace: { id: string; key: string };

beforeAll(async () => {
  t = await startTestApp({ clock });
  workspace = await createWorkspace(t.app);
});
afterAll(async () => t.close());

const context = (planner: EventPlanner) => ({ db: t.deps.db, clock, planner });

describe('the planner seam', () => {
  it('is called inside the transaction with each accepted event and its customer after the upsert', async () => {
    const seen: AcceptedEvent[][] = [];
    const planner: EventPlanner = {
      mayPlan: true,
      plan: async (_trx, { accepted, now }) => {
        seen.push([...accepted]);
        return accepted.map(
          (item): EventPlan => ({
            touchpoints: [
              {
                id: '019a9a6e-1f00-7000-8000-000000000001',
                playbook: 'onboarding',
                step: 'welcome',
                channel: 'email',
                dueAt: new Date(now.getTime() + 3 * 86_400_000),
                status: 'scheduled',
              },
            ],
            exited: item.customer.ordersCount > 1 ? [{ playbook: 'winback', reason: 'purchase' }] : [],
          }),
        );
      },
    };
    await ingestEvent(context(planner), workspace.id, {
      id: 'p-1',
      type: 'purchase',
      customer: { id: 'planned' },
      properties: { amount: 10 },
    });
    const outcome = await ingestEvent(context(planner), workspace.id, {
      id: 'p-2',
      type: 'purchase',
      customer: { id: 'planned', name: 'Ana' },
      properties: { amount: 5 },
    });
    expect(outcome.status).toBe('accepted');
    if (outcome.status !== 'accepted') return;
    expect(outcome.plan.touchpoints[0]?.playbook).toBe('onboarding');
    expect(outcome.plan.exited).toEqual([{ playbook: 'winback', reason: 'purchase' }]);
    const second = seen[1]![0]!;
    expect(second.event.externalId).toBe('p-2');
    expect(second.customer).toMatchObject({
      externalId: 'planned',
      name: 'Ana',
      ordersCount: 2,
      revenueTotal: 15,
    });
  });

  it('a duplicate is not planned again', async () => {
    let calls = 0;
    const planner: EventPlanner = {
      mayPlan: true,
      plan: async (_trx, { accepted }) => {
        calls += accepted.length;
        return accepted.map(() => ({ touchpoints: [], exited: [] }));
      },
    };
    const body = { id: 'p-dup', type: 'activity', customer: { id: 'planned-dup' } };
    await ingestEvent(context(planner), workspace.id, body);
    const again = await ingestEvent(context(planner), workspace.id, body);
    expect(again.status).toBe('duplicate');
    expect(calls).toBe(1);
  });

  it('when planning fails, nothing of the ingest is committed', async () => {
    const failing: EventPlanner = {
      mayPlan: true,
      plan: async () => {
        throw new Error('planner down');
      },
    };
    const body = { id: 'p-fail', type: 'purchase', customer: { id: 'unplanned' }, properties: { amount: 1 } };
    await expect(ingestEvent(context(failing), workspace.id, body)).rejects.toThrow('planner down');
    await expect(
      ingestBatch(context(failing), workspace.id, { events: [{ ...body, id: 'p-fail-2' }] }),
    ).rejects.toThrow('planner down');
    expect((await call(t.app, 'GET', '/v1/customers/unplanned', workspace.key)).statusCode).toBe(404);
    // The id is free: the same event now goes in as new.
    expect((await call(t.app, 'POST', '/v1/events', workspace.key, body)).statusCode).toBe(202);
  });
});
