import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI_FILE, renderOpenApi } from '../src/openapi.js';
import { call, startTestApp, TEST_ADMIN_KEY, type TestApp } from './helpers/app.js';

describe('ops endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('/healthz answers 200 while the process is up', async () => {
    const response = await call(t.app, 'GET', '/healthz', undefined);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 when Postgres and Redis answer', async () => {
    const response = await call(t.app, 'GET', '/readyz', undefined);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('/metrics exposes HTTP histograms labelled by route pattern', async () => {
    await call(t.app, 'GET', '/v1/settings', TEST_ADMIN_KEY);
    const response = await call(t.app, 'GET', '/metrics', undefined);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    expect(response.body).toMatch(
      /posvenda_http_request_duration_seconds_count\{method="GET",route="\/v1\/settings",status_code="200"\} [1-9]/,
    );
    expect(response.body).toContain('posvenda_process_cpu_seconds_total');
  });

  it('serves the Swagger UI at /docs and the document at /openapi.json', async () => {
    const docs = await call(t.app, 'GET', '/docs/', undefined);
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
    const document = await call(t.app, 'GET', '/openapi.json', undefined);
    expect(document.statusCode).toBe(200);
    expect(document.json().openapi).toBe('3.1.0');
  });

  it('tags every operation and gives it an operationId', async () => {
    const document = (await call(t.app, 'GET', '/openapi.json', undefined)).json();
    const operations = Object.entries(
      document.paths as Record<string, Record<string, { tags?: string[]; operationId?: string }>>,
    ).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ where: `${method} ${path}`, op })),
    );
    expect(operations.length).toBeGreaterThan(8);
    for (const { where, op } of operations) {
      expect(op.tags?.length, `${where} has tags`).toBeGreaterThan(0);
      expect(op.operationId, `${where} has an operationId`).toMatch(/^[a-z][A-Za-z]+$/);
    }
    const ids = operations.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('openapi/openapi.json is what `npm run openapi` generates now (run it if this fails)', async () => {
    const committed = await readFile(OPENAPI_FILE, 'utf8');
    expect(committed).toBe(await renderOpenApi());
  });
});

describe('readiness when Redis is unreachable', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Port 1 on loopback: nothing listens there, connections are refused at once.
    t = await startTestApp({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
  });
  afterAll(async () => t.close());

  it('/readyz answers 503 naming Redis, with Retry-After', async () => {
    const response = await call(t.app, 'GET', '/readyz', undefined);
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.json()).toEqual({
      status: 'unavailable',
      checks: { postgres: 'ok', redis: 'unavailable' },
    });
  });

  it('/healthz still answers 200', async () => {
    expect((await call(t.app, 'GET', '/healthz', undefined)).statusCode).toBe(200);
  });

  it('authenticated routes keep working: the rate limiter steps aside when Redis is away', async () => {
    const response = await call(t.app, 'GET', '/v1/settings', TEST_ADMIN_KEY);
    expect(response.statusCode).toBe(200);
  });
});

describe('readiness when Postgres is unreachable', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/posvenda' },
      skipBootstrap: true,
    });
  });
  afterAll(async () => t.close());

  it('/readyz answers 503 naming Postgres', async () => {
    const response = await call(t.app, 'GET', '/readyz', undefined);
    expect(response.statusCode).toBe(503);
    expect(response.json().checks).toEqual({ postgres: 'unavailable', redis: 'ok' });
  });

  it('an API call answers 503 database_unavailable, not 500', async () => {
    const response = await call(t.app, 'GET', '/v1/settings', TEST_ADMIN_KEY);
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.headers['retry-after']).toBe('5');
    expect(response.json().code).toBe('database_unavailable');
  });
});
