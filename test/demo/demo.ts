// `npm run demo`: posts six months of a small shop's life — a few thousand customers buying,
// receiving, using, answering surveys, opening tickets, cancelling — through the public API of a
// running service, then prints the KPI summary. Deterministic: the same seed and end date give
// the same events (and the same ids, so a second run is all duplicates).
//
//   PUBLIC_URL=http://localhost:3000 POSVENDA_API_KEY=<admin or events:write+read key> npm run demo
//   npm run demo -- --url http://localhost:3000 --key <key> --customers 3000 --seed 7 --end 2026-12-01
//
// --end (YYYY-MM-DD, default today, UTC): the six months end at the start of that day.

import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    key: { type: 'string' },
    customers: { type: 'string' },
    seed: { type: 'string' },
    end: { type: 'string' },
  },
});

const BASE = (values.url ?? process.env.PUBLIC_URL ?? 'http://localhost:3000').replace(/\/$/, '');
const KEY = values.key ?? process.env.POSVENDA_API_KEY ?? process.env.POSVENDA_ADMIN_KEY;
const CUSTOMERS = Number(values.customers ?? 2500);
const SEED = Number(values.seed ?? 42);
const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;
// The start of the end day (UTC): the same all day long, so a rerun posts the same events.
const END = values.end ? new Date(`${values.end}T00:00:00Z`).getTime() : new Date().setUTCHours(0, 0, 0, 0);
const START = END - 182 * DAY;

