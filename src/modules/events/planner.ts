import type { Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import type { CustomerState } from '../customers/customer-state.js';
import type { ValidEvent } from './event-validation.js';

/** A touchpoint planned for an event, as the ingest answer lists it. */
export interface PlannedTouchpoint {
  readonly id: string;
  readonly playbook: string;
  readonly step: string;
  readonly channel: string;
  readonly dueAt: Date;
  readonly status: string;
}

/** An enrollment an event ended (an exit criterion met). */
export interface PlanExit {
  readonly playbook: string;
  readonly reason: string;
}

/** What planning decided for one event. */
export interface EventPlan {
  readonly touchpoints: readonly PlannedTouchpoint[];
  readonly exited: readonly PlanExit[];
}

/** An event the ingest transaction has just stored (not a duplicate), with its customer after the upsert. */
export interface AcceptedEvent {
  readonly id: string;
  readonly event: ValidEvent;
  readonly customer: CustomerState;
}

/** An enrollment of one of the ingested customers, as stored when planning began. */
export interface StoredEnrollmentRow {
  readonly id: string;
  readonly customerId: string;
  readonly playbookId: string;
  readonly playbookKey: string;
  readonly playbookVersion: number;
  readonly status: string;
  readonly triggerKind: string;
  readonly triggerAt: Date;
  readonly triggerKey: string | null;
  readonly lastDueAt: Date | null;
}

/**
 * What the ingest statement read for planning once it held the customers' row locks, so that
 * planning needs no round trip of its own before it writes (see `ingest_events()`).
 */
export interface PlanningSnapshot {
  /** The workspace's locale columns and its settings overrides. */
  readonly workspace: {
    readonly timezone: string;
    readonly country: string;
    readonly currency: string;
    readonly locale: string;
    readonly settings: Readonly<Record<string, unknown>>;
  };
  /** Changes whenever a live playbook is created, saved, switched on or off, or deleted. */
  readonly playbooksStamp: string;
  /** Every enrollment of the accepted events' customers (history counts for re-entry), by trigger time. */
  readonly enrollments: readonly StoredEnrollmentRow[];
}

/**
 * The seam where the rules engine plugs into ingest. `plan` is called once per ingest
 * transaction, inside it, after the events are stored and their customers upserted, with
 * every accepted event (a batch is planned set-wise); it must both decide and write the
 * plan through `trx` (touchpoint rows, exits), so that the plan commits with the events and
 * a 2xx means both are committed. It returns one plan per accepted event, in order.
 */
export interface EventPlanner {
  /**
   * False for a planner that never plans anything: ingest then needs no explicit
   * transaction, its single statement being atomic by itself.
   */
  readonly mayPlan: boolean;
  plan(
    trx: Transaction<DB>,
    input: {
      readonly workspaceId: string;
      readonly accepted: readonly AcceptedEvent[];
      readonly now: Date;
      readonly snapshot: PlanningSnapshot;
    },
  ): Promise<readonly EventPlan[]>;
}

export const EMPTY_PLAN: EventPlan = Object.freeze({ touchpoints: [], exited: [] });

/**
 * The planner until the rules engine exists (a later issue): there are no playbooks yet,
 * so nothing is planned. Not a fake: with no playbooks this is the right answer.
 */
export const planNothing: EventPlanner = {
  mayPlan: false,
  plan: async (_trx, { accepted }) => accepted.map(() => EMPTY_PLAN),
};
