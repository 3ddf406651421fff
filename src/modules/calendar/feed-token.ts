import { createHmac, timingSafeEqual } from 'node:crypto';

// A feed token is "<workspace id>.<mac>": the id says whose feed, the MAC proves the link was
// given out by us for the workspace's current generation. Rotating bumps the generation, so
// every link given before stops matching without a list of revoked tokens.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function mac(key: Buffer, workspaceId: string, generation: number): Buffer {
  return createHmac('sha256', key).update(`calendar-feed:${workspaceId}:${generation}`).digest();
}

/** The feed token of a workspace at a generation. */
export function signFeedToken(key: Buffer, workspaceId: string, generation: number): string {
  return `${workspaceId}.${mac(key, workspaceId, generation).toString('base64url')}`;
}

/** The workspace a token claims to belong to, before checking it; undefined when malformed. */
export function feedTokenWorkspace(token: string): string | undefined {
  const [workspaceId, signature, ...rest] = token.split('.');
  if (rest.length > 0 || workspaceId === undefined || signature === undefined) return undefined;
  return UUID.test(workspaceId) ? workspaceId : undefined;
}

/** Whether `token` is the workspace's token at `generation`, compared in constant time. */
export function verifyFeedToken(
  key: Buffer,
  token: string,
  workspaceId: string,
  generation: number,
): boolean {
  const signature = token.slice(workspaceId.length + 1);
  const presented = Buffer.from(signature, 'base64url');
  const expected = mac(key, workspaceId, generation);
  // base64url decoding skips stray characters, so compare the canonical text too.
  return (
    presented.length === expected.length &&
    timingSafeEqual(presented, expected) &&
    presented.toString('base64url') === signature
  );
}
