import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { type Logger, pino } from 'pino';
import { buildApp } from '../../src/app.js';
import { bootstrap } from '../../src/bootstrap.js';
import type { Clock } from '../../src/clock.js';
import { type Config, loadConfig } from '../../src/config.js';
import { closeDeps, createDeps, type Deps } from '../../src/deps.js';
import { testEnv } from './test-env.js';

/** The admin key of the default workspace in every test app (provisioned as POSVENDA_ADMIN_KEY). */
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef';

/** A Config as production would load it, pointed at this file's database and Redis prefix. */
export function testConfig(env: Record<string, string> = {}): Config {
  const { databaseUrl, redisUrl, prefix } = testEnv();
  const loaded = loadConfig({
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    POSVENDA_ADMIN_KEY: TEST_ADMIN_KEY,
    SECRET_KEY: 'test-secret-key-0123456789abcdefghijklmnop',
    // Off unless a test turns it on: on a loaded 2-core CI machine the event loop of a test
    // process can lag past the production threshold, and a shed request is not what it tests.
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...env,
  });
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  return loaded.config;
}

export interface TestApp {
  readonly app: FastifyInstance;
  readonly deps: Deps;
  close(): Promise<void>;
}

export interface TestAppOptions {
  readonly env?: Record<string, string>;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Skip provisioning the default workspace and admin key. */
  readonly skipBootstrap?: boolean;
  /** Adds routes before the app is ready, e.g. one that fails in a way no real route can. */
  readonly extend?: (app: FastifyInstance) => void;
}

/** Builds the production app on this file's database, bootstrapped with TEST_ADMIN_KEY. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const deps = createDeps(testConfig(options.env), {
    clock: options.clock,
    log: options.log ?? pino({ level: 'silent' }),
  });
  await deps.redis.connect().catch(() => {});
  if (!options.skipBootstrap) await bootstrap(deps);
  const app = await buildApp(deps);
  options.extend?.(app);
  await app.ready();
  return {
    app,
    deps,
    close: async () => {
      await app.close();
      await closeDeps(deps);
    },
  };
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** `app.inject` with a bearer key and a JSON body. */
export function call(
  app: FastifyInstance,
  method: Method,
  url: string,
  key: string | undefined,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const options: InjectOptions = { method, url, headers: { ...headers } };
  if (key !== undefined) options.headers = { ...options.headers, authorization: `Bearer ${key}` };
  if (body !== undefined) options.payload = body as InjectOptions['payload'];
  return app.inject(options);
}

/** Creates a workspace through the API and returns its id and admin key. */
export async function createWorkspace(
  app: FastifyInstance,
  body: Record<string, unknown> = {},
): Promise<{ id: string; key: string }> {
  const response = await call(app, 'POST', '/v1/workspaces', TEST_ADMIN_KEY, { name: 'Test shop', ...body });
  if (response.statusCode !== 201) throw new Error(`workspace not created: ${response.body}`);
  const json = response.json();
  return { id: json.id, key: json.api_key };
}

/** Creates a key with the given scopes in the workspace of `adminKey`. */
export async function createKey(
  app: FastifyInstance,
  adminKey: string,
  scopes: string[],
): Promise<{ id: string; key: string }> {
  const response = await call(app, 'POST', '/v1/api-keys', adminKey, { name: scopes.join('+'), scopes });
  if (response.statusCode !== 201) throw new Error(`key not created: ${response.body}`);
  const json = response.json();
  return { id: json.id, key: json.key };
}

/** Asserts the RFC 9457 shape and returns the parsed problem. */
export function problemOf(response: LightMyRequestResponse): {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: { path: string; message: string }[];
} {
  const type = String(response.headers['content-type']);
  if (!type.startsWith('application/problem+json')) {
    throw new Error(`expected problem+json, got ${type}: ${response.body}`);
  }
  const body = response.json();
  if (body.status !== response.statusCode)
    throw new Error(`problem status ${body.status} != ${response.statusCode}`);
  for (const field of ['type', 'title', 'detail', 'code']) {
    if (typeof body[field] !== 'string') throw new Error(`problem lacks ${field}: ${response.body}`);
  }
  return body;
}

/** A pino logger that keeps its JSON lines in memory, to assert on what was logged. */
export function memoryLogger(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const log = pino({ level: 'info' }, { write: (chunk: string) => void chunks.push(chunk) });
  return {
    log,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
  };
}
