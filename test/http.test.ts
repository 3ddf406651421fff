import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, memoryLogger, problemOf, startTestApp, TEST_ADMIN_KEY, type TestApp } from './helpers/app.js';

describe('HTTP conventions', () => {
  let t: TestApp;
  const logs = memoryLogger();
  beforeAll(async () => {
    t = await startTestApp({
      log: logs.log,
      extend: (app) => {
        app.get('/boom', async () => {
          throw new Error('connection string postgres://secret@db leaked');
        });
      },
    });
  });
  afterAll(async () => t.close());

  it('answers an unknown route with a 404 problem+json', async () => {
    const response = await call(t.app, 'GET', '/v1/nothing-here?x=1', TEST_ADMIN_KEY);
    expect(response.statusCode).toBe(404);
    const problem = problemOf(response);
    expect(problem).toMatchObject({
      type: 'urn:posvenda:problem:route_not_found',
      title: 'Not Found',
      code: 'route_not_found',
      detail: 'No route GET /v1/nothing-here',
    });
  });

  it('answers malformed JSON with 400 malformed_json and changes nothing', async () => {
    const before = (await call(t.app, 'GET', '/v1/api-keys', TEST_ADMIN_KEY)).json().data.length;
    const response = await call(t.app, 'POST', '/v1/api-keys', TEST_ADMIN_KEY, '{"name": "x", "scopes": [', {
      'content-type': 'application/json',
    });
    expect(response.statusCode).toBe(400);
    expect(problemOf(response).code).toBe('malformed_json');
    expect((await call(t.app, 'GET', '/v1/api-keys', TEST_ADMIN_KEY)).json().data.length).toBe(before);
  });

  it('refuses the NUL character in JSON strings with 400 (Postgres cannot store it), and stores nothing', async () => {
    const before = (await call(t.app, 'GET', '/v1/api-keys', TEST_ADMIN_KEY)).json().data.length;
    const response = await call(
      t.app,
      'POST',
      '/v1/api-keys',
      TEST_ADMIN_KEY,
      '{"name":"a\\u0000b","scopes":["read"]}',
      {
        'content-type': 'application/json',
      },
    );
    expect(response.statusCode).toBe(400);
    expect(problemOf(response).code).toBe('invalid_character');
    const event = await call(t.app, 'POST', '/v1/events', TEST_ADMIN_KEY, {
      id: 'nul-1',
      type: 'activity',
      customer: { id: 'c-nul', name: 'Ana\u0000' },
    });
    expect(event.statusCode).toBe(400);
    expect((await call(t.app, 'GET', '/v1/api-keys', TEST_ADMIN_KEY)).json().data.length).toBe(before);
    // The six characters \u0000 written as text (an escaped backslash) are fine.
    const text = await call(
      t.app,
      'POST',
      '/v1/api-keys',
      TEST_ADMIN_KEY,
      '{"name":"a\\\\u0000b","scopes":["read"]}',
      {
        'content-type': 'application/json',
      },
    );
    expect(text.statusCode).toBe(201);
    expect(text.json().name).toBe('a\\u0000b');
  });

  it('answers a body over 1 MiB with 413', async () => {
    const body = JSON.stringify({ name: 'x'.repeat(1024 * 1024), scopes: ['read'] });
    const response = await call(t.app, 'POST', '/v1/api-keys', TEST_ADMIN_KEY, body, {
      'content-type': 'application/json',
    });
    expect(response.statusCode).toBe(413);
    expect(problemOf(response).code).toBe('payload_too_large');
  });

  it('answers a body that is not JSON with 415', async () => {
    const response = await call(t.app, 'POST', '/v1/api-keys', TEST_ADMIN_KEY, 'name=x', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(response.statusCode).toBe(415);
    expect(problemOf(response).code).toBe('unsupported_media_type');
  });

  it('hides the details of a 5xx from the client and logs them with the request id', async () => {
    const response = await call(t.app, 'GET', '/boom', undefined, undefined, {
      'x-request-id': 'req-boom-1',
    });
    expect(response.statusCode).toBe(500);
    const problem = problemOf(response);
    expect(problem.code).toBe('internal_error');
    expect(response.body).not.toContain('secret');
    expect(problem.detail).toContain('req-boom-1');
    const logged = logs.lines().find((line) => line.reqId === 'req-boom-1' && line.level === 50);
    expect(logged).toBeDefined();
    expect(JSON.stringify(logged)).toContain('postgres://secret@db leaked');
  });

  it('echoes the request id, generating one when the client sends none', async () => {
    const given = await call(t.app, 'GET', '/healthz', undefined, undefined, { 'x-request-id': 'abc-123' });
    expect(given.headers['x-request-id']).toBe('abc-123');
    const generated = await call(t.app, 'GET', '/healthz', undefined);
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs requests with their request id and never the Authorization header', async () => {
    await call(t.app, 'GET', '/v1/settings', TEST_ADMIN_KEY, undefined, { 'x-request-id': 'req-log-1' });
    const lines = logs.lines().filter((line) => line.reqId === 'req-log-1');
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(logs.lines())).not.toContain(TEST_ADMIN_KEY);
  });
});

describe('rate limit per API key', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_RPS: '3' } });
  });
  afterAll(async () => t.close());

  it('answers 429 with Retry-After past the limit, per key', async () => {
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 6; i++) {
      const response = await call(t.app, 'GET', '/v1/settings', TEST_ADMIN_KEY);
      statuses.push(response.statusCode);
      if (response.statusCode === 429) limited = response;
    }
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(3);
    expect(statuses).toContain(429);
    expect(limited?.headers['retry-after']).toMatch(/^\d+$/);
    expect(problemOf(limited!).code).toBe('rate_limited');
    // Another key has its own budget: it gets past the limiter (and fails auth), not 429.
    const other = await call(t.app, 'GET', '/v1/settings', 'some-other-key');
    expect(other.statusCode).toBe(401);
  });

  it('does not limit health probes', async () => {
    for (let i = 0; i < 8; i++)
      expect((await call(t.app, 'GET', '/healthz', undefined)).statusCode).toBe(200);
  });
});

describe('load shedding', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '200' } });
  });
  afterAll(async () => t.close());

  it('answers 503 overloaded with Retry-After while the event loop lags, and recovers', async () => {
    expect((await call(t.app, 'GET', '/v1/settings', TEST_ADMIN_KEY)).statusCode).toBe(200);
    const until = Date.now() + 600;
    while (Date.now() < until) {
      // Block the event loop, as a CPU-bound burst would.
    }
    const shed = await call(t.app, 'GET', '/v1/settings', TEST_ADMIN_KEY);
    expect(shed.statusCode).toBe(503);
    expect(shed.headers['retry-after']).toBe('2');
    expect(problemOf(shed).code).toBe('overloaded');
    expect((await call(t.app, 'GET', '/healthz', undefined)).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect((await call(t.app, 'GET', '/v1/settings', TEST_ADMIN_KEY)).statusCode).toBe(200);
  });
});
