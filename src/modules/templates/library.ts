import type { Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import { uuidv7 } from '../../ids.js';
import { TEMPLATE_LIBRARY } from './seed/index.js';
import { insertTemplate } from './templates.repository.js';

/**
 * Installs the seed library in a workspace, inside the caller's transaction. Idempotent and
 * respectful of the shop: a key that exists — or existed and was deleted — is left alone, so
 * running it again never duplicates, overwrites an edit or brings back a deleted template.
 * Returns the keys it installed.
 */
export async function installTemplateLibrary(
  trx: Transaction<DB>,
  workspaceId: string,
  at: Date,
): Promise<string[]> {
  const installed: string[] = [];
  for (const { key, ...document } of TEMPLATE_LIBRARY) {
    const done = await insertTemplate(
      trx,
      { workspaceId, id: uuidv7(at), key, document, at },
      { ifKeyNeverUsed: true },
    );
    if (done) installed.push(key);
  }
  return installed;
}
