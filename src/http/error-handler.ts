import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isConnectionError } from '../db/client.js';
import { AppError, type FieldError } from '../errors.js';
import { isRedisUnavailable } from '../queue/redis.js';
import type { ProblemBody } from './schemas.js';

const PROBLEM_TYPE = 'application/problem+json';

function problem(
  status: number,
  code: string,
  detail: string,
  requestId: string,
  errors?: readonly FieldError[],
) {
  const body: ProblemBody = {
    type: `urn:posvenda:problem:${code}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    code,
    instance: `urn:posvenda:request:${requestId}`,
  };
  if (errors && errors.length > 0) body.errors = [...errors];
  return body;
}

interface AjvLikeError {
  readonly instancePath?: string;
  readonly message?: string;
  readonly keyword?: string;
  readonly params?: Record<string, unknown>;
}

const MAX_FIELD_ERRORS = 100;

/** Turns Ajv errors into `{ path, message }` with JSON Pointer paths that include the part of the request. */
function fieldErrors(validation: readonly AjvLikeError[], context: string | undefined): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const error of validation) {
    let path = `/${context ?? 'body'}${error.instancePath ?? ''}`;
    let message = error.message ?? 'is not valid';
    const params = error.params ?? {};
    if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
      path += `/${params.missingProperty}`;
      message = 'is required';
    } else if (error.keyword === 'additionalProperty' || error.keyword === 'additionalProperties') {
      if (typeof params.additionalProperty === 'string') path += `/${params.additionalProperty}`;
      message = 'is not a known field';
    } else if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) {
      message = `must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    const key = `${path}\n${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, message });
    if (out.length === MAX_FIELD_ERRORS) break;
  }
  return out;
}

function send(reply: FastifyReply, body: ProblemBody): FastifyReply {
  // Serialised by hand: a route's own response schema must not strip problem fields.
  return reply.code(body.status).type(PROBLEM_TYPE).serializer(JSON.stringify).send(body);
}

/** The single place where errors become HTTP answers: RFC 9457 problem+json, 5xx details hidden. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(
    (error: FastifyError | AppError | Error, request: FastifyRequest, reply: FastifyReply) => {
      const id = request.id;
      if (error instanceof AppError) {
        if (error.headers) reply.headers(error.headers);
        if (error.status >= 500) request.log.error({ err: error }, 'service error');
        return send(reply, problem(error.status, error.code, error.detail, id, error.errors));
      }
      const fe = error as FastifyError & { validation?: AjvLikeError[]; validationContext?: string };
      if (Array.isArray(fe.validation)) {
        const errors = fieldErrors(fe.validation, fe.validationContext);
        const detail = `The request is not valid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`;
        return send(reply, problem(400, 'validation_failed', detail, id, errors));
      }
      if (isConnectionError(error)) {
        request.log.error({ err: error }, 'postgres unavailable');
        reply.header('retry-after', '5');
        return send(
          reply,
          problem(503, 'database_unavailable', 'The database is unavailable; retry later.', id),
        );
      }
      if (isRedisUnavailable(error)) {
        request.log.error({ err: error }, 'redis unavailable');
        reply.header('retry-after', '5');
        return send(
          reply,
          problem(503, 'queue_unavailable', 'The queue store is unavailable; retry later.', id),
        );
      }
      const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
      if (status === 503 && fe.code === 'FST_UNDER_PRESSURE') {
        return send(reply, problem(503, 'overloaded', 'The service is overloaded; retry later.', id));
      }
      if (status >= 400 && status < 500) {
        return send(
          reply,
          problem(status, clientErrorCode(status, fe.code), clientErrorDetail(status, fe), id),
        );
      }
      request.log.error({ err: error }, 'unhandled error');
      return send(
        reply,
        problem(
          500,
          'internal_error',
          `An internal error occurred; it was logged with request id ${id}.`,
          id,
        ),
      );
    },
  );

  app.setNotFoundHandler((request, reply) =>
    send(
      reply,
      problem(404, 'route_not_found', `No route ${request.method} ${request.url.split('?')[0]}`, request.id),
    ),
  );
}

function clientErrorCode(status: number, fastifyCode: string | undefined): string {
  switch (fastifyCode) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'malformed_json';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported_media_type';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'payload_too_large';
  }
  if (status === 413) return 'payload_too_large';
  if (status === 415) return 'unsupported_media_type';
  return 'bad_request';
}

function clientErrorDetail(status: number, error: FastifyError): string {
  if (status === 413) return 'The request body is larger than 1 MiB.';
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return `The request body is not valid JSON: ${error.message}`;
  }
  if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
    return 'The request body is empty but its content type is JSON.';
  return error.message;
}
