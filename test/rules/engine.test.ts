import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { isRunning, planEvent } from '../../src/rules/engine.js';
import type { EngineEvent, Playbook } from '../../src/rules/types.js';
import {
  event,
  MemoryStore,
  onboarding,
  reengagement,
  renewal,
  settingsAt,
  upgrade,
} from './engine-fixtures.js';

const local = (date: Date) => DateTime.fromJSDate(date, { zone: 'America/Sao_Paulo' }).toISO();

/** The engine's plan for the event, which the store then applies (the engine is pure: same plan). */
function run(store: MemoryStore, e: EngineEvent, now: Date = e.occurredAt) {
  const plan = planEvent(store.state(), e, store.playbooks, settingsAt(now));
  store.apply(e, settingsAt(now));
  return plan;
}

describe('rules engine: event triggers and steps', () => {
  it('plans the onboarding calendar from the delivery time, email for small accounts', () => {
    const store = new MemoryStore([onboarding]);
    const plan = run(store, event('delivery', '2026-11-20T13:00:00Z'));
    expect(plan.enrollments).toHaveLength(1);
    const steps = plan.enrollments[0]!.touchpoints.map((tp) => [
      tp.step,
      tp.channel,
      local(tp.dueAt),
      tp.status,
    ]);
    expect(steps).toEqual([
      // Friday 20 Nov 10:00 local + 3 days = Monday 23rd, a business day, at 10:00.
      ['welcome', 'email', '2026-11-23T10:00:00.000-03:00', 'scheduled'],
      ['checkin-email', 'email', '2026-11-30T10:00:00.000-03:00', 'scheduled'],
      ['nps', 'email', '2027-01-19T10:00:00.000-03:00', 'scheduled'],
    ]);
  });

  it('gives larger accounts a call task instead of the check-in email (step `when`)', () => {
    const store = new MemoryStore([onboarding], { segment: 'enterprise', attributes: {} });
    const plan = run(store, event('delivery', '2026-11-20T13:00:00Z'));
    expect(plan.enrollments[0]!.touchpoints.map((tp) => `${tp.step}:${tp.channel}`)).toEqual([
      'welcome:email',
      'checkin-call:task',
      'nps:email',
    ]);
  });

  it('honours the trigger condition and the audience', () => {
    const picky: Playbook = {
      ...onboarding,
      key: 'big-orders',
      trigger: {
        kind: 'event',
        event: 'purchase',
        when: { '>=': [{ var: 'event.properties.amount' }, 1000] },
      },
      audience: { '==': [{ var: 'customer.attributes.plan' }, 'basic'] },
    };
    const basic = new MemoryStore([picky], { segment: 'smb', attributes: { plan: 'basic' } });
    expect(run(basic, event('purchase', '2026-11-20T13:00:00Z', { amount: 999 })).enrollments).toHaveLength(
      0,
    );
    expect(run(basic, event('purchase', '2026-11-21T13:00:00Z', { amount: 1000 })).enrollments).toHaveLength(
      1,
    );
    const premium = new MemoryStore([picky], { segment: 'smb', attributes: { plan: 'premium' } });
    expect(
      run(premium, event('purchase', '2026-11-20T13:00:00Z', { amount: 5000 })).enrollments,
    ).toHaveLength(0);
  });

  it('skips disabled playbooks', () => {
    const store = new MemoryStore([{ ...onboarding, enabled: false }]);
    expect(run(store, event('delivery', '2026-11-20T13:00:00Z')).enrollments).toHaveLength(0);
  });

  it('records steps already overdue by more than the grace as skipped (late), the rest scheduled', () => {
    const store = new MemoryStore([onboarding]);
    // Backfilled delivery 20 days ago: welcome (D+3) and check-in (D+10) are long past.
    const plan = run(store, event('delivery', '2026-11-01T13:00:00Z'), new Date('2026-11-21T13:00:00Z'));
    expect(plan.enrollments[0]!.touchpoints.map((tp) => [tp.step, tp.status, tp.skipReason])).toEqual([
      ['welcome', 'skipped', 'late'],
      ['checkin-email', 'skipped', 'late'],
      ['nps', 'scheduled', undefined],
    ]);
  });

  it('keeps a just-overdue step within the grace scheduled', () => {
    const store = new MemoryStore([onboarding]);
    const delivered = new Date('2026-11-02T13:00:00Z');
    const welcomeDue = planEvent(
      store.state(),
      event('delivery', delivered),
      [onboarding],
      settingsAt(delivered),
    ).enrollments[0]!.touchpoints[0]!.dueAt;
    const plan = planEvent(
      store.state(),
      event('delivery', delivered),
      [onboarding],
      settingsAt(new Date(welcomeDue.getTime() + 23 * 3600_000)),
    );
    expect(plan.enrollments[0]!.touchpoints[0]!.status).toBe('scheduled');
  });

  it('moves an email due in quiet hours to their end', () => {
    const immediate: Playbook = {
      ...onboarding,
      key: 'thanks',
      steps: [{ key: 'thanks', after: 'PT0S', channel: 'email', template: 'thanks' }],
    };
    const store = new MemoryStore([immediate]);
    const plan = run(store, event('delivery', '2026-11-21T02:00:00Z')); // 23:00 local
    expect(local(plan.enrollments[0]!.touchpoints[0]!.dueAt)).toBe('2026-11-21T08:00:00.000-03:00');
  });
});

