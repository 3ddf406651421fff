import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new signing secret: `whsec_` and the base64 of 24 random bytes (Standard Webhooks). */
export function generateSecret(): string {
  return `${PREFIX}${randomBytes(24).toString('base64')}`;
}

/**
 * The Standard Webhooks signature header value: `v1,` and the base64 HMAC-SHA256, keyed with
 * the base64-decoded part of the secret after `whsec_`, of `{id}.{timestamp}.{body}`.
 */
export function signatureOf(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.slice(PREFIX.length), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/**
 * The `webhook-signature` value for several secrets at once: each one's `v1,<sig>`, separated
 * by spaces (Standard Webhooks). During a rotation's grace period receivers holding either the
 * new or the old secret can verify, as a verifier accepts any one signature that matches.
 */
export function signaturesOf(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: string,
): string {
  return secrets.map((secret) => signatureOf(secret, id, timestampSeconds, body)).join(' ');
}

// The secret is needed in clear to sign, so it is encrypted rather than hashed. The key is
// derived from the instance key (SECRET_KEY) so a database dump alone does not reveal secrets.
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

// The last derivation, kept: an instance has one key, and every delivery attempt opens a secret.
let derived: { readonly from: Buffer; readonly key: Buffer } | undefined;

function encryptionKey(instanceKey: Buffer): Buffer {
  if (derived?.from.equals(instanceKey)) return derived.key;
  const key = Buffer.from(hkdfSync('sha256', instanceKey, Buffer.alloc(0), 'posvenda webhook secret v1', 32));
  derived = { from: Buffer.from(instanceKey), key };
  return key;
}

/** version byte · IV · GCM tag · ciphertext. */
export function sealSecret(secret: string, instanceKey: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey(instanceKey), iv);
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), ciphertext]);
}

/** The secret in clear; undefined when it was sealed with another instance key. */
export function openSecret(sealed: Buffer, instanceKey: Buffer): string | undefined {
  if (sealed[0] !== VERSION) return undefined;
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey(instanceKey), iv);
    decipher.setAuthTag(tag);
    const body = sealed.subarray(1 + IV_BYTES + TAG_BYTES);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
