import type { Clock } from '../../clock.js';
import type { Principal } from '../../http/auth.js';

/** The Postgres channel on which every change that can take a key's rights away is announced. */
export const API_KEY_CHANNEL = 'posvenda_api_keys';

interface Waiter {
  remaining: number;
  readonly resolve: () => void;
}

interface Entry {
  readonly principal: Principal;
  readonly expiresAt: number;
}

export interface ApiKeyCacheOptions {
  readonly clock: Clock;
  /** The longest an entry is trusted, should a notification be lost without the listener noticing. */
  readonly ttlMs: number;
  readonly maxEntries?: number;
}

/**
 * Authenticated keys by hash, so a request need not look its key up in Postgres. Entries
 * are used only while the replica hears revocations (`setLive(true)`): a revocation drops
 * the key at once, a lost listener empties the cache and turns it off until it is back,
 * and no entry outlives `ttlMs` in any case. A lookup that raced an invalidation is not
 * cached (the generation moved on while it ran).
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly hashByKeyId = new Map<string, string>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private generationValue = 0;
  private live = false;

  constructor(private readonly options: ApiKeyCacheOptions) {}

  /** Changes whenever anything is invalidated; a lookup caches its result only if it did not. */
  get generation(): number {
    return this.generationValue;
  }

  /** Whether revocations are being heard. */
  get isLive(): boolean {
    return this.live;
  }

  /** Sets whether revocations are being heard; entries are kept and used only while they are. */
  setLive(live: boolean): void {
    this.live = live;
    this.clear();
  }

  get(hash: string): Principal | undefined {
    if (!this.live) return undefined;
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    if (this.options.clock.now().getTime() >= entry.expiresAt) {
      this.delete(hash, entry);
      return undefined;
    }
    return entry.principal;
  }

  /** Caches a lookup's result, unless the cache is off or something was invalidated since `generation`. */
  set(hash: string, principal: Principal, generation: number): void {
    if (!this.live || this.options.ttlMs === 0 || generation !== this.generationValue) return;
    if (this.entries.size >= (this.options.maxEntries ?? 10_000)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.delete(oldest, this.entries.get(oldest)!);
    }
    this.entries.set(hash, { principal, expiresAt: this.options.clock.now().getTime() + this.options.ttlMs });
    this.hashByKeyId.set(principal.keyId, hash);
  }

  /** Drops one key (by id) at once. */
  invalidate(keyId: string): void {
    this.generationValue++;
    const hash = this.hashByKeyId.get(keyId);
    if (hash !== undefined) this.delete(hash, this.entries.get(hash));
  }

  clear(): void {
    this.generationValue++;
    this.entries.clear();
    this.hashByKeyId.clear();
  }

  /**
   * Handles a notification of the channel. `<workspace id>:<key id>` drops that key and
   * returns the acknowledgement to send back (`ack:<key id>`), which the revoking replica
   * counts; `*` (sent on TRUNCATE) drops everything; acknowledgements wake the waiters.
   */
  notified(payload: string): string | undefined {
    if (payload.startsWith('ack:')) {
      this.acknowledged(payload.slice(4));
      return undefined;
    }
    const keyId = payload.split(':')[1];
    if (keyId === undefined) {
      this.clear();
      return undefined;
    }
    this.invalidate(keyId);
    return `ack:${keyId}`;
  }

  /**
   * Waits (at most `timeoutMs`) for `listeners` acknowledgements that `keyId` was dropped:
   * one from each replica that was listening. Call before the change commits, await after.
   */
  acknowledgements(
    keyId: string,
    listeners: number,
    timeoutMs: number,
  ): { readonly wait: () => Promise<void>; readonly cancel: () => void } {
    if (!this.live || listeners === 0) return { wait: async () => {}, cancel: () => {} };
    let resolve: () => void = () => {};
    const done = new Promise<void>((r) => {
      resolve = r;
    });
    const waiter: Waiter = { remaining: listeners, resolve };
    const set = this.waiters.get(keyId) ?? new Set<Waiter>();
    set.add(waiter);
    this.waiters.set(keyId, set);
    const cancel = () => {
      set.delete(waiter);
      if (set.size === 0 && this.waiters.get(keyId) === set) this.waiters.delete(keyId);
      resolve();
    };
    return {
      wait: async () => {
        const timer = setTimeout(cancel, timeoutMs);
        await done;
        clearTimeout(timer);
        cancel();
      },
      cancel,
    };
  }

  private acknowledged(keyId: string): void {
    for (const waiter of this.waiters.get(keyId) ?? []) {
      waiter.remaining--;
      if (waiter.remaining <= 0) waiter.resolve();
    }
  }

  private delete(hash: string, entry: Entry | undefined): void {
    this.entries.delete(hash);
    if (entry && this.hashByKeyId.get(entry.principal.keyId) === hash) {
      this.hashByKeyId.delete(entry.principal.keyId);
    }
  }
}
