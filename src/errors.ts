/** One field-level problem in a request, for the `errors` list of a problem+json answer. */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

/**
 * The one error type services throw for expected failures; the HTTP error handler turns it
 * into an RFC 9457 problem. `code` is a stable machine-readable name, `detail` is for people.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly detail: string,
    readonly errors?: readonly FieldError[],
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(detail);
    this.name = 'AppError';
  }

  /** Fastify and its plugins read `statusCode`. */
  get statusCode(): number {
    return this.status;
  }
}

export const notFound = (what: string): AppError => new AppError('not_found', 404, `${what} not found`);

export const conflict = (code: string, detail: string): AppError => new AppError(code, 409, detail);

export const unprocessable = (detail: string, errors?: readonly FieldError[]): AppError =>
  new AppError('unprocessable', 422, detail, errors);

export const badRequest = (code: string, detail: string, errors?: readonly FieldError[]): AppError =>
  new AppError(code, 400, detail, errors);

/** Throws a 422 listing every problem when there is any: `subject` says what was checked ("The playbook"). */
export function rejectIfAny(subject: string, errors: readonly FieldError[]): void {
  if (errors.length > 0) {
    throw unprocessable(
      `${subject} is not valid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
      errors,
    );
  }
}
