import { isConnectionError } from './client.js';

/** Handles items of one workspace in one transaction, one outcome per item, in order. */
export type GroupTransaction<E, O> = (workspaceId: string, items: readonly E[]) => Promise<readonly O[]>;

export interface GroupCommitOptions {
  /** Most items in one group (one transaction). */
  readonly maxGroup: number;
  /** Most group transactions in flight at once; items arriving meanwhile wait and group. */
  readonly maxInFlight: number;
}

interface Pending<E, O> {
  readonly item: E;
  readonly resolve: (outcome: O) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit: items (single-event ingests, dispatch jobs) that arrive in the same turn of the
 * event loop, or while every flush slot is busy, are handled together through a set-wise path
 * (one transaction, a few statements for the whole group); each still gets its own outcome, and
 * only after the commit. Items are handed over in the order they arrived. A group that fails for
 * any reason but an unreachable database is retried item by item, so one item the database
 * refuses (or a deadlock) fails alone.
 */
export class GroupCommit<E, O> {
  // Waiting items by workspace (one transaction serves one workspace), oldest first.
  private readonly queues = new Map<string, Pending<E, O>[]>();
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly handle: GroupTransaction<E, O>,
    private readonly options: GroupCommitOptions,
  ) {}

  /** Handles one item with whatever else is waiting; resolves after its group committed. */
  submit(workspaceId: string, item: E): Promise<O> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(workspaceId);
      if (queue) queue.push({ item, resolve, reject });
      else this.queues.set(workspaceId, [{ item, resolve, reject }]);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.queues.size === 0 || this.inFlight >= this.options.maxInFlight) return;
    this.scheduled = true;
    // After the requests already read in this turn of the loop have queued theirs.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    for (const [workspaceId, queue] of this.queues) {
      if (this.inFlight >= this.options.maxInFlight) return;
      const group = queue.splice(0, this.options.maxGroup);
      // Re-queued at the end when some are left, so workspaces take turns.
      this.queues.delete(workspaceId);
      if (queue.length > 0) this.queues.set(workspaceId, queue);
      this.inFlight++;
      void this.run(workspaceId, group).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  private async run(workspaceId: string, group: readonly Pending<E, O>[]): Promise<void> {
    try {
      const outcomes = await this.handle(
        workspaceId,
        group.map((p) => p.item),
      );
      for (const [i, p] of group.entries()) p.resolve(outcomes[i]!);
    } catch (error) {
      if (group.length === 1 || isConnectionError(error)) {
        for (const p of group) p.reject(error);
        return;
      }
      // Alone, each item stands or falls by itself.
      await Promise.all(
        group.map(async (p) => {
          try {
            const [outcome] = await this.handle(workspaceId, [p.item]);
            p.resolve(outcome!);
          } catch (single) {
            p.reject(single);
          }
        }),
      );
    }
  }
}
