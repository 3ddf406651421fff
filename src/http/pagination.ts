import { badRequest } from '../errors.js';

/**
 * Cursors are opaque to clients: base64url JSON of the last row's sort key. Decoding a
 * cursor that was not ours is a 400, not a 500.
 */
export function encodeCursor(key: Readonly<Record<string, string | number>>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<K extends string>(
  cursor: string | undefined,
  fields: readonly K[],
): Record<K, string> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null) {
      const record = parsed as Record<string, unknown>;
      if (fields.every((field) => typeof record[field] === 'string' || typeof record[field] === 'number')) {
        return Object.fromEntries(fields.map((field) => [field, String(record[field])])) as Record<K, string>;
      }
    }
  } catch {
    // fall through to the 400 below
  }
  throw badRequest('invalid_cursor', 'cursor is not one this API returned', [
    { path: '/querystring/cursor', message: 'not a valid cursor' },
  ]);
}

/** Splits a page fetched with `limit + 1` rows into the page and its next cursor. */
export function page<T>(
  rows: readonly T[],
  limit: number,
  keyOf: (row: T) => Record<string, string | number>,
) {
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  return { data, next_cursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
