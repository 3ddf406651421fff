import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.js';

type Db = Kysely<DB> | Transaction<DB>;

/**
 * The template variant an alert action switched a playbook step to, if any. The dispatcher
 * consults it when it picks the variant of a touchpoint of that step: an override wins over
 * the variants' weights.
 */
export async function variantOverride(
  db: Db,
  workspaceId: string,
  playbookKey: string,
  stepKey: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('stepVariantOverrides')
    .select('variant')
    .where('workspaceId', '=', workspaceId)
    .where('playbookKey', '=', playbookKey)
    .where('stepKey', '=', stepKey)
    .executeTakeFirst();
  return row?.variant;
}

/** Switches a step to a variant (the latest switch wins). */
export async function setVariantOverride(
  db: Db,
  override: {
    readonly workspaceId: string;
    readonly playbookKey: string;
    readonly stepKey: string;
    readonly variant: string;
    readonly ruleId: string | null;
    readonly at: Date;
  },
): Promise<void> {
  await db
    .insertInto('stepVariantOverrides')
    .values({
      workspaceId: override.workspaceId,
      playbookKey: override.playbookKey,
      stepKey: override.stepKey,
      variant: override.variant,
      ruleId: override.ruleId,
      createdAt: override.at,
    })
    .onConflict((oc) =>
      oc.columns(['workspaceId', 'playbookKey', 'stepKey']).doUpdateSet((eb) => ({
        variant: eb.ref('excluded.variant'),
        ruleId: eb.ref('excluded.ruleId'),
        createdAt: eb.ref('excluded.createdAt'),
      })),
    )
    .execute();
}

export interface VariantOverrideRow {
  readonly playbookKey: string;
  readonly stepKey: string;
  readonly variant: string;
  readonly ruleId: string | null;
  readonly createdAt: Date;
}

/** A workspace's overrides by playbook and step key, after the cursor's (playbook, step). */
export async function listVariantOverrides(
  db: Db,
  workspaceId: string,
  options: { readonly limit: number; readonly after?: { readonly playbook: string; readonly step: string } },
): Promise<VariantOverrideRow[]> {
  let query = db
    .selectFrom('stepVariantOverrides')
    .select(['playbookKey', 'stepKey', 'variant', 'ruleId', 'createdAt'])
    .where('workspaceId', '=', workspaceId);
  const after = options.after;
  if (after) {
    query = query.where((eb) =>
      eb(eb.refTuple('playbookKey', 'stepKey'), '>', eb.tuple(after.playbook, after.step)),
    );
  }
  return query.orderBy('playbookKey').orderBy('stepKey').limit(options.limit).execute();
}

/** Removes a step's override, so its touchpoints go back to the weighted choice; false when there was none. */
export async function deleteVariantOverride(
  db: Db,
  workspaceId: string,
  playbookKey: string,
  stepKey: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('stepVariantOverrides')
    .where('workspaceId', '=', workspaceId)
    .where('playbookKey', '=', playbookKey)
    .where('stepKey', '=', stepKey)
    .executeTakeFirst();
  return (result.numDeletedRows ?? 0n) > 0n;
}
