// Command entry: `node dist/main.js api|worker|migrate|all`.
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { bootstrap } from './bootstrap.js';
import { type Config, loadConfig } from './config.js';
import { createDb, ensureDatabase } from './db/client.js';
import { migrateToLatest } from './db/migrate.js';
import { closeDeps, createDeps, type Deps } from './deps.js';
import { buildOpsApp } from './ops-app.js';
import { PeriodicHost } from './queue/periodic.js';
import { WorkerHost } from './queue/worker-host.js';
import { periodicTasks, queueConsumers } from './workers.js';

const COMMANDS = ['api', 'worker', 'migrate', 'all'] as const;
type Command = (typeof COMMANDS)[number];

function fail(message: string): never {
  process.stderr.write(`posvenda: ${message}\n`);
  process.exit(1);
}

/** Creates the database if needed and applies migrations; exits 1 when that fails. */
async function migrate(config: Config): Promise<void> {
  const db = createDb(config.databaseUrl, { maxConnections: 2, applicationName: 'posvenda-migrate' });
  try {
    await ensureDatabase(config.databaseUrl);
    const outcome = await migrateToLatest(db);
    for (const name of outcome.applied) process.stdout.write(`posvenda: migration applied: ${name}\n`);
    if (outcome.error) {
      const reason = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
      fail(`migration ${outcome.failed ?? '(listing)'} failed: ${reason}`);
    }
  } catch (error) {
    fail(`cannot prepare the database: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await db.destroy();
  }
}

async function startApi(deps: Deps): Promise<FastifyInstance> {
  const app = await buildApp(deps);
  await app.listen({ port: deps.config.port, host: deps.config.host });
  return app;
}

/** A worker alone serves only health and metrics on PORT, for probes and Prometheus. */
async function startOps(deps: Deps): Promise<FastifyInstance> {
  const app = await buildOpsApp(deps);
  await app.listen({ port: deps.config.port, host: deps.config.host });
  return app;
}

async function run(command: Command, config: Config): Promise<void> {
  await migrate(config);
  if (command === 'migrate') return;

  const deps = createDeps(config);
  // Redis may be down at start: the API still serves what does not need it (and /readyz says 503).
  deps.redis.connect().catch((err) => deps.log.warn({ err }, 'redis not reachable yet'));

  const outcome = await bootstrap(deps);
  if (outcome.initialAdminKey) {
    process.stdout.write(
      `\n  Posvenda created an admin key for the default workspace. It is shown once; store it now:\n\n    ${outcome.initialAdminKey}\n\n`,
    );
  }
  // Resolve the signing key now, so a missing SECRET_KEY is generated and warned about at start.
  await deps.secrets.signingKey();

  const app = command === 'api' || command === 'all' ? await startApi(deps) : await startOps(deps);
  const workers = new WorkerHost({
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    concurrency: config.workerConcurrency,
    log: deps.log,
  });
  const periodic = new PeriodicHost(deps.log);
  if (command === 'worker' || command === 'all') {
    workers.start(queueConsumers(deps));
    periodic.start(periodicTasks(deps));
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.log.info({ signal }, 'shutting down: finishing in-flight requests and jobs');
    const timer = setTimeout(() => {
      deps.log.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    // Stop taking requests and jobs, let running ones finish, then close connections.
    await Promise.allSettled([app?.close(), workers.close(), periodic.close()]);
    await closeDeps(deps);
    deps.log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

const command = (process.argv[2] ?? 'all') as Command;
if (!COMMANDS.includes(command))
  fail(`unknown command "${process.argv[2]}"; use one of ${COMMANDS.join(', ')}`);
const loaded = loadConfig(process.env);
if (!loaded.ok) fail(`invalid configuration:\n  ${loaded.errors.join('\n  ')}`);
run(command, loaded.config).catch((error: unknown) => {
  fail(error instanceof Error ? (error.stack ?? error.message) : String(error));
});
