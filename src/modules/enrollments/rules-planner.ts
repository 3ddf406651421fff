import type { Transaction } from 'kysely';
import { Duration } from 'luxon';
import type { DB } from '../../db/types.js';
import { uuidv7 } from '../../ids.js';
import { nationalHolidays } from '../../rules/holidays.js';
import { Simulation } from '../../rules/simulate.js';
import type { Enrollment, ExitRule, PlanSettings, Playbook } from '../../rules/types.js';
import { conditionCustomer } from '../customers/customer-conditions.js';
import { customerSignals, type UsageLevels, usageThresholds } from '../customers/customer-signals.js';
import type { CustomerState } from '../customers/customer-state.js';
import type { AcceptedEvent, EventPlan, EventPlanner, StoredEnrollmentRow } from '../events/planner.js';
import { toEnginePlaybook } from '../playbooks/playbook-document.js';
import { enabledPlaybooks, type PlaybookRow } from '../playbooks/playbooks.repository.js';
import { effectiveSettings, type SettingsOverrides } from '../workspaces/settings.js';
import {
  applyPlan,
  latestUsage,
  type NewEnrollment,
  type NewTouchpoint,
  type PlanWrites,
  versionExitRules,
} from './enrollments.repository.js';

const COUNTRY = /^[A-Z]{2}$/;

/** A workspace's enabled playbooks at their current versions, as of a stamp. */
interface ActivePlaybooks {
  readonly stamp: string;
  readonly playbooks: readonly Playbook[];
  readonly rows: ReadonlyMap<string, PlaybookRow>;
  /** Steps by `playbookKey:stepKey`, for the touchpoint columns the engine does not carry. */
  readonly steps: ReadonlyMap<string, Playbook['steps'][number]>;
  readonly thresholds: ReadonlyMap<string, number>;
}

const versionKey = (playbookId: string, version: number) => `${playbookId}:${version}`;

/**
 * The rules engine inside the ingest transaction. `ingest_events()` has already read what
 * planning needs (settings, the playbooks' stamp, the customers' enrollments), so the
 * planner plays each customer's events through the engine in time order and writes the
 * outcome — exits, moved triggers, new enrollments and touchpoints, announced stages and
 * outgoing events — with one `apply_plan()` call, so a 2xx means the plan is committed too.
 *
 * Playbook versions are immutable, so their engine form is kept per workspace and reused
 * while the stamp (ids, current versions and switches of the live playbooks, read in the
 * same transaction) is unchanged: any save, switch or deletion, on any replica, changes it.
 */
