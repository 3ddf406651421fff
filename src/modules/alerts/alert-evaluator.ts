import { DateTime, Duration } from 'luxon';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import { uuidv7 } from '../../ids.js';
import type { PeriodicTask } from '../../queue/periodic.js';
import { kpiValue } from '../metrics/metrics.service.js';
import { emitEvent } from '../outbox/outbox.js';
import type { KpiKey } from '../workspaces/settings.js';
import { type AlertRuleRow, lockRuleIfDue, recordEvaluation, rulesDue } from './alerts.repository.js';
import { holds } from './alerts.service.js';
import { setVariantOverride } from './variant-overrides.js';

/** How often the evaluator runs; a rule is evaluated at most once per round. */
export const EVALUATION_INTERVAL_MS = 60_000;
/** Slack under the interval, so a round that starts a little early still finds its rules due. */
const DUE_SLACK_MS = 5_000;
/** Rules evaluated per round at most; the least recently evaluated go first. */
const RULES_PER_ROUND = 500;

export interface AlertEvaluatorDeps {
  readonly db: Database;
  readonly clock: Clock;
  readonly log: Logger;
}

export type Evaluation = 'triggered' | 'holding' | 'cooldown' | 'clear' | 'skipped';

/**
 * Evaluates one rule in one transaction: computes its KPI over the trailing window, and when the
 * rule starts holding (it did not at the last evaluation) outside its cooldown, emits
 * `alert.triggered` and applies its action, in the same transaction that records the new state.
 * A rule that keeps holding does not fire again; it must stop holding first.
 */
export async function evaluateRule(
  deps: AlertEvaluatorDeps,
  ref: { readonly workspaceId: string; readonly id: string },
): Promise<Evaluation> {
  const now = deps.clock.now();
  const dueBefore = new Date(now.getTime() - EVALUATION_INTERVAL_MS + DUE_SLACK_MS);
  return deps.db.transaction().execute(async (trx) => {
    const rule = await lockRuleIfDue(trx, ref.workspaceId, ref.id, dueBefore);
    if (!rule) return 'skipped';
    const window = {
      from: DateTime.fromJSDate(now, { zone: 'utc' }).minus(Duration.fromISO(rule.window)).toJSDate(),
      to: now,
    };
    const value = await kpiValue(
      { db: trx, clock: deps.clock },
      rule.workspaceId,
      rule.kpi as KpiKey,
      window,
      rule.segment ?? undefined,
    );
    const holding = value !== null && holds(rule.comparison, value, rule.threshold);
    const starts = holding && !rule.holding;
    const cooling = starts && rule.lastTriggeredAt !== null && now < cooldownEnd(rule);
    const triggered = starts && !cooling;
    if (triggered) {
      const action = rule.action?.switch_variant;
      if (action) {
        await setVariantOverride(trx, {
          workspaceId: rule.workspaceId,
          playbookKey: action.playbook,
          stepKey: action.step,
          variant: action.variant,
          ruleId: rule.id,
          at: now,
        });
      }
      await emitEvent(trx, {
        workspaceId: rule.workspaceId,
        type: 'alert.triggered',
        at: now,
        id: uuidv7(now),
        data: alertData(rule, value, window),
      });
    }
    await recordEvaluation(trx, rule, { holding, value, at: now, triggered });
    return triggered ? 'triggered' : cooling ? 'cooldown' : holding ? 'holding' : 'clear';
  });
}

function cooldownEnd(rule: AlertRuleRow): Date {
  const last = DateTime.fromJSDate(rule.lastTriggeredAt ?? new Date(0), { zone: 'utc' });
  return last.plus(Duration.fromISO(rule.cooldown)).toJSDate();
}

/** The `data` of `alert.triggered`: the rule, the value that made it hold, the window, the action applied. */
function alertData(rule: AlertRuleRow, value: number | null, window: { from: Date; to: Date }) {
  return {
    rule: {
      id: rule.id,
      kpi: rule.kpi,
      window: rule.window,
      segment: rule.segment,
      comparison: rule.comparison,
      threshold: rule.threshold,
      cooldown: rule.cooldown,
    },
    value,
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    action: rule.action,
  };
}

/** One round: every due rule of every workspace; one rule's failure is logged and the others go on. */
export async function evaluateDueRules(deps: AlertEvaluatorDeps): Promise<number> {
  const now = deps.clock.now();
  const due = await rulesDue(
    deps.db,
    new Date(now.getTime() - EVALUATION_INTERVAL_MS + DUE_SLACK_MS),
    RULES_PER_ROUND,
  );
  let triggered = 0;
  for (const ref of due) {
    try {
      if ((await evaluateRule(deps, ref)) === 'triggered') triggered++;
    } catch (err) {
      deps.log.error({ err, rule: ref.id, workspace: ref.workspaceId }, 'alert rule evaluation failed');
    }
  }
  return triggered;
}

/** The `alert-evaluator` periodic task of the worker. */
export function alertEvaluatorTask(deps: AlertEvaluatorDeps): PeriodicTask {
  return {
    name: 'alert-evaluator',
    intervalMs: EVALUATION_INTERVAL_MS,
    run: async () => {
      await evaluateDueRules(deps);
    },
  };
}
