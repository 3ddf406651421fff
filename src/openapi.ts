// `npm run openapi`: writes openapi/openapi.json from the routes' schemas. Needs no running
// Postgres or Redis: connections are lazy and nothing is requested.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { closeDeps, createDeps } from './deps.js';

export const OPENAPI_FILE = fileURLToPath(new URL('../openapi/openapi.json', import.meta.url));

/** The OpenAPI document as the running service would serve it, serialised stably. */
export async function renderOpenApi(): Promise<string> {
  // Fixed values: the document must not depend on who generates it.
  const loaded = loadConfig({ PUBLIC_URL: 'http://localhost:3000', LOG_LEVEL: 'silent' });
  if (!loaded.ok) throw new Error(loaded.errors.join('; '));
  const deps = createDeps(loaded.config, { log: pino({ level: 'silent' }) });
  try {
    const app = await buildApp(deps);
    await app.ready();
    const text = `${JSON.stringify(app.swagger(), null, 2)}\n`;
    await app.close();
    return text;
  } finally {
    await closeDeps(deps);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await writeFile(OPENAPI_FILE, await renderOpenApi());
  process.stdout.write(`wrote ${OPENAPI_FILE}\n`);
}
