import pg from 'pg';
import type { Logger } from 'pino';

export interface ListenerOptions {
  readonly databaseUrl: string;
  readonly channel: string;
  /** The connection's application_name, by which others can count the listeners. */
  readonly applicationName: string;
  readonly log: Logger;
  /** Called with each notification's payload. */
  readonly onNotify: (payload: string) => void;
  /** Called when the listener starts or stops hearing notifications. */
  readonly onLive: (live: boolean) => void;
  /** Wait before reconnecting after the connection is lost. */
  readonly retryMs?: number;
}

/**
 * A dedicated Postgres connection that LISTENs on one channel and reconnects when lost.
 * `live` is true only while notifications are certain to arrive: from the moment LISTEN
 * has completed until the connection reports an error or ends.
 */
export class PgListener {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private isLive = false;

  constructor(private readonly options: ListenerOptions) {}

  get live(): boolean {
    return this.isLive;
  }

  /** Starts listening; resolves after the first attempt to connect, whether it worked or not. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.setLive(false);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  /** Sends a notification on the channel through this connection; dropped when it is down. */
  notify(payload: string): void {
    if (!this.isLive) return;
    this.client?.query('SELECT pg_notify($1, $2)', [this.options.channel, payload]).catch(() => {});
  }

  private setLive(live: boolean): void {
    if (this.isLive === live) return;
    this.isLive = live;
    this.options.onLive(live);
  }

  private async connect(): Promise<void> {
    // Keep-alive probes let a silently dead connection be noticed, not just a closed one.
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: this.options.applicationName,
      connectionTimeoutMillis: 5000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    this.client = client;
    let lost = false;
    const onLost = (err?: unknown) => {
      if (lost) return;
      lost = true;
      const wasLive = this.isLive;
      this.setLive(false);
      client.end().catch(() => {});
      if (this.client === client) this.client = undefined;
      if (this.stopped) return;
      // Warn once per outage, not on every failed retry.
      if (wasLive)
        this.options.log.warn({ err, channel: this.options.channel }, 'notification listener lost');
      this.timer = setTimeout(() => void this.connect(), this.options.retryMs ?? 1000);
      this.timer.unref();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      if (message.channel === this.options.channel) this.options.onNotify(message.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.options.channel}"`);
      if (this.stopped || lost) {
        await client.end().catch(() => {});
        return;
      }
      this.setLive(true);
    } catch (err) {
      onLost(err);
    }
  }
}
