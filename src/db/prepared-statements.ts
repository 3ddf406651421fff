import type pg from 'pg';

/**
 * Named prepared statements for the queries Kysely sends. node-postgres sends every query
 * unnamed, so Postgres parses and plans it on every call; for the short statements of the
 * dispatch and ingest paths planning costs as much as running them. Named, a statement is
 * parsed once per connection and Postgres may reuse its plan (`plan_cache_mode` decides
 * between custom and generic plans, as for any prepared statement).
 *
 * Only single data statements with a bounded number of parameters are named, and only the
 * first MAX_NAMED distinct texts of the process: texts that grow with their input (long
 * `IN` lists, multi-row inserts) would otherwise fill every connection with one-off
 * statements.
 */
const MAX_NAMED = 400;
const MAX_PARAMETERS = 64;
const MAX_TEXT_LENGTH = 16_000;
const DATA_STATEMENT = /^\s*(select|insert|update|delete|with)\b/i;
/** 0A000 "cached plan must not change result type": a table changed under a named statement. */
const FEATURE_NOT_SUPPORTED = '0A000';

const names = new Map<string, string>();

/** The statement name for a query text, or undefined when it is sent unnamed. */
export function statementName(text: string, parameterCount: number): string | undefined {
  const known = names.get(text);
  if (known !== undefined) return known;
  if (
    names.size >= MAX_NAMED ||
    parameterCount > MAX_PARAMETERS ||
    text.length > MAX_TEXT_LENGTH ||
    text.includes(';') ||
    !DATA_STATEMENT.test(text)
  )
    return undefined;
  const name = `pv${names.size}`;
  names.set(text, name);
  return name;
}

type QueryFn = (...args: unknown[]) => unknown;

/**
 * Makes a pool client send eligible `query(text, values)` calls as named statements (called
 * once per client, from the pool's `connect` event). A statement whose table changed shape (a
 * migration while running) fails once with 0A000; the client then switches to fresh names, so
 * the next call parses again.
 */
export function prepareStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as QueryFn;
  let generation = 0;
  (client as unknown as { query: QueryFn }).query = (...args: unknown[]) => {
    const [text, values, callback] = args;
    if (typeof text !== 'string' || !Array.isArray(values) || callback !== undefined) return query(...args);
    const name = statementName(text, values.length);
    if (name === undefined) return query(...args);
    const result = query({
      name: generation === 0 ? name : `${name}g${generation}`,
      text,
      values,
    }) as Promise<unknown>;
    return result.catch((error: unknown) => {
      if ((error as { code?: string }).code === FEATURE_NOT_SUPPORTED) generation++;
      throw error;
    });
  };
}
