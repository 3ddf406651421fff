import { createHolidayCalendar } from '../../src/rules/holidays.js';
import { Simulation } from '../../src/rules/simulate.js';
import type { EngineEvent, PlanSettings, Playbook } from '../../src/rules/types.js';

export const calendar = { zone: 'America/Sao_Paulo', country: 'BR', holidays: createHolidayCalendar() };

export function settingsAt(now: Date, lateGraceMs = 24 * 3600_000): PlanSettings {
  return { now, calendar, lateGraceMs, quietHours: { start: '21:00', end: '08:00' } };
}

export function event(
  type: string,
  occurredAt: string | Date,
  properties: Record<string, unknown> = {},
): EngineEvent {
  return { id: `${type}-${String(occurredAt)}`, type, occurredAt: new Date(occurredAt), properties };
}

export const onboarding: Playbook = {
  key: 'onboarding',
  version: 1,
  enabled: true,
  trigger: { kind: 'event', event: 'delivery' },
  reentry: { kind: 'never' },
  exitOn: [{ event: 'cancellation' }],
  steps: [
    { key: 'welcome', after: 'P3D', channel: 'email', template: 'welcome', at: '10:00', businessDays: true },
    {
      key: 'checkin-call',
      after: 'P10D',
      channel: 'task',
      template: 'checkin-call',
      task: { kind: 'call' },
      when: { '==': [{ var: 'customer.segment' }, 'enterprise'] },
    },
    {
      key: 'checkin-email',
      after: 'P10D',
      channel: 'email',
      template: 'checkin',
      when: { '!=': [{ var: 'customer.segment' }, 'enterprise'] },
    },
    { key: 'nps', after: 'P60D', channel: 'email', template: 'nps' },
  ],
};

export const reengagement: Playbook = {
  key: 'reengagement',
  version: 1,
  enabled: true,
  trigger: { kind: 'inactivity', days: 15 },
  reentry: { kind: 'always' },
  exitOn: [{ event: 'cancellation' }, { event: 'activity' }, { event: 'purchase' }],
  steps: [
    { key: 'email', after: 'PT0S', channel: 'email', template: 'reengagement' },
    { key: 'call', after: 'P3D', channel: 'task', template: 'reengagement-call', task: { kind: 'call' } },
  ],
};

export const upgrade: Playbook = {
  key: 'upgrade-80',
  version: 1,
  enabled: true,
  trigger: { kind: 'usage', metric: 'seats', atLeast: 0.8 },
  reentry: { kind: 'after', after: 'P90D' },
  exitOn: [{ event: 'cancellation' }],
  steps: [{ key: 'offer', after: 'PT0S', channel: 'email', template: 'upgrade-offer' }],
};

export const renewal: Playbook = {
  key: 'renewal',
  version: 1,
  enabled: true,
  trigger: { kind: 'before', attribute: 'renewal_date', days: 30 },
  reentry: { kind: 'always' },
  exitOn: [{ event: 'cancellation' }],
  steps: [{ key: 'reminder', after: 'PT0S', channel: 'email', template: 'renewal' }],
};

/** The in-memory store the preview uses, playing events through the engine. */
export class MemoryStore extends Simulation {
  constructor(
    playbooks: readonly Playbook[],
    customer: Record<string, unknown> = { segment: 'smb', attributes: {} },
  ) {
    super(playbooks, customer);
  }
}
