import { sql } from 'kysely';
import type { Deps } from './deps.js';
import { hashKey, keyWorkspace } from './modules/api-keys/api-key-token.js';
import {
  countActiveKeys,
  findActiveManagedKeys,
  revokeKeys,
} from './modules/api-keys/api-keys.repository.js';
import { createApiKey } from './modules/api-keys/api-keys.service.js';
import { installPlaybookLibrary } from './modules/playbooks/library.js';
import { installTemplateLibrary } from './modules/templates/library.js';
import { DEFAULT_WORKSPACE_ID, ensureDefaultWorkspace } from './modules/workspaces/workspaces.service.js';

export interface BootstrapOutcome {
  /** A key created because the instance had none; to be shown once. */
  readonly initialAdminKey?: string;
}

/**
 * Makes the instance usable at start: the default workspace exists with the seed template
 * library, POSVENDA_ADMIN_KEY (when set) is its admin key and the only managed one, and with
 * no key at all one is created.
 * Idempotent, and serialised by an advisory lock when several replicas start together.
 */
export async function bootstrap(deps: Pick<Deps, 'db' | 'clock' | 'config'>): Promise<BootstrapOutcome> {
  const adminKey = deps.config.adminKey;
  if (adminKey !== undefined && keyWorkspace(adminKey, DEFAULT_WORKSPACE_ID) !== DEFAULT_WORKSPACE_ID) {
    throw new Error('POSVENDA_ADMIN_KEY has the form of a key of another workspace; choose another value');
  }
  await ensureDefaultWorkspace(deps);
  return deps.db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('posvenda:bootstrap'))`.execute(trx);
    const ctx = { db: trx, clock: deps.clock };
    // Templates the library gained since the last start reach the default workspace too.
    await installTemplateLibrary(trx, DEFAULT_WORKSPACE_ID, deps.clock.now());
    await installPlaybookLibrary(trx, DEFAULT_WORKSPACE_ID, deps.clock.now());
    const managed = await findActiveManagedKeys(trx, DEFAULT_WORKSPACE_ID);
    const wanted = adminKey === undefined ? undefined : hashKey(adminKey);
    const stale = managed.filter((key) => !(wanted && key.keyHash.equals(wanted))).map((key) => key.id);
    await revokeKeys(trx, DEFAULT_WORKSPACE_ID, stale, deps.clock.now());
    if (adminKey !== undefined) {
      if (stale.length === managed.length) {
        await createApiKey(ctx, DEFAULT_WORKSPACE_ID, {
          name: 'POSVENDA_ADMIN_KEY',
          scopes: ['admin'],
          managedKey: adminKey,
        });
      }
      return {};
    }
    if ((await countActiveKeys(trx, DEFAULT_WORKSPACE_ID)) > 0) return {};
    const created = await createApiKey(ctx, DEFAULT_WORKSPACE_ID, {
      name: 'initial admin',
      scopes: ['admin'],
    });
    return { initialAdminKey: created.key };
  });
}
