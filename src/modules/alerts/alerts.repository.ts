import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.js';

type Db = Kysely<DB> | Transaction<DB>;

export interface SwitchVariantAction {
  readonly switch_variant: { readonly playbook: string; readonly step: string; readonly variant: string };
}

export type Comparison = 'lt' | 'lte' | 'gt' | 'gte';

/** An alert rule and the state of its last evaluation. */
export interface AlertRuleRow {
  readonly workspaceId: string;
  readonly id: string;
  readonly kpi: string;
  readonly window: string;
  readonly segment: string | null;
  readonly comparison: Comparison;
  readonly threshold: number;
  readonly cooldown: string;
  readonly action: SwitchVariantAction | null;
  readonly holding: boolean;
  readonly lastValue: number | null;
  readonly lastEvaluatedAt: Date | null;
  readonly lastTriggeredAt: Date | null;
  readonly createdAt: Date;
}

const COLUMNS = [
  'workspaceId',
  'id',
  'kpi',
  'window',
  'segment',
  'comparison',
  'threshold',
  'cooldown',
  'action',
  'holding',
  'lastValue',
  'lastEvaluatedAt',
  'lastTriggeredAt',
  'createdAt',
] as const;

const toRow = (row: Record<(typeof COLUMNS)[number], unknown>): AlertRuleRow =>
  row as unknown as AlertRuleRow;

export async function insertAlertRule(
  db: Db,
  rule: Omit<AlertRuleRow, 'holding' | 'lastValue' | 'lastEvaluatedAt' | 'lastTriggeredAt'>,
): Promise<AlertRuleRow> {
  const row = await db
    .insertInto('alertRules')
    .values({ ...rule, action: rule.action === null ? null : JSON.stringify(rule.action) })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return toRow(row);
}

/** A workspace's rules by id, after the cursor id. */
export async function listAlertRules(
  db: Db,
  workspaceId: string,
  options: { readonly limit: number; readonly afterId?: string },
): Promise<AlertRuleRow[]> {
  let query = db.selectFrom('alertRules').select(COLUMNS).where('workspaceId', '=', workspaceId);
  if (options.afterId) query = query.where('id', '>', options.afterId);
  const rows = await query.orderBy('id').limit(options.limit).execute();
  return rows.map(toRow);
}

export async function findAlertRule(
  db: Db,
  workspaceId: string,
  id: string,
): Promise<AlertRuleRow | undefined> {
  const row = await db
    .selectFrom('alertRules')
    .select(COLUMNS)
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toRow(row);
}

export async function deleteAlertRule(db: Db, workspaceId: string, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('alertRules')
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Rules of every workspace not evaluated since `before`, least recently evaluated first. */
export async function rulesDue(
  db: Db,
  before: Date,
  limit: number,
): Promise<{ workspaceId: string; id: string }[]> {
  return db
    .selectFrom('alertRules')
    .select(['workspaceId', 'id'])
    .where((eb) => eb.or([eb('lastEvaluatedAt', 'is', null), eb('lastEvaluatedAt', '<=', before)]))
    .orderBy('lastEvaluatedAt', (ob) => ob.asc().nullsFirst())
    .limit(limit)
    .execute();
}

/**
 * Locks one rule for its evaluation if it is still due; undefined when another worker holds it
 * or evaluated it meanwhile (several workers run the evaluator).
 */
export async function lockRuleIfDue(
  trx: Transaction<DB>,
  workspaceId: string,
  id: string,
  before: Date,
): Promise<AlertRuleRow | undefined> {
  const row = await trx
    .selectFrom('alertRules')
    .select(COLUMNS)
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .where((eb) => eb.or([eb('lastEvaluatedAt', 'is', null), eb('lastEvaluatedAt', '<=', before)]))
    .forUpdate()
    .skipLocked()
    .executeTakeFirst();
  return row && toRow(row);
}

export async function recordEvaluation(
  db: Db,
  rule: AlertRuleRow,
  state: {
    readonly holding: boolean;
    readonly value: number | null;
    readonly at: Date;
    readonly triggered: boolean;
  },
): Promise<void> {
  await db
    .updateTable('alertRules')
    .set({
      holding: state.holding,
      lastValue: state.value,
      lastEvaluatedAt: state.at,
      ...(state.triggered ? { lastTriggeredAt: state.at } : {}),
    })
    .where('workspaceId', '=', rule.workspaceId)
    .where('id', '=', rule.id)
    .execute();
}
