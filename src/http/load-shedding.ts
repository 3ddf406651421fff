import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** False for probes that must answer even when the service sheds load. */
    shed?: boolean;
  }
}

const SAMPLE_MS = 50;

/**
 * Event-loop lag measured as the drift of a periodic timer: if the loop is busy, the timer
 * fires late. Rises at once on a spike and decays over a few samples, so a single blocked
 * second sheds for about that long rather than until some average recovers.
 */
export class EventLoopLag {
  private lagMs = 0;
  private last = performance.now();
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    this.last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      const drift = Math.max(0, now - this.last - SAMPLE_MS);
      this.last = now;
      this.lagMs = drift >= this.lagMs ? drift : this.lagMs * 0.6 + drift * 0.4;
    }, SAMPLE_MS);
    this.timer.unref();
  }

  /** The current lag, counting time since the last sample so a loop blocked right now counts too. */
  current(): number {
    return Math.max(this.lagMs, performance.now() - this.last - SAMPLE_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * Answers 503 with Retry-After, before doing any work, while the event loop lags more than
 * `maxLagMs`: under overload quick refusals beat every request timing out.
 */
export function registerLoadShedding(app: FastifyInstance, maxLagMs: number): void {
  if (maxLagMs === 0) return;
  const lag = new EventLoopLag();
  // Measured from `ready` on: compiling schemas at start blocks the loop without any
  // request waiting, and must not count as overload.
  app.addHook('onReady', async () => lag.start());
  app.addHook('onClose', async () => lag.stop());
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.shed === false) return;
    if (lag.current() > maxLagMs) {
      throw new AppError('overloaded', 503, 'The service is overloaded; retry later.', undefined, {
        'retry-after': '2',
      });
    }
  });
}

/** Route config for probes that must answer even under pressure. */
export const NOT_SHED = { shed: false } as const;
