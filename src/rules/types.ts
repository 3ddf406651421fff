import type { LocalCalendar, QuietHours } from './calendar.js';

/** A JSON Logic expression (https://jsonlogic.com) over `{ customer, event }`. */
export type Condition = Readonly<Record<string, unknown>> | boolean;

export type Channel = 'email' | 'webhook' | 'task';

export interface Step {
  readonly key: string;
  /** ISO-8601 offset from the trigger, e.g. "P3D". */
  readonly after: string;
  readonly channel: Channel;
  readonly template: string;
  /** Local time of day, "HH:MM". */
  readonly at?: string;
  readonly businessDays?: boolean;
  /** Decided when planning: a false step is not planned. */
  readonly when?: Condition;
  /** Decided when due, by the dispatcher. */
  readonly sendIf?: Condition;
  readonly task?: { readonly kind: string };
  readonly endpoint?: string;
}

export type Trigger =
  | { readonly kind: 'event'; readonly event: string; readonly when?: Condition }
  | { readonly kind: 'inactivity'; readonly days: number }
  | { readonly kind: 'usage'; readonly metric: string; readonly atLeast: number }
  | { readonly kind: 'before'; readonly attribute: string; readonly days: number };

export type Reentry =
  | { readonly kind: 'never' }
  | { readonly kind: 'always' }
  | { readonly kind: 'after'; readonly after: string };

export interface ExitRule {
  readonly event: string;
  readonly when?: Condition;
}

/** One version of a playbook, as the engine needs it. */
export interface Playbook {
  readonly key: string;
  readonly version: number;
  readonly enabled: boolean;
  readonly trigger: Trigger;
  readonly audience?: Condition;
  readonly reentry: Reentry;
  readonly exitOn: readonly ExitRule[];
  readonly steps: readonly Step[];
}

/** A customer's enrollment in one playbook version, as stored. */
export interface Enrollment {
  readonly id: string;
  readonly playbookKey: string;
  readonly version: number;
  readonly status: 'active' | 'completed' | 'exited';
  readonly triggerKind: Trigger['kind'];
  /** When the trigger fired or, for a pending one (inactivity, date), will fire. */
  readonly triggerAt: Date;
  /** The due time of its last touchpoint: after that it has nothing left to do. */
  readonly lastDueAt: Date | null;
  /** For date triggers: the date value it was planned for. */
  readonly triggerKey: string | null;
  /** The exit rules of its own version: running enrollments keep their version. */
  readonly exitOn: readonly ExitRule[];
}

/** The event being applied. */
export interface EngineEvent {
  readonly id: string;
  readonly type: string;
  readonly occurredAt: Date;
  readonly properties: Readonly<Record<string, unknown>>;
}

/** What the engine knows of the customer before the event. */
export interface CustomerState {
  /** The customer as conditions see it (profile, attributes, derived facts), after the event's upsert. */
  readonly customer: Readonly<Record<string, unknown>>;
  readonly enrollments: readonly Enrollment[];
  /** The latest activity-class event before this one, if any. */
  readonly lastActivityAt: Date | null;
  /** The latest usage ratio per metric before this event. */
  readonly usage: Readonly<Record<string, { readonly ratio: number; readonly at: Date }>>;
}

export interface PlanSettings {
  readonly now: Date;
  readonly calendar: LocalCalendar;
  /** Overdue by more than this when planned → skipped (late). */
  readonly lateGraceMs: number;
  readonly quietHours: QuietHours | null;
}

export type TouchpointPlanStatus = 'scheduled' | 'skipped';

export interface PlannedTouchpoint {
  readonly step: string;
  readonly channel: Channel;
  readonly template: string;
  readonly dueAt: Date;
  readonly status: TouchpointPlanStatus;
  readonly skipReason?: 'late';
}

export interface PlannedEnrollment {
  readonly playbookKey: string;
  readonly version: number;
  readonly triggerAt: Date;
  readonly triggerKey: string | null;
  readonly touchpoints: readonly PlannedTouchpoint[];
}

/** A pending enrollment (inactivity, date) whose trigger moved: its touchpoints are planned anew. */
export interface PlannedReschedule {
  readonly enrollmentId: string;
  readonly playbookKey: string;
  readonly triggerAt: Date;
  readonly triggerKey: string | null;
  readonly touchpoints: readonly PlannedTouchpoint[];
}

export interface PlannedExit {
  readonly enrollmentId: string;
  readonly playbookKey: string;
  readonly reason: string;
}

/** The engine's answer: what to store in the event's transaction. */
export interface Plan {
  readonly exits: readonly PlannedExit[];
  readonly reschedules: readonly PlannedReschedule[];
  readonly enrollments: readonly PlannedEnrollment[];
}

/** Event types that count as the customer being active: the same set as the customer's last_activity_at. */
export const ACTIVITY_EVENTS: ReadonlySet<string> = new Set([
  'activity',
  'first_use',
  'usage',
  'purchase',
  'delivery',
]);
