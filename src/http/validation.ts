import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

const COMMON: Options = {
  // Every problem in one answer, so clients fix a request in one round trip. Bodies are
  // capped at 1 MiB and the answer at MAX_FIELD_ERRORS entries, which bounds the cost.
  allErrors: true,
  removeAdditional: false,
  useDefaults: true,
  strict: false,
};

/**
 * Query strings, params and headers arrive as text, so they are coerced (`?limit=10`).
 * Bodies are JSON and are not: coercion would turn `null` into `0` or `"5"` into `5`
 * silently, and a client sending the wrong type should hear about it.
 */
export function registerValidation(app: FastifyInstance): void {
  const coercing = new Ajv({ ...COMMON, coerceTypes: 'array' });
  const exact = new Ajv({ ...COMMON, coerceTypes: false });
  addFormats.default(coercing);
  addFormats.default(exact);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? exact : coercing).compile(schema as object),
  );
}
