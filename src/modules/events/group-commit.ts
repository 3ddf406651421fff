import { isConnectionError } from '../../db/client.js';

/** Ingests valid events of one workspace in one transaction, one outcome per event, in order. */
export type IngestTransaction<E, O> = (workspaceId: string, events: readonly E[]) => Promise<readonly O[]>;

export interface GroupCommitOptions {
  /** Most events in one group (one transaction). */
  readonly maxGroup: number;
  /** Most group transactions in flight at once; requests arriving meanwhile wait and group. */
  readonly maxInFlight: number;
}

interface Pending<E, O> {
  readonly event: E;
  readonly resolve: (outcome: O) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit for single-event ingests. Requests that arrive in the same turn of the event
 * loop, or while every flush slot is busy, are ingested together through the set-wise path
 * (one transaction, one planner call); each still gets its own outcome, and only after the
 * commit. Within a group the first of an id wins, as it would had the requests come one
 * after the other. A group that fails for any reason but an unreachable database is
 * retried event by event, so one event the database refuses fails alone.
 */
export class IngestGroups<E, O> {
  // Waiting events by workspace (one transaction serves one workspace), oldest first.
  private readonly queues = new Map<string, Pending<E, O>[]>();
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly ingest: IngestTransaction<E, O>,
    private readonly options: GroupCommitOptions,
  ) {}

  /** Ingests one valid event with whatever else is waiting; resolves after its group committed. */
  submit(workspaceId: string, event: E): Promise<O> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(workspaceId);
      if (queue) queue.push({ event, resolve, reject });
      else this.queues.set(workspaceId, [{ event, resolve, reject }]);
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
      const outcomes = await this.ingest(
        workspaceId,
        group.map((p) => p.event),
      );
      for (const [i, p] of group.entries()) p.resolve(outcomes[i]!);
    } catch (error) {
      if (group.length === 1 || isConnectionError(error)) {
        for (const p of group) p.reject(error);
        return;
      }
      // Alone, each event stands or falls by itself.
      await Promise.all(
        group.map(async (p) => {
          try {
            const [outcome] = await this.ingest(workspaceId, [p.event]);
            p.resolve(outcome!);
          } catch (single) {
            p.reject(single);
          }
        }),
      );
    }
  }
}