describe('rules engine: exits', () => {
  it('a cancellation ends running enrollments at once', () => {
    const store = new MemoryStore([onboarding, reengagement]);
    run(store, event('delivery', '2026-11-20T13:00:00Z'));
    run(store, event('activity', '2026-11-21T13:00:00Z'));
    const plan = run(store, event('cancellation', '2026-11-22T13:00:00Z'));
    expect(plan.exits.map((exit) => [exit.playbookKey, exit.reason]).sort()).toEqual([
      ['onboarding', 'event:cancellation'],
      ['reengagement', 'event:cancellation'],
    ]);
    expect(store.touchpoints.filter((tp) => tp.status === 'scheduled')).toEqual([]);
  });

  it('a backfilled cancellation older than the enrollment does not end it', () => {
    const store = new MemoryStore([onboarding]);
    run(store, event('delivery', '2026-11-20T13:00:00Z'));
    const plan = run(store, event('cancellation', '2026-11-10T13:00:00Z'), new Date('2026-11-21T13:00:00Z'));
    expect(plan.exits).toEqual([]);
  });

  it('an exit rule with a condition exits only when it holds', () => {
    const bigOnly: Playbook = {
      ...onboarding,
      exitOn: [{ event: 'purchase', when: { '>': [{ var: 'event.properties.amount' }, 100] } }],
    };
    const store = new MemoryStore([bigOnly]);
    run(store, event('delivery', '2026-11-20T13:00:00Z'));
    expect(run(store, event('purchase', '2026-11-21T13:00:00Z', { amount: 50 })).exits).toEqual([]);
    expect(run(store, event('purchase', '2026-11-22T13:00:00Z', { amount: 500 })).exits).toHaveLength(1);
  });
});

describe('rules engine: inactivity, usage and date triggers', () => {
  it('inactivity: a pending idle period is moved by each new activity and fires once', () => {
    const store = new MemoryStore([reengagement]);
    const first = run(store, event('activity', '2026-11-01T13:00:00Z'));
    expect(first.enrollments.map((e) => e.triggerAt.toISOString())).toEqual(['2026-11-16T13:00:00.000Z']);
    const moved = run(store, event('activity', '2026-11-05T13:00:00Z'));
    expect(moved.enrollments).toEqual([]);
    expect(moved.reschedules.map((r) => r.triggerAt.toISOString())).toEqual(['2026-11-20T13:00:00.000Z']);
    // An older activity arriving late does not move it back.
    const late = run(store, event('activity', '2026-11-03T13:00:00Z'), new Date('2026-11-06T13:00:00Z'));
    expect(late.reschedules).toEqual([]);
    expect(store.enrollments).toHaveLength(1);
    expect(store.touchpoints.filter((tp) => tp.status === 'scheduled').map((tp) => tp.step)).toEqual([
      'email',
      'call',
    ]);
  });

  it('inactivity: an explicit inactivity event fires the pending period now', () => {
    const store = new MemoryStore([reengagement]);
    run(store, event('activity', '2026-11-01T13:00:00Z'));
    const fired = run(store, event('inactivity', '2026-11-08T13:00:00Z', { days: 7 }));
    expect(fired.reschedules.map((r) => r.triggerAt.toISOString())).toEqual(['2026-11-08T13:00:00.000Z']);
  });

  it('inactivity: coming back after the period fired ends the follow-up and starts a new idle period', () => {
    const store = new MemoryStore([reengagement]);
    run(store, event('activity', '2026-11-01T13:00:00Z'));
    const back = run(store, event('activity', '2026-11-17T13:00:00Z')); // the period fired on the 16th
    expect(back.exits.map((e) => e.playbookKey)).toEqual(['reengagement']);
    expect(back.enrollments.map((e) => e.triggerAt.toISOString())).toEqual(['2026-12-02T13:00:00.000Z']);
  });

  it('usage: fires when the ratio crosses the threshold, not on every reading above it', () => {
    const store = new MemoryStore([upgrade]);
    const reading = (at: string, value: number) => event('usage', at, { metric: 'seats', value, limit: 10 });
    expect(run(store, reading('2026-11-01T13:00:00Z', 5)).enrollments).toHaveLength(0);
    expect(run(store, reading('2026-11-02T13:00:00Z', 8)).enrollments).toHaveLength(1);
    expect(run(store, reading('2026-11-03T13:00:00Z', 9)).enrollments).toHaveLength(0);
    expect(run(store, reading('2026-11-04T13:00:00Z', 3)).enrollments).toHaveLength(0);
    // Crossing again within 90 days: re-entry { after: P90D } refuses.
    expect(run(store, reading('2026-11-05T13:00:00Z', 9)).enrollments).toHaveLength(0);
    run(store, reading('2027-02-10T13:00:00Z', 2));
    expect(run(store, reading('2027-02-11T13:00:00Z', 10)).enrollments).toHaveLength(1);
    expect(
      run(store, event('usage', '2027-02-12T13:00:00Z', { metric: 'storage', value: 10, limit: 10 }))
        .enrollments,
    ).toHaveLength(0);
  });

  it('before a date attribute: plans once per date value, and moves when the date changes', () => {
    const store = new MemoryStore([renewal], {
      segment: 'smb',
      attributes: { renewal_date: '2027-03-01T12:00:00Z' },
    });
    const first = run(store, event('activity', '2026-11-20T13:00:00Z'));
    expect(first.enrollments.map((e) => e.triggerAt.toISOString())).toEqual(['2027-01-30T12:00:00.000Z']);
    expect(run(store, event('activity', '2026-11-21T13:00:00Z')).enrollments).toEqual([]);
    (store.customer.attributes as Record<string, unknown>).renewal_date = '2027-04-01T12:00:00Z';
    const moved = run(store, event('activity', '2026-11-22T13:00:00Z'));
    expect(moved.reschedules.map((r) => r.triggerAt.toISOString())).toEqual(['2027-03-02T12:00:00.000Z']);
  });
});

