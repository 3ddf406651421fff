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

/**
 * The seam where the rules engine plugs into ingest. It is called once per ingest
 * transaction, inside it, after the events are stored and their customers upserted, with
 * every accepted event (a batch is planned set-wise), and must both decide and write the
 * plan through `trx` (touchpoint rows, exits): the ingest commits it with the events, so a
 * 2xx means event and plan are committed. It returns one plan per accepted event, in order.
 */
export type EventPlanner = (
  trx: Transaction<DB>,
  input: { readonly workspaceId: string; readonly accepted: readonly AcceptedEvent[]; readonly now: Date },
) => Promise<readonly EventPlan[]>;

export const EMPTY_PLAN: EventPlan = Object.freeze({ touchpoints: [], exited: [] });

/**
 * The planner until the rules engine exists (a later issue): there are no playbooks yet,
 * so nothing is planned. Not a fake: with no playbooks this is the right answer.
 */
export const planNothing: EventPlanner = async (_trx, { accepted }) => accepted.map(() => EMPTY_PLAN);
