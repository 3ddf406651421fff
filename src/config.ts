import Type, { type Static } from 'typebox';
import Value from 'typebox/value';

/** The environment variables Posvenda reads (API.md "Environment"), with their defaults. */
export const EnvSchema = Type.Object({
  DATABASE_URL: Type.String({
    pattern: '^postgres(ql)?://',
    default: 'postgres://postgres@127.0.0.1:5432/posvenda',
  }),
  REDIS_URL: Type.String({ pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  POSVENDA_ADMIN_KEY: Type.Optional(Type.String({ minLength: 16 })),
  PUBLIC_URL: Type.String({ pattern: '^https?://[^\\s]+$', default: 'http://localhost:3000' }),
  SECRET_KEY: Type.Optional(Type.String({ minLength: 32 })),
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  EMAIL_FROM: Type.String({ minLength: 3, default: 'Posvenda <no-reply@localhost>' }),
  WEBHOOK_ALLOW_PRIVATE: Type.Boolean({ default: false }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  RATE_LIMIT_RPS: Type.Integer({ minimum: 0, default: 1000 }),
  WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 10000, default: 50 }),
  // Not in API.md's table: our own additions, same style.
  QUEUE_PREFIX: Type.String({ pattern: '^\\{[A-Za-z0-9:_-]+\\}$', default: '{posvenda}' }),
  LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 1000 }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 25000 }),
  API_KEY_CACHE_TTL_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 5000 }),
  DISPATCH_HORIZON_MS: Type.Integer({ minimum: 1000, maximum: 86_400_000, default: 300_000 }),
  DISPATCH_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 8 }),
  DISPATCH_BACKOFF_MS: Type.Integer({ minimum: 1, maximum: 3_600_000, default: 30_000 }),
  OUTBOX_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 7 }),
  WEBHOOK_DELIVERY_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 30 }),
});

type Env = Static<typeof EnvSchema>;

/** Validated, frozen configuration: the only view of the environment the rest of the code gets. */
export interface Config {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly port: number;
  readonly host: string;
  readonly adminKey: string | undefined;
  readonly publicUrl: string;
  readonly secretKey: string | undefined;
  readonly smtpUrl: string | undefined;
  readonly emailFrom: string;
  readonly webhookAllowPrivate: boolean;
  readonly logLevel: string;
  readonly rateLimitRps: number;
  readonly workerConcurrency: number;
  readonly queuePrefix: string;
  readonly loadShedMaxEventLoopDelayMs: number;
  readonly shutdownTimeoutMs: number;
  /** How long an authenticated key may be served from memory at most; 0 turns the cache off. */
  readonly apiKeyCacheTtlMs: number;
  /** How far ahead the pump hands due touchpoints to Redis; the rest stay rows in Postgres. */
  readonly dispatchHorizonMs: number;
  /** Delivery attempts per touchpoint for retryable failures (SMTP 4xx, connection errors). */
  readonly dispatchAttempts: number;
  /** The first retry's delay; each next one doubles it. */
  readonly dispatchBackoffMs: number;
  /** How long a dispatched outbox event is kept once no webhook delivery needs it. */
  readonly outboxRetentionDays: number;
  /** How long a finished webhook delivery (and its attempts) stays in the delivery log. */
  readonly webhookDeliveryRetentionDays: number;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly errors: readonly string[] };

const HINTS: Partial<Record<keyof Env, string>> = {
  DATABASE_URL: 'a postgres:// URL',
  REDIS_URL: 'a redis:// or rediss:// URL',
  PORT: 'an integer from 0 to 65535',
  POSVENDA_ADMIN_KEY: 'at least 16 characters',
  PUBLIC_URL: 'an http(s):// URL',
  SECRET_KEY: 'at least 32 characters',
  SMTP_URL: 'an smtp:// or smtps:// URL',
  WEBHOOK_ALLOW_PRIVATE: 'true or false',
  LOG_LEVEL: 'one of fatal, error, warn, info, debug, trace, silent',
  RATE_LIMIT_RPS: 'a non-negative integer (0 turns the limit off)',
  WORKER_CONCURRENCY: 'an integer from 1 to 10000',
  QUEUE_PREFIX: 'a Redis Cluster hash tag such as {posvenda}',
  LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: 'a non-negative integer (0 turns load shedding off)',
  SHUTDOWN_TIMEOUT_MS: 'an integer of at least 100',
  API_KEY_CACHE_TTL_MS: 'an integer from 0 to 60000 (0 turns the key cache off)',
  DISPATCH_HORIZON_MS: 'an integer from 1000 to 86400000 (milliseconds)',
  DISPATCH_ATTEMPTS: 'an integer from 1 to 100',
  DISPATCH_BACKOFF_MS: 'an integer from 1 to 3600000 (milliseconds)',
  OUTBOX_RETENTION_DAYS: 'an integer from 1 to 3650 (days)',
  WEBHOOK_DELIVERY_RETENTION_DAYS: 'an integer from 1 to 3650 (days)',
};

/** Reads and validates the environment; returns every problem at once rather than the first. */
export function loadConfig(
  env: NodeJS.ProcessEnv | Readonly<Record<string, string | undefined>>,
): ConfigResult {
  const raw: Record<string, unknown> = {};
  for (const name of Object.keys(EnvSchema.properties)) {
    const value = env[name];
    // An empty variable means "not set", as in most twelve-factor tools.
    if (value !== undefined && value !== '') raw[name] = value;
  }
  // Default and Convert may change their input in place; keep `raw` for the messages.
  const converted = Value.Convert(EnvSchema, Value.Default(EnvSchema, { ...raw }));
  const errors = Value.Errors(EnvSchema, converted);
  if (errors.length > 0) {
    const messages = new Map<string, string>();
    for (const error of errors) {
      const name = error.instancePath.replace(/^\//, '') as keyof Env;
      if (!name || messages.has(name)) continue;
      const given = raw[name];
      messages.set(name, `${name}: must be ${HINTS[name] ?? error.message} (got ${JSON.stringify(given)})`);
    }
    return { ok: false, errors: [...messages.values()] };
  }
  const e = converted as Env;
  const config: Config = {
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    port: e.PORT,
    host: e.HOST,
    adminKey: e.POSVENDA_ADMIN_KEY,
    publicUrl: e.PUBLIC_URL.replace(/\/+$/, ''),
    secretKey: e.SECRET_KEY,
    smtpUrl: e.SMTP_URL,
    emailFrom: e.EMAIL_FROM,
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
    logLevel: e.LOG_LEVEL,
    rateLimitRps: e.RATE_LIMIT_RPS,
    workerConcurrency: e.WORKER_CONCURRENCY,
    queuePrefix: e.QUEUE_PREFIX,
    loadShedMaxEventLoopDelayMs: e.LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    apiKeyCacheTtlMs: e.API_KEY_CACHE_TTL_MS,
    dispatchHorizonMs: e.DISPATCH_HORIZON_MS,
    dispatchAttempts: e.DISPATCH_ATTEMPTS,
    dispatchBackoffMs: e.DISPATCH_BACKOFF_MS,
    outboxRetentionDays: e.OUTBOX_RETENTION_DAYS,
    webhookDeliveryRetentionDays: e.WEBHOOK_DELIVERY_RETENTION_DAYS,
  };
  return { ok: true, config: Object.freeze(config) };
}