const eventTypes = [
  'delivery',
  'purchase',
  'activity',
  'usage',
  'cancellation',
  'inactivity',
  'first_use',
] as const;
const arbitraryEvents = fc
  .array(
    fc.record({
      type: fc.constantFrom(...eventTypes),
      gapHours: fc.integer({ min: 1, max: 24 * 40 }),
      value: fc.integer({ min: 0, max: 10 }),
    }),
    { minLength: 1, maxLength: 30 },
  )
  .map((items) => {
    let at = new Date('2026-01-05T12:00:00Z').getTime();
    return items.map((item) => {
      at += item.gapHours * 3600_000;
      const properties = item.type === 'usage' ? { metric: 'seats', value: item.value, limit: 10 } : {};
      return event(item.type, new Date(at), properties);
    });
  });

describe('rules engine: properties', () => {
  const playbooks = [onboarding, reengagement, upgrade];

  it('after an exit event, nothing of the exited enrollments due after it is left pending', () => {
    fc.assert(
      fc.property(arbitraryEvents, (events) => {
        const store = new MemoryStore(playbooks);
        for (const e of events) {
          const plan = run(store, e);
          for (const exit of plan.exits) {
            expect(
              store.touchpoints.filter(
                (tp) =>
                  tp.enrollmentId === exit.enrollmentId &&
                  tp.status === 'scheduled' &&
                  tp.dueAt > e.occurredAt,
              ),
            ).toEqual([]);
          }
          if (e.type === 'cancellation') {
            // Every playbook exits on cancellation: nothing that was running before stays running.
            const running = store.enrollments.filter(
              (en) => isRunning(en, e.occurredAt) && en.triggerAt <= e.occurredAt,
            );
            expect(running).toEqual([]);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('re-entry rules hold: never at most once, after P90D spaced by 90 days, one running at a time', () => {
    fc.assert(
      fc.property(arbitraryEvents, (events) => {
        const store = new MemoryStore(playbooks);
        for (const e of events) {
          run(store, e);
          for (const playbook of playbooks) {
            const own = store.enrollments.filter((en) => en.playbookKey === playbook.key);
            const running = own.filter((en) => isRunning(en, e.occurredAt));
            expect(running.length).toBeLessThanOrEqual(1);
          }
        }
        expect(store.enrollments.filter((en) => en.playbookKey === 'onboarding').length).toBeLessThanOrEqual(
          1,
        );
        const upgrades = store.enrollments
          .filter((en) => en.playbookKey === 'upgrade-80')
          .map((en) => en.triggerAt.getTime())
          .sort((a, b) => a - b);
        for (let i = 1; i < upgrades.length; i++) {
          expect(upgrades[i]! - upgrades[i - 1]!).toBeGreaterThanOrEqual(90 * 24 * 3600_000);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is pure: the same input gives the same plan', () => {
    fc.assert(
      fc.property(arbitraryEvents, (events) => {
        const store = new MemoryStore(playbooks);
        for (const e of events.slice(0, -1)) run(store, e);
        const last = events.at(-1)!;
        const a = planEvent(store.state(), last, playbooks, settingsAt(last.occurredAt));
        const b = planEvent(store.state(), last, playbooks, settingsAt(last.occurredAt));
        expect(a).toEqual(b);
      }),
      { numRuns: 100 },
    );
  });
});
