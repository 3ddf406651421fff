import { planEvent } from './engine.js';
import {
  ACTIVITY_EVENTS,
  type CustomerState,
  type EngineEvent,
  type Enrollment,
  type Plan,
  type PlannedTouchpoint,
  type PlanSettings,
  type Playbook,
} from './types.js';

export interface SimulatedTouchpoint extends Omit<PlannedTouchpoint, 'status'> {
  readonly playbookKey: string;
  readonly enrollmentId: string;
  status: PlannedTouchpoint['status'] | 'cancelled';
}

export interface SimulatedExit {
  readonly playbookKey: string;
  readonly reason: string;
  readonly at: Date;
}

/**
 * Plays events through the engine in memory, applying each plan as the event transaction
 * would (exits cancel pending touchpoints, moved triggers re-plan theirs). Pure: used by
 * the playbook preview, where nothing may be stored.
 */
export class Simulation {
  readonly enrollments: Enrollment[] = [];
  readonly touchpoints: SimulatedTouchpoint[] = [];
  readonly exits: SimulatedExit[] = [];
  private lastActivityAt: Date | null = null;
  private readonly usage: Record<string, { ratio: number; at: Date }> = {};
  private sequence = 0;

  constructor(
    readonly playbooks: readonly Playbook[],
    readonly customer: Readonly<Record<string, unknown>>,
  ) {}

  /** The customer's state as the engine sees it now. */
  state(): CustomerState {
    return {
      customer: this.customer,
      enrollments: this.enrollments,
      lastActivityAt: this.lastActivityAt,
      usage: this.usage,
    };
  }

  /** Applies one event as if it arrived at `settings.now`. */
  apply(event: EngineEvent, settings: PlanSettings): Plan {
    const plan = planEvent(this.state(), event, this.playbooks, settings);
    for (const exit of plan.exits) {
      this.replace(exit.enrollmentId, { status: 'exited' });
      this.cancelPending(exit.enrollmentId);
      this.exits.push({ playbookKey: exit.playbookKey, reason: exit.reason, at: event.occurredAt });
    }
    for (const move of plan.reschedules) {
      this.cancelPending(move.enrollmentId);
      this.add(move.enrollmentId, move.playbookKey, move.touchpoints);
      this.replace(move.enrollmentId, {
        triggerAt: move.triggerAt,
        triggerKey: move.triggerKey,
        lastDueAt: lastDue(move.touchpoints),
      });
    }
    for (const planned of plan.enrollments) {
      const playbook = this.playbooks.find((p) => p.key === planned.playbookKey);
      if (!playbook) continue;
      const id = `simulated-${++this.sequence}`;
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
      });
      this.add(id, planned.playbookKey, planned.touchpoints);
    }
    this.remember(event);
    return plan;
  }

  private add(enrollmentId: string, playbookKey: string, touchpoints: readonly PlannedTouchpoint[]): void {
    for (const tp of touchpoints) this.touchpoints.push({ ...tp, playbookKey, enrollmentId });
  }

  private replace(id: string, changes: Partial<Enrollment>): void {
    const index = this.enrollments.findIndex((e) => e.id === id);
    if (index >= 0) this.enrollments[index] = { ...this.enrollments[index]!, ...changes };
  }

  private cancelPending(enrollmentId: string): void {
    for (const tp of this.touchpoints) {
      if (tp.enrollmentId === enrollmentId && tp.status === 'scheduled') tp.status = 'cancelled';
    }
  }

  private remember(event: EngineEvent): void {
    if (ACTIVITY_EVENTS.has(event.type) && (!this.lastActivityAt || event.occurredAt > this.lastActivityAt)) {
      this.lastActivityAt = event.occurredAt;
    }
    const metric = event.properties.metric;
    if (event.type === 'usage' && typeof metric === 'string') {
      const limit = Number(event.properties.limit);
      const previous = this.usage[metric];
      if (limit > 0 && (!previous || previous.at <= event.occurredAt)) {
        this.usage[metric] = { ratio: Number(event.properties.value) / limit, at: event.occurredAt };
      }
    }
  }
}

/** The last due time of the scheduled touchpoints, or null when none is scheduled. */
export function lastDue(touchpoints: readonly PlannedTouchpoint[]): Date | null {
  const times = touchpoints.filter((tp) => tp.status === 'scheduled').map((tp) => tp.dueAt.getTime());
  return times.length > 0 ? new Date(Math.max(...times)) : null;
}
