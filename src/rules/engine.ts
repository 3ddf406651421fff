import { Duration } from 'luxon';
import { afterQuietHours, computeDueAt } from './calendar.js';
import { holds } from './conditions.js';
import { memoByText } from './memo.js';
import {
  ACTIVITY_EVENTS,
  type CustomerState,
  type EngineEvent,
  type Enrollment,
  type Plan,
  type PlannedEnrollment,
  type PlannedExit,
  type PlannedReschedule,
  type PlannedTouchpoint,
  type PlanSettings,
  type Playbook,
} from './types.js';
import { crossesThreshold, usageReading } from './usage.js';

const DAY_MS = 24 * 3600 * 1000;

// Re-entry waits (`{ after: "P90D" }`) in milliseconds, parsed once per text.
const reentryWaitMs = memoByText((after) => Duration.fromISO(after).as('milliseconds'));

/** The data conditions see: `{ customer, event }`, event fields in the API's snake_case. */
function conditionData(state: CustomerState, event: EngineEvent) {
  return {
    customer: state.customer,
    event: {
      id: event.id,
      type: event.type,
      occurred_at: event.occurredAt.toISOString(),
      properties: event.properties,
    },
  };
}

/** An enrollment still has work ahead: not ended, and its trigger or last touchpoint not yet past. */
export function isRunning(enrollment: Enrollment, now: Date): boolean {
  if (enrollment.status !== 'active') return false;
  const horizon = Math.max(enrollment.triggerAt.getTime(), enrollment.lastDueAt?.getTime() ?? 0);
  return horizon >= now.getTime();
}

/** Pending at `at`: its trigger (an idle period's end, a date) lies after that moment. */
function isPending(enrollment: Enrollment, at: Date): boolean {
  return enrollment.status === 'active' && enrollment.triggerAt.getTime() > at.getTime();
}

/** Whether the event ends the enrollment under its version's exit rules. */
function endsEnrollment(enrollment: Enrollment, event: EngineEvent, data: unknown): boolean {
  if (isPending(enrollment, event.occurredAt)) {
    // A backfilled event older than the trigger of an event-triggered enrollment is not about it.
    if (enrollment.triggerKind === 'event' || enrollment.triggerKind === 'usage') return false;
    // Activity moves a pending idle period (see the reschedule below) rather than ending it.
    if (
      enrollment.triggerKind === 'inactivity' &&
      (ACTIVITY_EVENTS.has(event.type) || event.type === 'inactivity')
    ) {
      return false;
    }
  }
  return enrollment.exitOn.some((rule) => rule.event === event.type && holds(rule.when, data));
}

/** Plans the steps of a playbook for a trigger time: `when` decided now, late ones skipped. */
export function planSteps(
  playbook: Playbook,
  triggerAt: Date,
  data: unknown,
  settings: PlanSettings,
): PlannedTouchpoint[] {
  const planned: PlannedTouchpoint[] = [];
  const lateBefore = settings.now.getTime() - settings.lateGraceMs;
  for (const step of playbook.steps) {
    if (!holds(step.when, data)) continue;
    let dueAt = computeDueAt(triggerAt, step, settings.calendar);
    if (step.channel === 'email') dueAt = afterQuietHours(dueAt, settings.calendar.zone, settings.quietHours);
    const late = dueAt.getTime() < lateBefore;
    planned.push({
      step: step.key,
      channel: step.channel,
      template: step.template,
      dueAt,
      status: late ? 'skipped' : 'scheduled',
      ...(late ? { skipReason: 'late' as const } : {}),
    });
  }
  return planned;
}

/**
 * Whether the re-entry policy lets the customer into the playbook again at `at`. One
 * enrollment per playbook runs at a time; the policy says what happens after it ended.
 */
function reentryAllows(
  playbook: Playbook,
  previous: readonly Enrollment[],
  endedNow: ReadonlySet<string>,
  at: Date,
  now: Date,
): boolean {
  if (previous.some((enrollment) => !endedNow.has(enrollment.id) && isRunning(enrollment, now))) return false;
  if (previous.length === 0) return true;
  const policy = playbook.reentry;
  if (policy.kind === 'always') return true;
  if (policy.kind === 'never') return false;
  const last = Math.max(...previous.map((enrollment) => enrollment.triggerAt.getTime()));
  return at.getTime() - last >= reentryWaitMs(policy.after);
}

