import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('configuration', () => {
  it("applies API.md's defaults when nothing is set", () => {
    const result = loadConfig({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config).toMatchObject({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/posvenda',
      redisUrl: 'redis://127.0.0.1:6379',
      port: 3000,
      host: '0.0.0.0',
      publicUrl: 'http://localhost:3000',
      emailFrom: 'Posvenda <no-reply@localhost>',
      webhookAllowPrivate: false,
      logLevel: 'info',
      rateLimitRps: 1000,
      workerConcurrency: 50,
      queuePrefix: '{posvenda}',
      adminKey: undefined,
      smtpUrl: undefined,
      secretKey: undefined,
    });
    expect(Object.isFrozen(result.config)).toBe(true);
  });

  it('converts numbers and booleans and trims a trailing slash from PUBLIC_URL', () => {
    const result = loadConfig({
      PORT: '8080',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      RATE_LIMIT_RPS: '0',
      PUBLIC_URL: 'https://pos.example.com/',
    });
    expect(result.ok && result.config).toMatchObject({
      port: 8080,
      webhookAllowPrivate: true,
      rateLimitRps: 0,
      publicUrl: 'https://pos.example.com',
    });
  });

  it('treats an empty variable as unset', () => {
    const result = loadConfig({ PORT: '', SMTP_URL: '' });
    expect(result.ok && result.config.port).toBe(3000);
    expect(result.ok && result.config.smtpUrl).toBeUndefined();
  });

  it('names every bad variable at once, with what it must be and what it got', () => {
    const result = loadConfig({
      PORT: 'eighty',
      DATABASE_URL: 'mysql://db',
      WEBHOOK_ALLOW_PRIVATE: 'yes please',
      LOG_LEVEL: 'loud',
      SECRET_KEY: 'short',
      WORKER_CONCURRENCY: '0',
      QUEUE_PREFIX: 'posvenda',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect([...result.errors].sort()).toEqual(
      [
        'DATABASE_URL: must be a postgres:// URL (got "mysql://db")',
        'PORT: must be an integer from 0 to 65535 (got "eighty")',
        'SECRET_KEY: must be at least 32 characters (got "short")',
        'WEBHOOK_ALLOW_PRIVATE: must be true or false (got "yes please")',
        'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
        'WORKER_CONCURRENCY: must be an integer from 1 to 10000 (got "0")',
        'QUEUE_PREFIX: must be a Redis Cluster hash tag such as {posvenda} (got "posvenda")',
      ].sort(),
    );
  });

  it('keeps delivered webhook history 7 days (outbox) and 30 days (deliveries) unless told otherwise', () => {
    const defaults = loadConfig({});
    expect(defaults.ok && defaults.config).toMatchObject({
      outboxRetentionDays: 7,
      webhookDeliveryRetentionDays: 30,
    });
    const set = loadConfig({ OUTBOX_RETENTION_DAYS: '2', WEBHOOK_DELIVERY_RETENTION_DAYS: '90' });
    expect(set.ok && set.config).toMatchObject({ outboxRetentionDays: 2, webhookDeliveryRetentionDays: 90 });
    const bad = loadConfig({ OUTBOX_RETENTION_DAYS: '0', WEBHOOK_DELIVERY_RETENTION_DAYS: 'forever' });
    expect(!bad.ok && [...bad.errors].sort()).toEqual([
      'OUTBOX_RETENTION_DAYS: must be an integer from 1 to 3650 (days) (got "0")',
      'WEBHOOK_DELIVERY_RETENTION_DAYS: must be an integer from 1 to 3650 (days) (got "forever")',
    ]);
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ SOMETHING_ELSE: 'x' }).ok).toBe(true);
  });
});
