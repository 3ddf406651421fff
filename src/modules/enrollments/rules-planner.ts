import type { Transaction } from 'kysely';
import { Duration } from 'luxon';
import type { DB } from '../../db/types.js';
import { uuidv7 } from '../../ids.js';
import { nationalHolidays } from '../../rules/holidays.js';
import { Simulation } from '../../rules/simulate.js';
import type { PlanSettings, Playbook } from '../../rules/types.js';
import { conditionCustomer } from '../customers/customer-conditions.js';
import type { AcceptedEvent, EventPlan, EventPlanner } from '../events/planner.js';
import { toEnginePlaybook } from '../playbooks/playbook-document.js';
import { enabledPlaybooks } from '../playbooks/playbooks.repository.js';
import type { WorkspaceSettings } from '../workspaces/settings.js';
import { getSettings } from '../workspaces/workspaces.service.js';
import {
  enrollmentsOf,
  exitEnrollment,
  insertEnrollments,
  insertTouchpoints,
  latestUsage,
  moveEnrollment,
  type NewEnrollment,
  type NewTouchpoint,
} from './enrollments.repository.js';

const COUNTRY = /^[A-Z]{2}$/;

function planSettings(settings: WorkspaceSettings, event: AcceptedEvent, now: Date): PlanSettings {
  const attributes = event.customer.attributes as Record<string, unknown>;
  const country =
    typeof attributes.country === 'string' && COUNTRY.test(attributes.country)
      ? attributes.country
      : settings.country;
  return {
    now,
    calendar: { zone: event.customer.timezone ?? settings.timezone, country, holidays: nationalHolidays },
    lateGraceMs: Duration.fromISO(settings.late_grace).as('milliseconds'),
    quietHours: settings.quiet_hours,
  };
}

/**
 * The rules engine inside the ingest transaction: loads what it needs about the customers
 * of the accepted events (enrollments, usage), plays each customer's events through the
 * engine in time order, and writes the outcome — exits, moved triggers, new enrollments and
 * touchpoints — through the same transaction, so a 2xx means the plan is committed too.
 */
