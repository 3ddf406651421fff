import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import type { Database } from '../../src/db/client.js';
import { call } from './app.js';
import { waitFor } from './process.js';

/** One message the test SMTP server accepted, with its raw source decoded from quoted-printable. */
export interface CapturedMail {
  readonly to: string[];
  readonly raw: string;
  /** The raw source with quoted-printable soft breaks and escapes undone, for assertions. */
  readonly decoded: string;
  header(name: string): string | undefined;
}

export interface TestSmtp {
  readonly port: number;
  readonly url: string;
  readonly messages: CapturedMail[];
  /** How many RCPT TO each address got, accepted or not. */
  readonly rcptCount: Map<string, number>;
  close(): Promise<void>;
}

function decodeQuotedPrintable(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

function headerOf(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

/**
 * A real SMTP server on 127.0.0.1 (random port). Recipients decide how it answers:
 * `reject…@` → 550 at RCPT; `later…@` → 451 for the first two tries, then accepted;
 * `busy…@` → 451 every time.
 */
export async function startSmtp(options: { readonly delayMs?: number } = {}): Promise<TestSmtp> {
  const messages: CapturedMail[] = [];
  const rcptCount = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const seen = (rcptCount.get(address.address) ?? 0) + 1;
      rcptCount.set(address.address, seen);
      if (address.address.startsWith('reject')) {
        const error = Object.assign(new Error('5.1.1 mailbox unavailable'), { responseCode: 550 });
        return callback(error);
      }
      if (address.address.startsWith('busy') || (address.address.startsWith('later') && seen <= 2)) {
        const error = Object.assign(new Error('4.7.1 try again later'), { responseCode: 451 });
        return callback(error);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const to = session.envelope.rcptTo.map((r) => r.address);
        // A slow server widens the window between accepting a message and the sender hearing so.
        setTimeout(() => {
          messages.push({
            to,
            raw,
            decoded: decodeQuotedPrintable(raw),
            header: (name) => headerOf(raw, name),
          });
          callback();
        }, options.delayMs ?? 0);
      });
    },
  });
  // A client killed mid-session (the crash tests SIGKILL a sending worker) resets its connection;
  // smtp-server reports that as an `error` event on the server, which unheard is an uncaught
  // exception in the test process. The session is simply over, as on a real server.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    rcptCount,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Deletes the seed playbooks of a workspace, so only the test's own plan touchpoints. */
export async function clearPlaybooks(app: FastifyInstance, key: string): Promise<void> {
  const list = await call(app, 'GET', '/v1/playbooks?limit=500', key);
  for (const playbook of list.json().data as { key: string }[]) {
    await call(app, 'DELETE', `/v1/playbooks/${playbook.key}`, key);
  }
}

/** Creates something through the API and fails loudly when it is refused. */
export async function create(app: FastifyInstance, key: string, url: string, body: unknown): Promise<void> {
  const response = await call(app, 'POST', url, key, body);
  if (response.statusCode !== 201) throw new Error(`POST ${url} → ${response.statusCode}: ${response.body}`);
}

/** The touchpoint row as the dispatcher left it. */
export function touchpointRow(db: Database, id: string) {
  return db.selectFrom('touchpoints').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Waits until the touchpoint's status is one of `statuses`; returns the row. */
export async function waitForStatus(
  db: Database,
  id: string,
  statuses: readonly string[],
  timeoutMs = 15_000,
) {
  let last = '';
  try {
    return await waitFor(
      async () => {
        const row = await touchpointRow(db, id);
        last = `${row.status}(${row.statusReason ?? ''}) due ${row.dueAt.toISOString()}`;
        return statuses.includes(row.status) ? row : undefined;
      },
      timeoutMs,
      `touchpoint ${id} to become ${statuses.join('|')}`,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last seen ${last}`);
  }
}

/** Outbox rows about a touchpoint, oldest first. */
export async function outboxFor(db: Database, touchpointId: string) {
  const rows = await db.selectFrom('outbox').selectAll().orderBy('seq').execute();
  return rows.filter((row) => (row.data as { touchpoint?: { id?: string } }).touchpoint?.id === touchpointId);
}