/** mulberry32: a small seeded PRNG, so the shop is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);
const chance = (p: number) => random() < p;
const between = (min: number, max: number) => min + random() * (max - min);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const FIRST = [
  'Ana',
  'Bruno',
  'Carla',
  'Diego',
  'Elisa',
  'Fábio',
  'Gabriela',
  'Hugo',
  'Isabela',
  'João',
  'Larissa',
];
const LAST = ['Souza', 'Silva', 'Oliveira', 'Santos', 'Lima', 'Costa', 'Pereira', 'Almeida', 'Ferreira'];
const CATEGORIES = [
  { category: 'notebooks', price: [2500, 6000] },
  { category: 'perifericos', price: [80, 600] },
  { category: 'software', price: [300, 1500] },
  { category: 'acessorios', price: [40, 250] },
  { category: 'servicos', price: [200, 900] },
] as const;
const SEGMENTS = [
  { segment: 'smb', weight: 0.6, spend: 1 },
  { segment: 'mid', weight: 0.3, spend: 2 },
  { segment: 'enterprise', weight: 0.1, spend: 5 },
] as const;

interface DemoEvent {
  id: string;
  type: string;
  occurred_at: string;
  customer: Record<string, unknown>;
  properties: Record<string, unknown>;
}

const events: DemoEvent[] = [];
let sequence = 0;

function emit(
  at: number,
  type: string,
  customer: Record<string, unknown>,
  properties: Record<string, unknown> = {},
) {
  if (at > END) return;
  events.push({
    id: `demo-${SEED}-${++sequence}`,
    type,
    occurred_at: new Date(Math.round(at)).toISOString(),
    customer,
    properties,
  });
}

function purchase(
  at: number,
  customer: Record<string, unknown>,
  spend: number,
  orders: number,
  category?: string,
) {
  const line = category ? CATEGORIES.find((c) => c.category === category)! : pick(CATEGORIES);
  const price = Math.round(between(line.price[0], line.price[1]) * spend * 100) / 100;
  const quantity = line.category === 'acessorios' ? 1 + Math.floor(random() * 3) : 1;
  const amount = Math.round(price * quantity * 100) / 100;
  const orderId = `${customer.id}-${orders}`;
  emit(at, 'purchase', customer, {
    amount,
    currency: 'BRL',
    order_id: orderId,
    products: [
      { sku: `${line.category}-${Math.floor(random() * 20)}`, category: line.category, quantity, price },
    ],
  });
  emit(at + between(2, 6) * DAY, 'delivery', customer, { order_id: orderId, amount, currency: 'BRL' });
  return line.category;
}

let tickets = 0;
function ticket(at: number, customer: Record<string, unknown>, segment: string) {
  const id = `T-${SEED}-${++tickets}`;
  const category = pick(['support', 'question', 'exchange', 'return', 'complaint', 'praise'] as const);
  const channel = pick(['whatsapp', 'email', 'phone'] as const);
  const props = { ticket_id: id, category, channel };
  emit(at, 'support_ticket.opened', customer, props);
  // Bigger accounts get answered sooner; a few tickets wait days.
  const firstResponse =
    at + (segment === 'enterprise' ? between(0.2, 4) : between(0.5, chance(0.1) ? 60 : 20)) * HOUR;
  emit(firstResponse, 'support_ticket.first_response', customer, props);
  const resolved = firstResponse + between(1, chance(0.2) ? 96 : 30) * HOUR;
  emit(resolved, 'support_ticket.resolved', customer, props);
  if (chance(0.18)) {
    const reopened = resolved + between(12, 72) * HOUR;
    emit(reopened, 'support_ticket.reopened', customer, props);
    emit(reopened + between(4, 48) * HOUR, 'support_ticket.resolved', customer, props);
  }
  if (chance(0.5))
    emit(resolved + between(1, 6) * HOUR, 'survey_response', customer, { survey: 'csat', score: csat() });
  if (chance(0.35))
    emit(resolved + between(1, 6) * HOUR, 'survey_response', customer, { survey: 'ces', score: ces() });
}

const csat = () => (chance(0.72) ? pick([4, 5, 5]) : pick([1, 2, 3]));
const ces = () => (chance(0.65) ? pick([5, 6, 7]) : pick([2, 3, 4]));

for (let i = 1; i <= CUSTOMERS; i++) {
  const seg = random() < SEGMENTS[0].weight ? SEGMENTS[0] : random() < 0.75 ? SEGMENTS[1] : SEGMENTS[2];
  const first = pick(FIRST);
  const last = pick(LAST);
  const customer = {
    id: `demo-${SEED}-c${i}`,
    name: `${first} ${last}`,
    email: `${first
      .toLowerCase()
      .normalize('NFD')
      .replace(/[^a-z]/g, '')}.${last.toLowerCase()}.${i}@example.com`,
    locale: 'pt-BR',
    timezone: 'America/Sao_Paulo',
    segment: seg.segment,
    attributes: { plan: pick(['basic', 'basic', 'pro']) },
  };
  // Customers arrive over the six months, more of them lately (the shop is growing).
  const joined = START + Math.sqrt(random()) * 170 * DAY;
  let orders = 0;
  const firstCategory = purchase(joined, customer, seg.spend, ++orders);
  emit(joined + between(3, 8) * DAY, 'first_use', customer, { feature: 'dashboard' });
  const loyal = random();
  let at = joined;
  let cancelled = false;
  while (at < END && !cancelled) {
    at += between(4, 20) * DAY;
    emit(at, 'activity', customer, { action: 'login' });
    if (chance(0.25))
      emit(at, 'usage', customer, { metric: 'seats', value: Math.floor(between(2, 10)), limit: 10 });
    if (chance(0.09 + loyal * 0.12)) {
      purchase(
        at + between(0, 2) * DAY,
        customer,
        seg.spend,
        ++orders,
        chance(0.35) ? undefined : firstCategory,
      );
    }
    if (chance(0.04)) ticket(at + between(0, 24) * HOUR, customer, seg.segment);
    if (chance(0.05)) {
      // Loyal customers recommend; the rest are lukewarm or detractors.
      const score =
        loyal > 0.55 ? pick([9, 10, 10, 8]) : loyal > 0.25 ? pick([7, 8, 6, 9]) : pick([2, 4, 5, 6, 3]);
      emit(at + 6 * HOUR, 'survey_response', customer, { survey: 'nps', score });
    }
    if (loyal < 0.25 && chance(0.06)) {
      emit(at + 12 * HOUR, 'cancellation', customer, { reason: pick(['price', 'support', 'no_use']) });
      cancelled = true;
    }
  }
}

events.sort((a, b) => a.occurred_at.localeCompare(b.occurred_at) || a.id.localeCompare(b.id));

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${BASE}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
}

async function main(): Promise<void> {
  if (!KEY) {
    process.stderr.write(
      'Set POSVENDA_API_KEY (or pass --key): an admin key, or one with events:write and read.\n',
    );
    process.exit(2);
  }
  process.stdout.write(
    `posting ${events.length.toLocaleString()} events of ${CUSTOMERS.toLocaleString()} customers ` +
      `(${new Date(START).toISOString().slice(0, 10)} → ${new Date(END).toISOString().slice(0, 10)}) to ${BASE}…\n`,
  );
  const counts: Record<string, number> = {};
  for (let i = 0; i < events.length; i += 500) {
    const response = await api('POST', '/v1/events/batch', { events: events.slice(i, i + 500) });
    if (response.status !== 200)
      throw new Error(`batch answered ${response.status}: ${await response.text()}`);
    const { results } = (await response.json()) as { results: { status: string; error?: unknown }[] };
    for (const result of results) counts[result.status] = (counts[result.status] ?? 0) + 1;
    const rejected = results.find((r) => r.status === 'rejected');
    if (rejected) process.stderr.write(`rejected: ${JSON.stringify(rejected)}\n`);
  }
  process.stdout.write(`${JSON.stringify(counts)}\n`);

  const windows = [
    ['last 30 days', ''],
    [
      'the 90 days before --end',
      `?from=${new Date(END - 90 * DAY).toISOString()}&to=${new Date(END).toISOString()}`,
    ],
  ] as const;
  for (const [label, query] of windows) {
    const response = await api('GET', `/v1/metrics/summary${query}`);
    if (response.status !== 200)
      throw new Error(`summary answered ${response.status}: ${await response.text()}`);
    const summary = (await response.json()) as {
      currency: string;
      data: {
        key: string;
        value: number | null;
        unit: string;
        target: { op: string; value: number; basis: string } | null;
        status: string;
        previous: number | null;
      }[];
    };
    const show = (value: number | null) => (value === null ? '—' : value.toLocaleString('en-US'));
    const rows = summary.data.map((e) => [
      e.key,
      show(e.value),
      e.unit === 'currency' ? summary.currency : e.unit,
      e.target
        ? `${e.target.op === 'gte' ? '≥' : '≤'} ${e.target.value}${e.target.basis === 'change_percent' ? ' % a quarter' : ''}`
        : '',
      e.status,
      show(e.previous),
    ]);
    const header = ['kpi', 'value', 'unit', 'target', 'status', 'previous'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const line = (cells: readonly string[]) =>
      `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
    process.stdout.write(
      `\nKPI summary — ${label}\n\n${line(header)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n`,
    );
    for (const row of rows) process.stdout.write(`${line(row)}\n`);
  }
}

await main();
