import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

const COMMON: Options = {
  // Every problem in one answer, so clients fix a request in one round trip. Bodies are
  // capped at 1 MiB and the answer at MAX_FIELD_ERRORS entries, which bounds the cost.
  allErrors: true,
  removeAdditional: false,
  useDefaults: true,
  strict: false,
};

function ajvWith(options: Options, externalSchemas: Record<string, unknown>): Ajv {
  const ajv = new Ajv({ ...COMMON, ...options });
  addFormats.default(ajv);
  for (const schema of Object.values(externalSchemas)) ajv.addSchema(schema as object);
  return ajv;
}

/**
 * Builds the request validators. Query strings, params and headers arrive as text, so they
 * are coerced (`?limit=10`). Bodies are JSON and are not: coercion would turn `null` into 0
 * or `"5"` into 5 silently, and a client sending the wrong type should hear about it.
 * Given to Fastify as its validator factory, so plugins that add shared schemas (which get
 * a validator of their own) validate the same way.
 */
export function buildValidator(
  externalSchemas: Record<string, unknown> = {},
): FastifySchemaCompiler<unknown> {
  const coercing = ajvWith({ coerceTypes: 'array' }, externalSchemas);
  const exact = ajvWith({ coerceTypes: false }, externalSchemas);
  return ({ schema, httpPart }) => (httpPart === 'body' ? exact : coercing).compile(schema as object);
}
