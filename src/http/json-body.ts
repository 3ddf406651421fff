import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';

/** True when a parsed JSON value holds the NUL character in any string or key. */
function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([key, item]) => key.includes('\u0000') || hasNul(item));
  }
  return false;
}

/**
 * JSON bodies through Fastify's own parser (prototype-poisoning checks included), refusing
 * the NUL character: Postgres cannot store it in text or jsonb, so it would otherwise surface
 * as a 500 after validation. The raw text is searched first, so bodies without the escape
 * cost one `indexOf`.
 */
export function registerJsonBody(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, raw, done) => {
    const body = typeof raw === 'string' ? raw : raw.toString('utf8');
    parse(request, body, (error, value) => {
      if (error) return done(error, undefined);
      if (body.includes('\\u0000') && hasNul(value)) {
        return done(
          new AppError('invalid_character', 400, 'JSON strings may not contain the NUL character (\\u0000).'),
          undefined,
        );
      }
      done(null, value);
    });
  });
}
