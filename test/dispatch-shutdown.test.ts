import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createWorkspace, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import {
  clearPlaybooks,
  create,
  startSmtp,
  type TestSmtp,
  touchpointRow,
  waitForStatus,
} from './helpers/dispatch.js';
import type { TouchpointItem } from './helpers/touchpoints.js';
import { startTestWorker, type TestWorker } from './helpers/worker.js';

// Friday 20 Nov 2026, 09:00 in São Paulo.
const START = '2026-11-20T12:00:00Z';

const clock = new TestClock(START);
let smtp: TestSmtp;
let t: TestApp;
let worker: TestWorker | undefined;
let shop: { id: string; key: string };

beforeAll(async () => {
  // A slow server and a pool of one connection: while the first email is in its DATA phase,
  // the second waits in the pool's queue.
  smtp = await startSmtp({ delayMs: 3000 });
  t = await startTestApp({
    clock,
    env: { SMTP_URL: `${smtp.url}?maxConnections=1`, DISPATCH_BACKOFF_MS: '20', DISPATCH_ATTEMPTS: '4' },
  });
  shop = await createWorkspace(t.app, { timezone: 'America/Sao_Paulo' });
  await clearPlaybooks(t.app, shop.key);
  await create(t.app, shop.key, '/v1/templates', {
    key: 'bye-mail',
    channel: 'email',
    locale: 'pt-BR',
    tone: 'informal',
    variants: [{ key: 'a', weight: 1, subject: 'Oi', text: 'Olá!' }],
  });
  await create(t.app, shop.key, '/v1/playbooks', {
    key: 'bye',
    name: 'bye',
    trigger: { event: 'custom.bye' },
    reentry: 'always',
    steps: [{ key: 'hello', after: 'PT1H', channel: 'email', template: 'bye-mail' }],
  });
});

afterAll(async () => {
  await worker?.close();
  await t?.close();
  await smtp?.close();
});

async function plan(n: number): Promise<TouchpointItem> {
  const response = await call(t.app, 'POST', '/v1/events', shop.key, {
    id: `e-${n}`,
    type: 'custom.bye',
    occurred_at: START,
    customer: {
      id: `c-${n}`,
      name: 'ana souza',
      email: `ana${n}@example.com`,
      timezone: 'America/Sao_Paulo',
    },
  });
  expect(response.statusCode, response.body).toBe(202);
  const tp = response.json().touchpoints[0] as TouchpointItem | undefined;
  if (!tp) throw new Error('no touchpoint');
  return tp;
}

describe('worker shutdown while emails are going out', () => {
  it('lets every send in flight finish before the SMTP pool closes: both sent, no failed attempt', async () => {
    const first = await plan(1);
    const second = await plan(2);
    worker = startTestWorker(t.deps);
    clock.set(first.due_at);
    await worker.runNow('dispatch-pump');
    // Both started (on a slow machine one may already be through: the close still comes mid-run).
    await waitForStatus(t.deps.db, first.id, ['sending', 'sent'], 30_000);
    await waitForStatus(t.deps.db, second.id, ['sending', 'sent'], 30_000);
    // What SIGTERM does: stop the worker host and the periodic tasks together.
    await worker.close();
    worker = undefined;
    for (const tp of [first, second]) {
      const row = await touchpointRow(t.deps.db, tp.id);
      expect(row, `${tp.id}: ${row.status}(${row.statusReason ?? ''})`).toMatchObject({
        status: 'sent',
        attempts: 1,
      });
      const detail = (await call(t.app, 'GET', `/v1/touchpoints/${tp.id}`, shop.key)).json();
      expect(detail.attempts.map((a: { status: string }) => a.status)).toEqual(['succeeded']);
    }
    expect(smtp.messages.map((m) => m.to[0]).sort()).toEqual(['ana1@example.com', 'ana2@example.com']);
  });
});
