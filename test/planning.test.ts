import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { call, createWorkspace, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';

// Friday 20 Nov 2026, 09:00 in São Paulo (a national holiday there: Consciência Negra).
const NOW = '2026-11-20T12:00:00Z';

interface Planned {
  id: string;
  playbook: string;
  step: string;
  channel: string;
  due_at: string;
  status: string;
}

describe('planning through ingest (the seed playbooks)', () => {
  let t: TestApp;
  let shop: { id: string; key: string };
  const clock = new TestClock(NOW);
  let seq = 0;
  beforeAll(async () => {
    t = await startTestApp({ clock });
    shop = await createWorkspace(t.app);
  });
  afterAll(async () => t.close());
  beforeEach(() => clock.set(NOW));

  const post = async (
    customer: Record<string, unknown>,
    type: string,
    occurredAt: string,
    properties: Record<string, unknown> = {},
  ) => {
    // Events arrive when they occur: the clock moves forward with them (never back).
    if (new Date(occurredAt) > clock.now()) clock.set(occurredAt);
    const response = await call(t.app, 'POST', '/v1/events', shop.key, {
      id: `e-${++seq}`,
      type,
      occurred_at: occurredAt,
      customer,
      properties,
    });
    expect(response.statusCode, response.body).toBe(202);
    return response.json() as { touchpoints: Planned[]; exited: { playbook: string; reason: string }[] };
  };
  const stored = (customerExternalId: string) =>
    t.deps.db
      .selectFrom('touchpoints as tp')
      .innerJoin('customers as c', (join) =>
        join.onRef('c.workspaceId', '=', 'tp.workspaceId').onRef('c.id', '=', 'tp.customerId'),
      )
      .select([
        'tp.playbookKey',
        'tp.stepKey',
        'tp.status',
        'tp.statusReason',
        'tp.dueAt',
        'tp.channel',
        'tp.taskKind',
      ])
      .where('tp.workspaceId', '=', shop.id)
      .where('c.externalId', '=', customerExternalId)
      .orderBy('tp.dueAt')
      .execute();
  const steps = (planned: readonly Planned[], playbook: string) =>
    planned.filter((tp) => tp.playbook === playbook).map((tp) => `${tp.step}:${tp.channel}:${tp.status}`);

  it('audience split: a larger account gets a check-in call task, a small one an email', async () => {
    const big = await post({ id: 'big-1', segment: 'enterprise' }, 'delivery', NOW);
    const small = await post({ id: 'small-1', segment: 'smb' }, 'delivery', NOW);
    expect(steps(big.touchpoints, 'onboarding')).toContain('checkin-call:task:scheduled');
    expect(steps(big.touchpoints, 'onboarding')).not.toContain('checkin-email:email:scheduled');
    expect(steps(small.touchpoints, 'onboarding')).toContain('checkin-email:email:scheduled');
    expect(steps(small.touchpoints, 'onboarding')).not.toContain('checkin-call:task:scheduled');
    const task = (await stored('big-1')).find((tp) => tp.stepKey === 'checkin-call');
    expect(task?.taskKind).toBe('call');
  });

  it('D+3 welcome at 10:00 on a business day, in the customer time zone', async () => {
    const planned = await post({ id: 'tz-1', timezone: 'America/Manaus' }, 'delivery', NOW);
    const welcome = planned.touchpoints.find((tp) => tp.step === 'welcome')!;
    // Manaus is UTC−4: Friday 08:00 local + 3 days = Monday 23rd, 10:00 local = 14:00 UTC.
    expect(welcome.due_at).toBe('2026-11-23T14:00:00.000Z');
  });

  it('stores every planned touchpoint and answers the same in the ingest response', async () => {
    const planned = await post({ id: 'store-1' }, 'delivery', NOW);
    const rows = await stored('store-1');
    expect(rows.map((r) => `${r.playbookKey}:${r.stepKey}:${r.status}`).sort()).toEqual(
      planned.touchpoints.map((tp) => `${tp.playbook}:${tp.step}:${tp.status}`).sort(),
    );
  });

  it('a cancellation exits every running enrollment at once and cancels what was pending', async () => {
    await post({ id: 'cancel-1' }, 'delivery', NOW);
    const response = await post({ id: 'cancel-1' }, 'cancellation', '2026-11-21T12:00:00Z', {
      reason: 'price',
    });
    expect(response.exited.map((x) => x.playbook).sort()).toEqual(['onboarding', 'reengagement']);
    const rows = await stored('cancel-1');
    expect(rows.filter((r) => r.status === 'scheduled')).toEqual([]);
    expect(new Set(rows.map((r) => r.statusReason))).toEqual(new Set(['exited:event:cancellation']));
    const enrollments = await t.deps.db
      .selectFrom('enrollments')
      .select(['status', 'exitReason'])
      .where('workspaceId', '=', shop.id)
      .where('playbookKey', '=', 'onboarding')
      .where('customerId', '=', (await customerId('cancel-1'))!)
      .execute();
    expect(enrollments).toEqual([{ status: 'exited', exitReason: 'event:cancellation' }]);
  });

  it('a backfilled delivery: steps overdue by more than the late grace are skipped (late), the rest scheduled', async () => {
    const planned = await post({ id: 'late-1' }, 'delivery', '2026-10-20T12:00:00Z');
    expect(steps(planned.touchpoints, 'onboarding')).toEqual([
      'welcome:email:skipped',
      'checkin-email:email:skipped',
      'usage-tips:email:scheduled',
      'nps:email:scheduled',
      'upgrade-offer:email:scheduled',
    ]);
    expect((await stored('late-1')).find((r) => r.stepKey === 'welcome')?.statusReason).toBe('late');
  });

  it('re-entry never: a second delivery does not start onboarding again', async () => {
    await post({ id: 'twice-1' }, 'delivery', NOW);
    const again = await post({ id: 'twice-1' }, 'delivery', '2026-11-21T12:00:00Z');
    expect(steps(again.touchpoints, 'onboarding')).toEqual([]);
  });

  it('inactivity: each activity moves the 15-day idle timer without leaving rows behind; an inactivity event fires it now', async () => {
    await post({ id: 'idle-1' }, 'activity', NOW);
    const idle = async () => (await stored('idle-1')).filter((r) => r.playbookKey === 'reengagement');
    expect((await idle()).map((r) => r.dueAt.toISOString())).toEqual([
      '2026-12-07T13:00:00.000Z', // 5 Dec is a Saturday: Monday 7th, 10:00 local
      '2026-12-08T13:00:00.000Z', // trigger + 3 days = Tuesday 8th, 10:00 local
    ]);
    await post({ id: 'idle-1' }, 'activity', '2026-11-23T12:00:00Z');
    await post({ id: 'idle-1' }, 'activity', '2026-11-24T12:00:00Z');
    const moved = await idle();
    expect(moved).toHaveLength(2);
    expect(moved[0]!.dueAt.toISOString()).toBe('2026-12-09T13:00:00.000Z');
    const fired = await post({ id: 'idle-1' }, 'inactivity', '2026-11-25T12:00:00Z', { days: 15 });
    expect(steps(fired.touchpoints, 'reengagement')).toEqual([
      'email:email:scheduled',
      'support-call:task:scheduled',
    ]);
    expect(fired.touchpoints[0]!.due_at).toBe('2026-11-25T13:00:00.000Z');
  });

  it('usage threshold: the upgrade offer when usage crosses 80 % of the plan, once', async () => {
    const reading = (value: number, at: string) =>
      post({ id: 'usage-1' }, 'usage', at, { metric: 'capacity', value, limit: 100 });
    expect(steps((await reading(50, NOW)).touchpoints, 'upgrade-at-80')).toEqual([]);
    expect(steps((await reading(85, '2026-11-20T12:10:00Z')).touchpoints, 'upgrade-at-80')).toEqual([
      'offer:email:scheduled',
    ]);
    expect(steps((await reading(95, '2026-11-20T12:20:00Z')).touchpoints, 'upgrade-at-80')).toEqual([]);
  });

  it('detractor follow-up: an NPS answer of 0–6 plans an escalation call on the next business day', async () => {
    const detractor = await post({ id: 'nps-1' }, 'survey_response', NOW, { survey: 'nps', score: 4 });
    expect(steps(detractor.touchpoints, 'detractor-followup')).toEqual(['escalation-call:task:scheduled']);
    // Friday 20th (holiday) + 1 day = Saturday → Monday 23rd, same local time (09:00).
    expect(detractor.touchpoints.find((tp) => tp.playbook === 'detractor-followup')!.due_at).toBe(
      '2026-11-23T12:00:00.000Z',
    );
    const promoter = await post({ id: 'nps-2' }, 'survey_response', NOW, { survey: 'nps', score: 9 });
    expect(steps(promoter.touchpoints, 'detractor-followup')).toEqual([]);
  });

  it('days before a date attribute: plans once per date, and moves when the date changes', async () => {
    await call(t.app, 'POST', '/v1/playbooks', shop.key, {
      key: 'renewal',
      name: 'Renovação',
      trigger: { before: { attribute: 'renewal_date', days: 30 } },
      reentry: 'always',
      steps: [{ key: 'reminder', after: 'PT0S', channel: 'email', template: 'welcome' }],
    });
    const first = await post(
      { id: 'renew-1', attributes: { renewal_date: '2027-03-01T12:00:00Z' } },
      'activity',
      NOW,
    );
    expect(first.touchpoints.filter((tp) => tp.playbook === 'renewal').map((tp) => tp.due_at)).toEqual([
      '2027-01-30T12:00:00.000Z',
    ]);
    const same = await post({ id: 'renew-1' }, 'activity', '2026-11-20T12:05:00Z');
    expect(same.touchpoints.filter((tp) => tp.playbook === 'renewal')).toEqual([]);
    await post(
      { id: 'renew-1', attributes: { renewal_date: '2027-04-01T12:00:00Z' } },
      'activity',
      '2026-11-20T12:06:00Z',
    );
    const rows = (await stored('renew-1')).filter((r) => r.playbookKey === 'renewal');
    expect(rows.map((r) => `${r.status}:${r.dueAt.toISOString()}`)).toEqual([
      'scheduled:2027-03-02T12:00:00.000Z',
    ]);
  });

  it('running enrollments keep their playbook version; new ones start on the new version', async () => {
    await call(t.app, 'POST', '/v1/playbooks', shop.key, {
      key: 'first-order',
      name: 'Primeiro pedido',
      trigger: { event: 'purchase' },
      reentry: 'never',
      exit_on: [{ event: 'cancellation' }],
      steps: [{ key: 'thanks', after: 'P1D', channel: 'email', template: 'welcome' }],
    });
    await post({ id: 'ver-1' }, 'purchase', NOW, { amount: 10 });
    await call(t.app, 'PUT', '/v1/playbooks/first-order', shop.key, {
      name: 'Primeiro pedido v2',
      trigger: { event: 'purchase' },
      reentry: 'never',
      exit_on: [],
      steps: [{ key: 'thanks-v2', after: 'P2D', channel: 'email', template: 'welcome' }],
    });
    const v2 = await post({ id: 'ver-2' }, 'purchase', NOW, { amount: 10 });
    expect(steps(v2.touchpoints, 'first-order')).toEqual(['thanks-v2:email:scheduled']);
    // ver-1 runs on version 1, whose exit rule (cancellation) still applies to it.
    const cancelled = await post({ id: 'ver-1' }, 'cancellation', '2026-11-20T12:30:00Z');
    expect(cancelled.exited.map((x) => x.playbook)).toContain('first-order');
    const versions = await t.deps.db
      .selectFrom('enrollments')
      .select(['playbookVersion', 'status'])
      .where('workspaceId', '=', shop.id)
      .where('playbookKey', '=', 'first-order')
      .orderBy('playbookVersion')
      .execute();
    expect(versions).toEqual([
      { playbookVersion: 1, status: 'exited' },
      { playbookVersion: 2, status: 'active' },
    ]);
  });

  it('deleting a playbook ends its running enrollments and cancels their pending touchpoints', async () => {
    await post({ id: 'del-1', segment: 'smb' }, 'survey_response', NOW, { survey: 'nps', score: 2 });
    expect((await call(t.app, 'DELETE', '/v1/playbooks/detractor-followup', shop.key)).statusCode).toBe(204);
    const rows = (await stored('del-1')).filter((r) => r.playbookKey === 'detractor-followup');
    expect(rows.map((r) => `${r.status}:${r.statusReason}`)).toEqual(['cancelled:exited:playbook_deleted']);
    expect((await call(t.app, 'GET', '/v1/playbooks/detractor-followup', shop.key)).statusCode).toBe(404);
  });

  it("erasing a customer cancels the customer's pending touchpoints", async () => {
    await post({ id: 'erase-1', name: 'Ana' }, 'delivery', NOW);
    expect((await call(t.app, 'DELETE', '/v1/customers/erase-1', shop.key)).statusCode).toBe(204);
    const rows = await t.deps.db
      .selectFrom('touchpoints')
      .select(['status', 'statusReason'])
      .where('workspaceId', '=', shop.id)
      .where('customerId', '=', (await erasedCustomerId())!)
      .execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.status === 'cancelled' && r.statusReason === 'exited:erased')).toBe(true);
  });

  it('a batch plans each event, in time order per customer', async () => {
    const response = await call(t.app, 'POST', '/v1/events/batch', shop.key, {
      events: [
        {
          id: `b-${++seq}`,
          type: 'cancellation',
          occurred_at: '2026-11-20T11:59:00Z',
          customer: { id: 'batch-1' },
        },
        {
          id: `b-${++seq}`,
          type: 'delivery',
          occurred_at: '2026-11-20T11:00:00Z',
          customer: { id: 'batch-1' },
        },
      ],
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().results.map((r: { status: string }) => r.status)).toEqual([
      'accepted',
      'accepted',
    ]);
    const rows = await stored('batch-1');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.status === 'scheduled')).toEqual([]);
  });

  it('concurrent events of one customer enroll once: the customer row serialises their plans', async () => {
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call(t.app, 'POST', '/v1/events', shop.key, {
          id: `race-${i}`,
          type: 'delivery',
          occurred_at: NOW,
          customer: { id: 'race-1' },
        }),
      ),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(10).fill(202));
    const enrollments = await t.deps.db
      .selectFrom('enrollments')
      .select(['playbookKey'])
      .where('workspaceId', '=', shop.id)
      .where('customerId', '=', (await customerId('race-1'))!)
      .execute();
    expect(enrollments.map((e) => e.playbookKey).sort()).toEqual(['onboarding', 'reengagement']);
  });

  async function customerId(externalId: string) {
    return (
      await t.deps.db
        .selectFrom('customers')
        .select('id')
        .where('workspaceId', '=', shop.id)
        .where('externalId', '=', externalId)
        .executeTakeFirst()
    )?.id;
  }
  async function erasedCustomerId() {
    return (
      await t.deps.db
        .selectFrom('customerErasures')
        .select('customerId')
        .where('workspaceId', '=', shop.id)
        .orderBy('erasedAt', 'desc')
        .executeTakeFirst()
    )?.customerId;
  }
});
