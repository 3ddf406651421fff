import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { forbiddenRange, guardedLookup, hostOf } from './address-guard.js';

export interface WebhookRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
  /** WEBHOOK_ALLOW_PRIVATE: skip the address guard. */
  readonly allowPrivate: boolean;
}

/** What one HTTP attempt came to: a status code when the receiver answered, an error otherwise. */
export interface WebhookResponse {
  readonly statusCode: number | null;
  readonly durationMs: number;
  readonly error: string | null;
  readonly excerpt: string | null;
}

const EXCERPT_BYTES = 1024;

/**
 * The receiver's bytes as text Postgres can store: a `text` column refuses NUL, and failing to
 * record the attempt would leave the delivery in `sending`, to be sent again and again.
 */
const storable = (text: string): string => text.replaceAll('\u0000', '\ufffd');

/**
 * POSTs one webhook. Redirects are not followed (a 3xx is an answer like any other, and a
 * failure); the whole exchange, body included, is bounded by `timeoutMs`. With the guard on,
 * the addresses connected to are checked (see guardedLookup); literal IP hosts, which are
 * connected to without a lookup, are checked here.
 */
export function postWebhook(request: WebhookRequest): Promise<WebhookResponse> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const url = new URL(request.url);
  if (!request.allowPrivate) {
    const range = forbiddenRange(hostOf(url));
    if (range && range !== 'unparsable') {
      const error = `refused: ${hostOf(url)} is a ${range} address`;
      return Promise.resolve({ statusCode: null, durationMs: 0, error, excerpt: null });
    }
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: Omit<WebhookResponse, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...outcome, durationMs: elapsed() });
    };
    const req = client.request(url, {
      method: 'POST',
      headers: {
        ...request.headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(request.body)),
        'user-agent': 'Posvenda-Webhooks/1',
      },
      ...(request.allowPrivate ? {} : { lookup: guardedLookup }),
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ statusCode: null, error: `timed out after ${request.timeoutMs} ms`, excerpt: null });
    }, request.timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      const refused = error.code === 'EFORBIDDENADDRESS';
      finish({
        statusCode: null,
        error: storable(refused ? `refused: ${error.message}` : messageOf(error)),
        excerpt: null,
      });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        // Keep only the beginning; the rest is read and dropped so the socket can be reused.
        if (size < EXCERPT_BYTES) chunks.push(chunk.subarray(0, EXCERPT_BYTES - size));
        size += chunk.length;
      });
      const done = () =>
        finish({
          statusCode: res.statusCode ?? null,
          error: null,
          excerpt: chunks.length > 0 ? storable(Buffer.concat(chunks).toString('utf8')) : null,
        });
      res.on('end', done);
      res.on('error', done);
      res.on('close', done);
    });
    req.end(request.body);
  });
}

/**
 * What went wrong, never blank: a name with several addresses (A and AAAA) that all fail to
 * connect gives an AggregateError whose own message is empty; its parts say what happened.
 */
function messageOf(error: NodeJS.ErrnoException): string {
  if (error.message) return error.message;
  const parts = error instanceof AggregateError ? error.errors : [];
  const messages = parts.map((part: unknown) => (part instanceof Error ? part.message : String(part)));
  return messages.filter(Boolean).join('; ') || error.code || 'connection failed';
}
