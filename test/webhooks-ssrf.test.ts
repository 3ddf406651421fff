import dns from 'node:dns';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { uuidv7 } from '../src/ids.js';
import { checkHost, forbiddenRange, guardedLookup } from '../src/modules/webhooks/address-guard.js';
import { postWebhook } from '../src/modules/webhooks/webhook-http.js';
import { generateSecret, sealSecret } from '../src/modules/webhooks/webhook-secret.js';
import { insertEndpoint } from '../src/modules/webhooks/webhooks.repository.js';
import { call, createWorkspace, problemOf, type TestApp } from './helpers/app.js';
import type { Receiver } from './helpers/webhook-receiver.js';
import { emit, startWebhookHarness, type WebhookHarness, waitForDeliveries } from './helpers/webhooks.js';
import type { TestWorker } from './helpers/worker.js';

// The guard is on here (WEBHOOK_ALLOW_PRIVATE unset), and the receiver listens on 127.0.0.1.
const options = { retryScheduleMs: [0, 100], timeoutMs: 1000, jitter: 0, sweepGraceMs: 0 };

let t: TestApp;
let worker: TestWorker;
let rx: Receiver;
let h: WebhookHarness;

beforeAll(async () => {
  h = await startWebhookHarness(options);
  ({ t, worker, rx } = h);
  expect(t.deps.config.webhookAllowPrivate).toBe(false);
});
afterAll(async () => h?.close());

describe('address guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.1.1', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'],
    ['239.1.2.3', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fc00::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['64:ff9b::a00:1', 'rfc6052'],
  ])('refuses %s (%s)', (address, kind) => {
    expect(forbiddenRange(address)).toBe(kind);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:8.8.8.8'])(
    'allows public %s',
    (address) => {
      expect(forbiddenRange(address)).toBeUndefined();
    },
  );
});

describe('names with several addresses', () => {
  const answers = (...addresses: string[]) =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  const resolveTo = (...addresses: string[]) => {
    vi.spyOn(dns, 'lookup').mockImplementation(((
      _host: string,
      _options: unknown,
      callback: (error: null, answers: unknown) => void,
    ) => callback(null, answers(...addresses))) as never);
    vi.spyOn(dns.promises, 'lookup').mockResolvedValue(answers(...addresses) as never);
  };
  const lookup = (all: boolean) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
      guardedLookup('hooks.example.com', { all }, (error, address) => resolve({ error, address })),
    );
  afterEach(() => vi.restoreAllMocks());

  it.each([
    ['a private address after a public one', ['93.184.216.34', '10.0.0.7'], '10.0.0.7'],
    [
      'an IPv4-mapped loopback among public ones',
      ['2606:2800:220:1::1', '::ffff:127.0.0.1'],
      '::ffff:127.0.0.1',
    ],
  ])(
    'are refused at connect time and at creation when any is forbidden: %s',
    async (_what, addresses, bad) => {
      resolveTo(...addresses);
      for (const all of [false, true]) {
        const { error } = await lookup(all);
        expect(error?.code).toBe('EFORBIDDENADDRESS');
        expect(error?.message).toContain(bad);
      }
      expect(await checkHost('hooks.example.com')).toContain(bad);

      const shop = await createWorkspace(t.app);
      const response = await call(t.app, 'POST', '/v1/webhooks', shop.key, {
        url: 'https://hooks.example.com/in',
        events: ['*'],
      });
      expect(response.statusCode).toBe(422);
      expect(problemOf(response).errors).toEqual([expect.objectContaining({ path: '/body/url' })]);
      expect((await call(t.app, 'GET', '/v1/webhooks', shop.key)).json().data).toEqual([]);
    },
  );

  it('that all fail to connect give an error that says why (not a blank one)', async () => {
    vi.spyOn(dns, 'lookup').mockImplementation(((
      _host: string,
      options: { all?: boolean },
      callback: (error: null, ...rest: unknown[]) => void,
    ) =>
      options.all ? callback(null, answers('127.0.0.1', '::1')) : callback(null, '127.0.0.1', 4)) as never);
    const response = await postWebhook({
      url: 'http://dual-stack.example:1/hook',
      headers: {},
      body: '{}',
      timeoutMs: 5000,
      allowPrivate: true,
    });
    expect(response.statusCode).toBeNull();
    expect(response.error).toMatch(/127\.0\.0\.1:1/);
  });

  it('are let through when every address is public', async () => {
    resolveTo('93.184.216.34', '2606:2800:220:1::1');
    expect(await lookup(false)).toEqual({ error: null, address: '93.184.216.34' });
    expect((await lookup(true)).address).toEqual(answers('93.184.216.34', '2606:2800:220:1::1'));
    expect(await checkHost('hooks.example.com')).toBeUndefined();
  });
});

describe('connect-time refusal', () => {
  it.each([
    ['a loopback IP literal', (port: number) => `http://127.0.0.1:${port}/ip`, 'loopback'],
    ['a name that resolves to loopback', (port: number) => `http://localhost:${port}/name`, 'loopback'],
  ])('refuses %s created while allowed, and no request reaches the receiver', async (_what, urlOf, kind) => {
    const shop = await createWorkspace(t.app);
    // As if created while WEBHOOK_ALLOW_PRIVATE was true, or before its name was rebound.
    const id = uuidv7();
    await insertEndpoint(t.deps.db, {
      workspaceId: shop.id,
      id,
      url: urlOf(rx.port),
      events: ['*'],
      description: null,
      secretCiphertext: sealSecret(generateSecret(), await t.deps.secrets.signingKey()),
      createdAt: new Date(),
    });
    await emit(t.deps, shop.id, 'task.created', { task: { id: 't-1' } });
    await worker.runNow('outbox-relay');
    const [delivery] = await waitForDeliveries(t.app, shop.key, id, (d) => d[0]?.status === 'failed');
    expect(delivery!.last_status_code).toBeNull();
    expect(delivery!.last_error).toMatch(/^refused: /);
    expect(delivery!.last_error).toContain(kind);
    expect(rx.received).toHaveLength(0);
  });
});

describe('unreadable secret', () => {
  it('fails at once, without sending, when the secret was sealed under another SECRET_KEY', async () => {
    const shop = await createWorkspace(t.app);
    const id = uuidv7();
    await insertEndpoint(t.deps.db, {
      workspaceId: shop.id,
      id,
      url: 'https://93.184.216.34/never',
      events: ['*'],
      description: null,
      secretCiphertext: sealSecret(generateSecret(), Buffer.from('another-secret-key-0123456789abcdef')),
      createdAt: new Date(),
    });
    await emit(t.deps, shop.id, 'task.created', { task: { id: 't-2' } });
    await worker.runNow('outbox-relay');
    const [delivery] = await waitForDeliveries(t.app, shop.key, id, (d) => d[0]?.status === 'failed');
    expect(delivery).toMatchObject({ attempts: 1, last_status_code: null });
    expect(delivery!.last_error).toContain('cannot be decrypted');
    expect(delivery!.attempt_log[0]!.duration_ms).toBe(0);
  });
});
