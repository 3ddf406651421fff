import { describe, expect, it } from 'vitest';
import { feedTokenWorkspace, signFeedToken, verifyFeedToken } from '../src/modules/calendar/feed-token.js';

const key = Buffer.from('k'.repeat(32));
const workspace = '019a9a6e-1f00-7000-8000-000000000001';

describe('calendar feed tokens', () => {
  it('round-trips for the same key, workspace and generation, and is stable', () => {
    const token = signFeedToken(key, workspace, 1);
    expect(signFeedToken(key, workspace, 1)).toBe(token);
    expect(feedTokenWorkspace(token)).toBe(workspace);
    expect(verifyFeedToken(key, token, workspace, 1)).toBe(true);
  });

  it('fails for another generation, key or workspace, and for altered text', () => {
    const token = signFeedToken(key, workspace, 1);
    const other = '019a9a6e-1f00-7000-8000-000000000002';
    expect(verifyFeedToken(key, token, workspace, 2)).toBe(false);
    expect(verifyFeedToken(Buffer.from('x'.repeat(32)), token, workspace, 1)).toBe(false);
    expect(verifyFeedToken(key, `${other}${token.slice(workspace.length)}`, other, 1)).toBe(false);
    expect(verifyFeedToken(key, `${token}=`, workspace, 1)).toBe(false);
    expect(verifyFeedToken(key, `${token.slice(0, -1)}!`, workspace, 1)).toBe(false);
    expect(verifyFeedToken(key, `${workspace}.`, workspace, 1)).toBe(false);
  });

  it('reads no workspace out of malformed tokens', () => {
    for (const bad of [
      '',
      'abc',
      `${workspace}`,
      `${workspace}.a.b`,
      'not-a-uuid.abc',
      `${workspace.toUpperCase()}.a`,
    ]) {
      expect(feedTokenWorkspace(bad), bad).toBeUndefined();
    }
  });
});
