import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { loadOrCreateInstanceSecret } from './db/instance-secrets.js';

/** Keys for signing what leaves the service (tracking links, calendar feeds). */
export interface Secrets {
  /** The HMAC key: SECRET_KEY, or one generated at first start and kept in Postgres. */
  signingKey(): Promise<Buffer>;
}

export function createSecrets(config: Config, db: Database, clock: Clock, log: Logger): Secrets {
  let key: Promise<Buffer> | undefined;
  return {
    signingKey() {
      if (config.secretKey !== undefined) return Promise.resolve(Buffer.from(config.secretKey, 'utf8'));
      key ??= loadOrCreateInstanceSecret(db, 'secret_key', clock.now()).then((value) => {
        log.warn(
          'SECRET_KEY is not set: signing with a key generated at first start and stored in Postgres; ' +
            'set SECRET_KEY in production so it is managed with your other secrets',
        );
        return Buffer.from(value, 'utf8');
      });
      // A failed load (Postgres down) must not be cached: the next call tries again.
      key.catch(() => {
        key = undefined;
      });
      return key;
    },
  };
}
