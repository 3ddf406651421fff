// Pure: the outgoing events an ingest raises about its customers — a lifecycle stage change
// and an upsell opportunity — decided in the ingest transaction from the customer after the
// upsert, so they are written to the outbox exactly when the events that caused them commit.
import type { Playbook } from '../../rules/types.js';
import { crossesThreshold, type UsageLevel, usageReading } from '../../rules/usage.js';
import type { AcceptedEvent } from '../events/planner.js';
import { type CustomerState, type LifecycleStage, lifecycleStage } from './customer-state.js';

/** The latest usage reading per metric, as stored before this ingest. */
export type UsageLevels = Readonly<Record<string, UsageLevel>>;

/** The usage share at which `upsell.opportunity` is raised for a metric no usage playbook names. */
export const DEFAULT_UPSELL_THRESHOLD = 0.8;

/** An outgoing event about a customer, for the outbox. */
export interface CustomerSignal {
  readonly type: 'customer.stage_changed' | 'upsell.opportunity';
  readonly data: Readonly<Record<string, unknown>>;
}

/** The lowest threshold of the enabled usage playbooks, per metric. */
export function usageThresholds(playbooks: readonly Playbook[]): Map<string, number> {
  const thresholds = new Map<string, number>();
  for (const playbook of playbooks) {
    if (!playbook.enabled || playbook.trigger.kind !== 'usage') continue;
    const { metric, atLeast } = playbook.trigger;
    thresholds.set(metric, Math.min(atLeast, thresholds.get(metric) ?? Number.POSITIVE_INFINITY));
  }
  return thresholds;
}

/** The customer as outgoing events show it (API.md). */
export function signalCustomer(state: CustomerState): Record<string, unknown> {
  return {
    id: state.externalId,
    name: state.name,
    email: state.email,
    phone: state.phone,
    segment: state.segment,
  };
}

/**
 * What one ingest transaction announces about a customer:
 * - `customer.stage_changed` `{ customer, from, to, at }` when the stage at `now` after the
 *   upsert differs from the stage last announced (`from`); a new customer's first stage is
 *   recorded without an event (there is no change to tell). So each change is told once, as
 *   one event per transaction even when a batch carries several events of the customer, and
 *   consecutive events chain (`from` is the previous `to`). Stages that change only because
 *   time passes are told with the next event of the customer;
 * - `upsell.opportunity` `{ customer, reason: 'usage_threshold', usage: { metric, value,
 *   limit, percent } }` for each usage reading that crosses its metric's threshold upwards —
 *   the lowest `at_least` of the enabled usage playbooks on that metric, else 80 % — after a
 *   reading below it or none (the usage trigger's rule: a late, superseded reading crosses
 *   nothing, and readings that stay above it raise nothing more).
 * `stage` is the stage to record as announced, when it changed.
 */
export function customerSignals(
  state: CustomerState,
  now: Date,
  usage: UsageLevels | undefined,
  thresholds: ReadonlyMap<string, number>,
  events: readonly { readonly a: AcceptedEvent }[],
): { readonly stage: LifecycleStage | undefined; readonly events: readonly CustomerSignal[] } {
  const signals: CustomerSignal[] = [];
  const customer = signalCustomer(state);
  const stage = lifecycleStage(state, now);
  const changed = stage !== state.announcedStage;
  if (changed && state.announcedStage !== null) {
    signals.push({
      type: 'customer.stage_changed',
      data: { customer, from: state.announcedStage, to: stage, at: now.toISOString() },
    });
  }
  // Readings in time order (the caller's), each judged against the latest one before it.
  const levels: Record<string, UsageLevel> = { ...usage };
  for (const { a } of events) {
    const reading = usageReading({
      id: a.id,
      type: a.event.type,
      occurredAt: a.event.occurredAt,
      properties: a.event.properties,
    });
    if (!reading) continue;
    const previous = levels[reading.metric];
    const threshold = thresholds.get(reading.metric) ?? DEFAULT_UPSELL_THRESHOLD;
    if (crossesThreshold(previous, reading, threshold)) {
      signals.push({
        type: 'upsell.opportunity',
        data: {
          customer,
          reason: 'usage_threshold',
          usage: {
            metric: reading.metric,
            value: reading.value,
            limit: reading.limit,
            percent: Math.round(reading.ratio * 1000) / 10,
          },
        },
      });
    }
    if (!previous || previous.at <= reading.at)
      levels[reading.metric] = { ratio: reading.ratio, at: reading.at };
  }
  return { stage: changed ? stage : undefined, events: signals };
}
