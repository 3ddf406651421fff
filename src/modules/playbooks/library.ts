import type { Database } from '../../db/client.js';
import { uuidv7 } from '../../ids.js';
import { insertPlaybook } from './playbooks.repository.js';
import { PLAYBOOK_LIBRARY } from './seed-playbooks.js';

/**
 * Installs the seed playbooks in a workspace. Idempotent, and respectful of the shop's
 * choices: a key that exists — or existed and was deleted — is left alone. Call after the
 * template library, which the seed steps name.
 */
export async function installPlaybookLibrary(db: Database, workspaceId: string, at: Date): Promise<void> {
  const known = new Set(
    (await db.selectFrom('playbooks').select('key').where('workspaceId', '=', workspaceId).execute()).map(
      (r) => r.key,
    ),
  );
  for (const { key, ...document } of PLAYBOOK_LIBRARY) {
    if (known.has(key)) continue;
    await insertPlaybook(db, { workspaceId, id: uuidv7(at), key, document, at }, 'ignore');
  }
}