export function createRulesPlanner(): EventPlanner {
  const active = new Map<string, ActivePlaybooks>();
  const exitRules = new Map<string, readonly ExitRule[]>();

  async function activePlaybooks(trx: Transaction<DB>, workspaceId: string, stamp: string) {
    const cached = active.get(workspaceId);
    if (cached?.stamp === stamp) return cached;
    const rows = await enabledPlaybooks(trx, workspaceId);
    const playbooks = rows.map((row) => toEnginePlaybook(row.key, row.version, row.document));
    for (const [i, row] of rows.entries())
      exitRules.set(versionKey(row.id, row.version), playbooks[i]!.exitOn);
    const loaded: ActivePlaybooks = {
      stamp,
      playbooks,
      rows: new Map(rows.map((row) => [row.key, row])),
      steps: new Map(
        playbooks.flatMap((p) => p.steps.map((step) => [`${p.key}:${step.key}`, step] as const)),
      ),
      thresholds: usageThresholds(playbooks),
    };
    active.set(workspaceId, loaded);
    return loaded;
  }

  /** Engine enrollments for stored rows, with the exit rules of their own versions. */
  async function storedEnrollments(
    trx: Transaction<DB>,
    workspaceId: string,
    rows: readonly StoredEnrollmentRow[],
  ): Promise<Map<string, (Enrollment & { readonly playbookId: string })[]>> {
    const missing = rows.filter((row) => !exitRules.has(versionKey(row.playbookId, row.playbookVersion)));
    if (missing.length > 0) {
      const wanted = new Map(missing.map((row) => [versionKey(row.playbookId, row.playbookVersion), row]));
      const loaded = await versionExitRules(
        trx,
        workspaceId,
        [...wanted.values()].map((row) => ({ playbookId: row.playbookId, version: row.playbookVersion })),
      );
      for (const [key, rules] of loaded) exitRules.set(key, rules);
    }
    const byCustomer = new Map<string, (Enrollment & { readonly playbookId: string })[]>();
    for (const row of rows) {
      const enrollment = {
        id: row.id,
        playbookId: row.playbookId,
        playbookKey: row.playbookKey,
        version: row.playbookVersion,
        status: row.status as Enrollment['status'],
        triggerKind: row.triggerKind as Enrollment['triggerKind'],
        triggerAt: row.triggerAt,
        triggerKey: row.triggerKey,
        lastDueAt: row.lastDueAt,
        exitOn: exitRules.get(versionKey(row.playbookId, row.playbookVersion)) ?? [],
      };
      const list = byCustomer.get(row.customerId);
      if (list) list.push(enrollment);
      else byCustomer.set(row.customerId, [enrollment]);
    }
    return byCustomer;
  }

  return {
    mayPlan: true,
    async plan(trx, { workspaceId, accepted, now, snapshot }): Promise<readonly EventPlan[]> {
      const { playbooks, rows, steps, thresholds } = await activePlaybooks(
        trx,
        workspaceId,
        snapshot.playbooksStamp,
      );
      const settings = effectiveSettings(
        snapshot.workspace,
        snapshot.workspace.settings as SettingsOverrides,
      );
      const lateGraceMs = Duration.fromISO(settings.late_grace).as('milliseconds');
      const stored = await storedEnrollments(trx, workspaceId, snapshot.enrollments);

      // Each customer's events, in time order (a batch plays them as if they came one by one).
      const byCustomer = new Map<string, { a: AcceptedEvent; index: number }[]>();
      accepted.forEach((a, index) => {
        const mine = byCustomer.get(a.customer.id);
        if (mine) mine.push({ a, index });
        else byCustomer.set(a.customer.id, [{ a, index }]);
      });
      const customerIds = [...byCustomer.keys()];
      const usage: Map<string, UsageLevels> = accepted.some((a) => a.event.type === 'usage')
        ? await latestUsage(
            trx,
            workspaceId,
            customerIds,
            accepted.map((a) => a.id),
          )
        : new Map();

      const plans: EventPlan[] = new Array(accepted.length);
      const writes: {
        -readonly [K in keyof PlanWrites]: PlanWrites[K] extends readonly (infer T)[] ? T[] : never;
      } = { exits: [], moves: [], enrollments: [], touchpoints: [], stages: [], outbox: [] };

      for (const [customerId, mine] of byCustomer) {
        mine.sort((x, y) => x.a.event.occurredAt.getTime() - y.a.event.occurredAt.getTime());
        // Every event of the customer comes with the row after this transaction's upsert.
        const state = mine.at(-1)!.a.customer;
        const signals = customerSignals(state, now, usage.get(customerId), thresholds, mine);
        if (signals.stage) writes.stages.push({ customerId, stage: signals.stage });
        for (const event of signals.events)
          writes.outbox.push({ id: uuidv7(now), type: event.type, data: event.data });

        if (playbooks.length === 0) {
          for (const { index } of mine) plans[index] = { touchpoints: [], exited: [] };
          continue;
        }
        const calendar = {
          zone: state.timezone ?? settings.timezone,
          country: countryOf(state, settings.country),
          holidays: nationalHolidays,
        };
        const planSettings: PlanSettings = {
          now,
          calendar,
          lateGraceMs,
          quietHours: settings.quiet_hours,
        };
        const existing = stored.get(customerId) ?? [];
        const existingById = new Map(existing.map((e) => [e.id, e]));
        const simulation = new Simulation(playbooks, conditionCustomer(state, now), {
          enrollments: existing,
          lastActivityAt: state.lastActivityAt,
          usage: usage.get(customerId) ?? {},
          newId: () => uuidv7(now),
        });
        const triggerEvent = new Map<string, string>();
        for (const { a, index } of mine) {
          const known = simulation.enrollments.length;
          const effect = simulation.apply(
            { id: a.id, type: a.event.type, occurredAt: a.event.occurredAt, properties: a.event.properties },
            planSettings,
          );
          // New enrollments are appended: those past `known` are this event's.
          for (const e of simulation.enrollments.slice(known)) triggerEvent.set(e.id, a.id);
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

        // Stored enrollments: exits and moved triggers are updates; new ones are inserted.
        const exitOf = new Map(simulation.exits.map((x) => [x.enrollmentId, x]));
        for (const exit of simulation.exits) {
          if (existingById.has(exit.enrollmentId))
            writes.exits.push({ id: exit.enrollmentId, reason: exit.reason });
        }
        const current = new Map(simulation.enrollments.map((e) => [e.id, e]));
        for (const id of simulation.moved) {
          const enrollment = current.get(id)!;
          if (!existingById.has(id) || enrollment.status !== 'active') continue;
          const playbook = rows.get(enrollment.playbookKey)!;
          writes.moves.push({
            id,
            playbookId: playbook.id,
            playbookVersion: playbook.version,
            triggerAt: enrollment.triggerAt,
            triggerKey: enrollment.triggerKey,
            lastDueAt: enrollment.lastDueAt,
          });
        }
        for (const enrollment of simulation.enrollments) {
          if (existingById.has(enrollment.id)) continue;
          const playbook = rows.get(enrollment.playbookKey)!;
          const exit = exitOf.get(enrollment.id);
          // Nothing left to send (every step skipped or filtered out): complete from the start.
          const status = exit ? 'exited' : enrollment.lastDueAt === null ? 'completed' : 'active';
          const row: NewEnrollment = {
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
          };
          writes.enrollments.push(row);
        }
        for (const tp of simulation.touchpoints) {
          const step = steps.get(`${tp.playbookKey}:${tp.step}`);
          const row: NewTouchpoint = {
            id: tp.id,
            customerId,
            enrollmentId: tp.enrollmentId,
            playbookKey: tp.playbookKey,
            playbookVersion: rows.get(tp.playbookKey)?.version ?? tp.version,
            stepKey: tp.step,
            channel: tp.channel,
            templateKey: tp.template,
            taskKind: step?.task?.kind ?? null,
            endpointId: step?.endpoint ?? null,
            dueAt: tp.dueAt,
            status: tp.status,
            statusReason: tp.status === 'skipped' ? (tp.skipReason ?? null) : (tp.cancelReason ?? null),
          };
          writes.touchpoints.push(row);
        }
      }
      await applyPlan(trx, workspaceId, now, writes);
      return plans;
    },
  };
}

/** The customer's country for holidays (`attributes.country`), else the workspace's. */
function countryOf(customer: CustomerState, fallback: string): string {
  const country = (customer.attributes as Record<string, unknown>).country;
  return typeof country === 'string' && COUNTRY.test(country) ? country : fallback;
}
