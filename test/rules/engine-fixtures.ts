import { createHolidayCalendar } from '../../src/rules/holidays.js';
import type {
  CustomerState,
  EngineEvent,
  Enrollment,
  Plan,
  PlannedTouchpoint,
  PlanSettings,
  Playbook,
} from '../../src/rules/types.js';

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

export interface StoredTouchpoint extends Omit<PlannedTouchpoint, 'status'> {
  readonly enrollmentId: string;
  status: PlannedTouchpoint['status'] | 'cancelled';
}

/** An in-memory store that applies plans the way the event transaction does. */
export class MemoryStore {
  enrollments: (Enrollment & { touchpointIds: number[] })[] = [];
  touchpoints: StoredTouchpoint[] = [];
  lastActivityAt: Date | null = null;
  usage: Record<string, { ratio: number; at: Date }> = {};
  private next = 1;

  constructor(
    readonly playbooks: readonly Playbook[],
    readonly customer: Record<string, unknown> = { segment: 'smb', attributes: {} },
  ) {}

  state(): CustomerState {
    return {
      customer: this.customer,
      enrollments: this.enrollments,
      lastActivityAt: this.lastActivityAt,
      usage: this.usage,
    };
  }

  apply(plan: Plan, e: EngineEvent): void {
    for (const exit of plan.exits) {
      const index = this.enrollments.findIndex((en) => en.id === exit.enrollmentId);
      const enrollment = this.enrollments[index]!;
      this.enrollments[index] = { ...enrollment, status: 'exited' };
      for (const tp of this.touchpoints)
        if (tp.enrollmentId === enrollment.id && tp.status === 'scheduled') tp.status = 'cancelled';
    }
    for (const move of plan.reschedules) {
      const index = this.enrollments.findIndex((en) => en.id === move.enrollmentId);
      for (const tp of this.touchpoints)
        if (tp.enrollmentId === move.enrollmentId && tp.status === 'scheduled') tp.status = 'cancelled';
      this.touchpoints.push(...move.touchpoints.map((tp) => ({ ...tp, enrollmentId: move.enrollmentId })));
      this.enrollments[index] = {
        ...this.enrollments[index]!,
        triggerAt: move.triggerAt,
        triggerKey: move.triggerKey,
        lastDueAt: lastDue(move.touchpoints),
      };
    }
    for (const planned of plan.enrollments) {
      const id = `en-${this.next++}`;
      const playbook = this.playbooks.find((p) => p.key === planned.playbookKey)!;
      this.enrollments.push({
        id,
        playbookKey: planned.playbookKey,
        version: planned.version,
        status: 'active',
        triggerKind: playbook.trigger.kind,
        triggerAt: planned.triggerAt,
        triggerKey: planned.triggerKey,
        lastDueAt: lastDue(planned.touchpoints),
        exitOn: playbook.exitOn,
        touchpointIds: [],
      });
      this.touchpoints.push(...planned.touchpoints.map((tp) => ({ ...tp, enrollmentId: id })));
    }
    if (['activity', 'first_use', 'usage', 'purchase'].includes(e.type)) {
      if (!this.lastActivityAt || e.occurredAt > this.lastActivityAt) this.lastActivityAt = e.occurredAt;
    }
    if (e.type === 'usage' && typeof e.properties.metric === 'string') {
      const previous = this.usage[e.properties.metric];
      if (!previous || previous.at <= e.occurredAt) {
        this.usage[e.properties.metric] = {
          ratio: Number(e.properties.value) / Number(e.properties.limit),
          at: e.occurredAt,
        };
      }
    }
  }
}

function lastDue(touchpoints: readonly PlannedTouchpoint[]): Date | null {
  const times = touchpoints.map((tp) => tp.dueAt.getTime());
  return times.length ? new Date(Math.max(...times)) : null;
}
