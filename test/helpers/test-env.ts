/** Where this test file's database and Redis keys live; set by test/setup-file.ts. */
export interface TestEnv {
  /** This file's own database. */
  readonly databaseUrl: string;
  /** Any database on the same server, for creating scratch databases. */
  readonly serverUrl: string;
  readonly redisUrl: string;
  /** This file's own BullMQ/Redis key prefix. */
  readonly prefix: string;
}

let current: TestEnv | undefined;

export function setTestEnv(env: TestEnv): void {
  current = env;
}

export function testEnv(): TestEnv {
  if (!current) throw new Error('test env not set: is test/setup-file.ts in vitest setupFiles?');
  return current;
}
