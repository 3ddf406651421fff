import { createHash, randomBytes } from 'node:crypto';

const FORMAT = /^pv_([A-Za-z0-9_-]{22})_([A-Za-z0-9_-]{43})$/;

function uuidToBase64url(uuid: string): string {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex').toString('base64url');
}

function base64urlToUuid(text: string): string {
  const hex = Buffer.from(text, 'base64url').toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** SHA-256 of the whole key, as stored. */
export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** A short, non-secret rendering of a key for listings. */
export function keyHint(key: string): string {
  return `${key.slice(0, 8)}…${key.slice(-4)}`;
}

/**
 * A new key: `pv_<workspace id>_<256 random bits>`. Carrying the workspace id lets the
 * lookup use the (workspace_id, key_hash) index, as a sharded deployment needs.
 */
export function generateKey(workspaceId: string): string {
  return `pv_${uuidToBase64url(workspaceId)}_${randomBytes(32).toString('base64url')}`;
}

/**
 * The workspace a presented key claims. Keys not in our format (an operator's own
 * POSVENDA_ADMIN_KEY) belong to the default workspace.
 */
export function keyWorkspace(key: string, defaultWorkspaceId: string): string {
  const match = FORMAT.exec(key);
  return match ? base64urlToUuid(match[1]!) : defaultWorkspaceId;
}
