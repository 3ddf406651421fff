import Type, { type Static, type TSchema } from 'typebox';

/** RFC 9457 problem details, as every error answer carries them. */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'A URI naming the kind of problem.' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String({ description: 'What went wrong, for people.' }),
    code: Type.String({ description: 'A stable machine-readable name of the problem.' }),
    instance: Type.Optional(Type.String({ description: 'The request id, to find the request in the logs.' })),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          path: Type.String({ description: 'JSON Pointer to the offending value, e.g. /body/customer/id.' }),
          message: Type.String(),
        }),
      ),
    ),
  },
  {
    $id: 'Problem',
    examples: [
      {
        type: 'urn:posvenda:problem:validation_failed',
        title: 'Bad Request',
        status: 400,
        detail: 'The request is not valid: 1 problem',
        code: 'validation_failed',
        errors: [{ path: '/body/name', message: 'must have required property name' }],
      },
    ],
  },
);
export type ProblemBody = Static<typeof Problem>;

const ProblemRef = Type.Ref('Problem');

/** Problem answers for the given statuses, for a route's `response` schema. */
export function problems(...statuses: readonly number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((status) => [status, ProblemRef]));
}

/** The answers every authenticated /v1 route may give besides its own. */
export const AUTH_PROBLEMS = [400, 401, 403, 429, 503] as const;

/**
 * A route schema key saying the body may be left out (the route fills in `{}` before validation):
 * the OpenAPI document then marks its request body optional (see swagger.ts).
 */
export const OPTIONAL_BODY = 'x-optional-body';

/** `?limit=&cursor=` for list routes. */
export const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Page size, at most 500.' }),
    cursor: Type.Optional(
      Type.String({ maxLength: 512, description: 'The `next_cursor` of the previous page; opaque.' }),
    ),
  },
  { additionalProperties: false },
);

/** `{ data, next_cursor }` around a list of items. */
export function ListOf<T extends TSchema>(item: T) {
  return Type.Object({
    data: Type.Array(item),
    next_cursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as `cursor` to get the next page; null on the last page.',
    }),
  });
}

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const Timestamp = Type.String({ format: 'date-time', examples: ['2026-11-20T13:00:00.000Z'] });
