import { createHmac, timingSafeEqual } from 'node:crypto';

// A tracking token is "<payload>.<mac>", both base64url: the payload says what the link is for
// (its kind, workspace, touchpoint and, for clicks, the destination), the MAC proves we made it.
// The kind is inside the MAC, so a click token cannot be replayed as an unsubscribe or a survey.

/** o: open pixel, c: click, u: unsubscribe, s: survey answer. */
export type TrackingKind = 'o' | 'c' | 'u' | 's';

export interface TrackingClaims {
  readonly kind: TrackingKind;
  readonly workspaceId: string;
  readonly touchpointId: string;
  /** Clicks: the only URL the redirect may go to. */
  readonly url?: string;
}

const KINDS = new Set<string>(['o', 'c', 'u', 's']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// 16 bytes of HMAC-SHA256 (128 bits) keep links short and are far beyond guessing.
const MAC_BYTES = 16;

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(`tracking:${payload}`).digest().subarray(0, MAC_BYTES);
}

export function signTrackingToken(key: Buffer, claims: TrackingClaims): string {
  const body: unknown[] = [claims.kind, claims.workspaceId, claims.touchpointId];
  if (claims.url !== undefined) body.push(claims.url);
  const payload = Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

/** The claims of a token we signed with `key` for `kind`; undefined when forged, altered or malformed. */
export function verifyTrackingToken(
  key: Buffer,
  token: string,
  kind: TrackingKind,
): TrackingClaims | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0 || token.length > 8192) return undefined;
  const payload = token.slice(0, dot);
  const signature = token.slice(dot + 1);
  const presented = Buffer.from(signature, 'base64url');
  const expected = mac(key, payload);
  if (
    presented.length !== expected.length ||
    !timingSafeEqual(presented, expected) ||
    presented.toString('base64url') !== signature
  ) {
    return undefined;
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(body) || body.length < 3 || body.length > 4) return undefined;
  const [k, workspaceId, touchpointId, url] = body as unknown[];
  if (typeof k !== 'string' || !KINDS.has(k) || k !== kind) return undefined;
  if (typeof workspaceId !== 'string' || !UUID.test(workspaceId)) return undefined;
  if (typeof touchpointId !== 'string' || !UUID.test(touchpointId)) return undefined;
  if (url !== undefined && typeof url !== 'string') return undefined;
  return { kind, workspaceId, touchpointId, ...(url !== undefined ? { url } : {}) };
}