interface Trigger {
  readonly at: Date;
  readonly key: string | null;
}

/** When (if at all) this event fires or schedules the playbook's trigger. */
function triggerFor(
  playbook: Playbook,
  state: CustomerState,
  event: EngineEvent,
  data: unknown,
): Trigger | undefined {
  const trigger = playbook.trigger;
  switch (trigger.kind) {
    case 'event':
      return event.type === trigger.event && holds(trigger.when, data)
        ? { at: event.occurredAt, key: null }
        : undefined;
    case 'inactivity':
      if (event.type === 'inactivity') return { at: event.occurredAt, key: null };
      if (!ACTIVITY_EVENTS.has(event.type)) return undefined;
      // An activity older than the latest one known does not move the idle period.
      if (state.lastActivityAt && event.occurredAt < state.lastActivityAt) return undefined;
      return { at: new Date(event.occurredAt.getTime() + trigger.days * DAY_MS), key: null };
    case 'usage': {
      const reading = usageReading(event);
      if (!reading || reading.metric !== trigger.metric) return undefined;
      return crossesThreshold(state.usage[trigger.metric], reading, trigger.atLeast)
        ? { at: event.occurredAt, key: null }
        : undefined;
    }
    case 'before': {
      const attributes = (state.customer.attributes ?? {}) as Record<string, unknown>;
      const raw = attributes[trigger.attribute];
      if (typeof raw !== 'string') return undefined;
      const date = new Date(raw);
      if (Number.isNaN(date.getTime())) return undefined;
      return { at: new Date(date.getTime() - trigger.days * DAY_MS), key: raw };
    }
  }
}

/**
 * The rules engine: given the customer's state, an event, the workspace's active playbook
 * versions and the time, returns what to store — enrollments to exit (their pending
 * touchpoints cancelled), pending triggers to move, and new enrollments with their
 * touchpoints. Pure: no I/O, no clock, the same answer for the same input.
 */
export function planEvent(
  state: CustomerState,
  event: EngineEvent,
  playbooks: readonly Playbook[],
  settings: PlanSettings,
): Plan {
  const data = conditionData(state, event);
  const exits: PlannedExit[] = [];
  const exited = new Set<string>();
  for (const enrollment of state.enrollments) {
    if (!isRunning(enrollment, settings.now)) continue;
    if (endsEnrollment(enrollment, event, data)) {
      exits.push({
        enrollmentId: enrollment.id,
        playbookKey: enrollment.playbookKey,
        reason: `event:${event.type}`,
      });
      exited.add(enrollment.id);
    }
  }

  const reschedules: PlannedReschedule[] = [];
  const enrollments: PlannedEnrollment[] = [];
  for (const playbook of playbooks) {
    if (!playbook.enabled) continue;
    const trigger = triggerFor(playbook, state, event, data);
    if (!trigger) continue;
    const own = state.enrollments.filter((e) => e.playbookKey === playbook.key);
    const pending = own.find((e) => !exited.has(e.id) && isPending(e, event.occurredAt));
    if (pending) {
      // A pending trigger moves (new activity, explicit inactivity, new date) instead of a second enrollment.
      if (pending.triggerAt.getTime() === trigger.at.getTime() && pending.triggerKey === trigger.key)
        continue;
      if (
        playbook.trigger.kind === 'inactivity' &&
        event.type !== 'inactivity' &&
        trigger.at < pending.triggerAt
      )
        continue;
      reschedules.push({
        enrollmentId: pending.id,
        playbookKey: playbook.key,
        triggerAt: trigger.at,
        triggerKey: trigger.key,
        touchpoints: planSteps(playbook, trigger.at, data, settings),
      });
      continue;
    }
    if (playbook.trigger.kind === 'before' && own.some((e) => e.triggerKey === trigger.key)) continue;
    if (!holds(playbook.audience, data)) continue;
    if (!reentryAllows(playbook, own, exited, trigger.at, settings.now)) continue;
    enrollments.push({
      playbookKey: playbook.key,
      version: playbook.version,
      triggerAt: trigger.at,
      triggerKey: trigger.key,
      touchpoints: planSteps(playbook, trigger.at, data, settings),
    });
  }
  return { exits, reschedules, enrollments };
}