export const rulesPlanner: EventPlanner = {
  mayPlan: true,
  async plan(trx: Transaction<DB>, { workspaceId, accepted, now }): Promise<readonly EventPlan[]> {
    const rows = await enabledPlaybooks(trx, workspaceId);
    if (rows.length === 0) return accepted.map(() => ({ touchpoints: [], exited: [] }));
    const playbooks: Playbook[] = rows.map((row) => toEnginePlaybook(row.key, row.version, row.document));
    const byKey = new Map(rows.map((row) => [row.key, row]));
    const settings = await getSettings({ db: trx, clock: { now: () => now } }, workspaceId);
    const customerIds = [...new Set(accepted.map((a) => a.customer.id))];
    const stored = await enrollmentsOf(trx, workspaceId, customerIds);
    const needsUsage =
      playbooks.some((p) => p.trigger.kind === 'usage') && accepted.some((a) => a.event.type === 'usage');
    const usage = needsUsage
      ? await latestUsage(
          trx,
          workspaceId,
          customerIds,
          accepted.map((a) => a.id),
        )
      : new Map<string, Record<string, { ratio: number; at: Date }>>();

    const plans: EventPlan[] = new Array(accepted.length);
    const enrollments: NewEnrollment[] = [];
    const touchpoints: NewTouchpoint[] = [];
    const stepOf = (key: string, step: string) =>
      playbooks.find((p) => p.key === key)?.steps.find((s) => s.key === step);

    for (const customerId of customerIds) {
      const mine = accepted.map((a, index) => ({ a, index })).filter(({ a }) => a.customer.id === customerId);
      mine.sort((x, y) => x.a.event.occurredAt.getTime() - y.a.event.occurredAt.getTime());
      const state = mine.at(-1)!.a.customer;
      const existing = stored.filter((e) => e.customerId === customerId);
      const existingIds = new Set(existing.map((e) => e.id));
      const simulation = new Simulation(playbooks, conditionCustomer(state, now), {
        enrollments: existing,
        lastActivityAt: state.lastActivityAt,
        usage: usage.get(customerId) ?? {},
        newId: () => uuidv7(now),
      });
      const triggerEvent = new Map<string, string>();
      for (const { a, index } of mine) {
        const before = new Set(simulation.enrollments.map((e) => e.id));
        const effect = simulation.apply(
          { id: a.id, type: a.event.type, occurredAt: a.event.occurredAt, properties: a.event.properties },
          planSettings(settings, a, now),
        );
        for (const e of simulation.enrollments) if (!before.has(e.id)) triggerEvent.set(e.id, a.id);
        plans[index] = {
          touchpoints: effect.touchpoints.map((tp) => ({
            id: tp.id,
            playbook: tp.playbookKey,
            step: tp.step,
            channel: tp.channel,
            dueAt: tp.dueAt,
            status: tp.status,
          })),
          exited: effect.exits.map((exit) => ({ playbook: exit.playbookKey, reason: exit.reason })),
        };
      }

      // Stored enrollments: exits and moved triggers are updates; new ones are inserted below.
      for (const exit of simulation.exits) {
        if (existingIds.has(exit.enrollmentId))
          await exitEnrollment(trx, workspaceId, exit.enrollmentId, exit.reason, now);
      }
      for (const id of simulation.moved) {
        const enrollment = simulation.enrollments.find((e) => e.id === id)!;
        if (!existingIds.has(id) || enrollment.status !== 'active') continue;
        const playbook = byKey.get(enrollment.playbookKey)!;
        await moveEnrollment(
          trx,
          workspaceId,
          {
            id,
            playbookId: playbook.id,
            playbookVersion: playbook.version,
            triggerAt: enrollment.triggerAt,
            triggerKey: enrollment.triggerKey,
            lastDueAt: enrollment.lastDueAt,
          },
          now,
        );
      }
      for (const enrollment of simulation.enrollments) {
        if (existingIds.has(enrollment.id)) continue;
        const playbook = byKey.get(enrollment.playbookKey)!;
        const exit = simulation.exits.find((x) => x.enrollmentId === enrollment.id);
        // Nothing left to send (every step skipped or filtered out): complete from the start.
        const status = exit ? 'exited' : enrollment.lastDueAt === null ? 'completed' : 'active';
        enrollments.push({
          id: enrollment.id,
          customerId,
          playbookId: playbook.id,
          playbookKey: enrollment.playbookKey,
          playbookVersion: enrollment.version,
          triggerKind: enrollment.triggerKind,
          triggerEventId: triggerEvent.get(enrollment.id) ?? null,
          triggerAt: enrollment.triggerAt,
          triggerKey: enrollment.triggerKey,
          status,
          lastDueAt: enrollment.lastDueAt,
          exitReason: exit?.reason ?? null,
          endedAt: status === 'active' ? null : now,
        });
      }
      for (const tp of simulation.touchpoints) {
        const step = stepOf(tp.playbookKey, tp.step);
        touchpoints.push({
          id: tp.id,
          customerId,
          enrollmentId: tp.enrollmentId,
          playbookKey: tp.playbookKey,
          playbookVersion: byKey.get(tp.playbookKey)?.version ?? tp.version,
          stepKey: tp.step,
          channel: tp.channel,
          templateKey: tp.template,
          taskKind: step?.task?.kind ?? null,
          endpointId: step?.endpoint ?? null,
          dueAt: tp.dueAt,
          status: tp.status,
          statusReason: tp.status === 'skipped' ? (tp.skipReason ?? null) : (tp.cancelReason ?? null),
        });
      }
    }
    // Enrollments first: touchpoints reference them.
    await insertEnrollments(trx, workspaceId, enrollments, now);
    await insertTouchpoints(trx, workspaceId, touchpoints, now);
    return plans;
  },
};
