import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { closeDeps, createDeps } from '../src/deps.js';
import { memoryLogger, testConfig } from './helpers/app.js';

describe('signing key', () => {
  it('is SECRET_KEY when set', async () => {
    const deps = createDeps(testConfig({ SECRET_KEY: 'k'.repeat(40) }), { log: pino({ level: 'silent' }) });
    expect((await deps.secrets.signingKey()).toString()).toBe('k'.repeat(40));
    await closeDeps(deps);
  });

  it('without SECRET_KEY, is generated once and shared by every process on the database, with a warning', async () => {
    const config = { ...testConfig(), secretKey: undefined };
    const logs = memoryLogger();
    const replicas = [1, 2, 3].map(() => createDeps(config, { log: logs.log }));
    const keys = await Promise.all(replicas.map((deps) => deps.secrets.signingKey()));
    expect(keys[0]!.length).toBeGreaterThanOrEqual(32);
    expect(keys[1]!.equals(keys[0]!)).toBe(true);
    expect(keys[2]!.equals(keys[0]!)).toBe(true);
    expect(logs.lines().some((line) => String(line.msg).includes('SECRET_KEY is not set'))).toBe(true);
    // A restart reads the same key back.
    const restarted = createDeps(config, { log: pino({ level: 'silent' }) });
    expect((await restarted.secrets.signingKey()).equals(keys[0]!)).toBe(true);
    await Promise.all([...replicas, restarted].map(closeDeps));
  });
});
