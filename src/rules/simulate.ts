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
  readonly id: string;
  readonly playbookKey: string;
  readonly version: number;
  readonly enrollmentId: string;
  status: PlannedTouchpoint['status'] | 'cancelled';
  /** Why it was cancelled, once it is. */
  cancelReason?: string;
}

export interface SimulatedExit {
  readonly enrollmentId: string;
  readonly playbookKey: string;
  readonly reason: string;
  readonly at: Date;
}

/** Where a simulation starts: what is already stored about the customer. */
export interface SimulationStart {
  readonly enrollments?: readonly Enrollment[];
  readonly lastActivityAt?: Date | null;
  readonly usage?: Readonly<Record<string, { readonly ratio: number; readonly at: Date }>>;
  /** Ids for new enrollments and touchpoints; a counter by default. */
  readonly newId?: () => string;
}

/** What one event changed, for the answer to its ingest. */
export interface EventEffect {
  readonly touchpoints: readonly SimulatedTouchpoint[];
  readonly exits: readonly SimulatedExit[];
}

/**
 * Plays a customer's events through the engine in memory, applying each plan as the event
 * transaction does (exits cancel pending touchpoints, moved triggers re-plan theirs). The
 * preview runs it on nothing; ingest runs it from the stored state and writes the outcome.
 * Only touchpoints it created are in `touchpoints`; stored ones are the caller's to cancel.
 */
export class Simulation {
  readonly enrollments: Enrollment[];
  readonly touchpoints: SimulatedTouchpoint[] = [];
  readonly exits: SimulatedExit[] = [];
  /** Stored enrollments whose trigger moved, with their stored touchpoints to cancel. */
  readonly moved = new Set<string>();
  private lastActivityAt: Date | null;
  private readonly usage: Record<string, { ratio: number; at: Date }>;
  private readonly newId: () => string;

  constructor(
    readonly playbooks: readonly Playbook[],
    readonly customer: Readonly<Record<string, unknown>>,
    start: SimulationStart = {},
  ) {
    this.enrollments = [...(start.enrollments ?? [])];
    this.lastActivityAt = start.lastActivityAt ?? null;
    this.usage = { ...start.usage };
    let sequence = 0;
    this.newId = start.newId ?? (() => `simulated-${++sequence}`);
  }

  /** The customer's state as the engine sees it now. */
  state(): CustomerState {
    return {
      customer: this.customer,
      enrollments: this.enrollments,
      lastActivityAt: this.lastActivityAt,
      usage: this.usage,
    };
  }

  /** Applies one event as if it arrived at `settings.now`; returns what it changed. */
  apply(event: EngineEvent, settings: PlanSettings): EventEffect {
    const plan: Plan = planEvent(this.state(), event, this.playbooks, settings);
    const firstTouchpoint = this.touchpoints.length;
    const firstExit = this.exits.length;
    for (const exit of plan.exits) {
      this.replace(exit.enrollmentId, { status: 'exited' });
      this.cancelPending(exit.enrollmentId, `exited:${exit.reason}`, event.occurredAt);
      this.exits.push({
        enrollmentId: exit.enrollmentId,
        playbookKey: exit.playbookKey,
        reason: exit.reason,
        at: event.occurredAt,
      });
    }
    for (const move of plan.reschedules) {
      this.cancelPending(move.enrollmentId, 'rescheduled');
      this.moved.add(move.enrollmentId);
      const version = this.enrollments.find((e) => e.id === move.enrollmentId)?.version ?? 0;
      this.add(move.enrollmentId, move.playbookKey, version, move.touchpoints);
      this.replace(move.enrollmentId, {
        triggerAt: move.triggerAt,
        triggerKey: move.triggerKey,
        lastDueAt: lastDue(move.touchpoints),
      });
    }
    for (const planned of plan.enrollments) {
      const playbook = this.playbooks.find((p) => p.key === planned.playbookKey);
      if (!playbook) continue;
      const id = this.newId();
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
      this.add(id, planned.playbookKey, planned.version, planned.touchpoints);
    }
    this.remember(event);
    return { touchpoints: this.touchpoints.slice(firstTouchpoint), exits: this.exits.slice(firstExit) };
  }

  private add(
    enrollmentId: string,
    playbookKey: string,
    version: number,
    touchpoints: readonly PlannedTouchpoint[],
  ): void {
    for (const tp of touchpoints)
      this.touchpoints.push({ ...tp, id: this.newId(), playbookKey, version, enrollmentId });
  }

  private replace(id: string, changes: Partial<Enrollment>): void {
    const index = this.enrollments.findIndex((e) => e.id === id);
    if (index >= 0) this.enrollments[index] = { ...this.enrollments[index]!, ...changes };
  }

  /** Cancels the enrollment's scheduled touchpoints — only those due after `from`, when given: earlier ones had gone out. */
  private cancelPending(enrollmentId: string, reason: string, from?: Date): void {
    for (const tp of this.touchpoints) {
      if (from && tp.dueAt <= from) continue;
      if (tp.enrollmentId === enrollmentId && tp.status === 'scheduled') {
        tp.status = 'cancelled';
        tp.cancelReason = reason;
      }
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
