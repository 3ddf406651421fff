import type { Logger } from 'pino';

/**
 * A loop the worker runs besides its queues: the dispatch pump, the outbox relay, the alert
 * evaluator. Several worker processes may run the same task at once, so each `run` must be safe
 * to overlap with another process's (row locks, SKIP LOCKED); within one process runs never overlap.
 */
export interface PeriodicTask {
  readonly name: string;
  readonly intervalMs: number;
  /** Does one round; the returned promise settles when the round is done. */
  run(): Promise<void>;
  /** Optional: called once when the host stops, after the last round. */
  close?(): Promise<void>;
}

/** Runs periodic tasks on their intervals; a round's failure is logged and the next one runs. */
export class PeriodicHost {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private tasks: readonly PeriodicTask[] = [];
  private stopped = true;

  constructor(private readonly log: Logger) {}

  start(tasks: readonly PeriodicTask[]): void {
    this.register(tasks);
    this.stopped = false;
    for (const task of tasks) this.schedule(task, 0);
  }

  /** Knows the tasks without starting their timers: rounds run only through `runNow`. */
  register(tasks: readonly PeriodicTask[]): void {
    this.tasks = tasks;
  }

  /** Runs one round of the named task now (tests, and a nudge from a notification). */
  async runNow(name: string): Promise<void> {
    const task = this.tasks.find((t) => t.name === name);
    if (!task) throw new Error(`no periodic task named ${name}`);
    await this.round(task);
  }

  private schedule(task: PeriodicTask, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      void this.round(task).finally(() => this.schedule(task, task.intervalMs));
    }, delayMs);
    this.timers.set(task.name, timer);
  }

  private round(task: PeriodicTask): Promise<void> {
    const current = this.running.get(task.name);
    if (current) return current;
    const round = task
      .run()
      .catch((err: unknown) => this.log.error({ err, task: task.name }, 'periodic task failed'))
      .finally(() => this.running.delete(task.name));
    this.running.set(task.name, round);
    return round;
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()]);
    await Promise.allSettled(this.tasks.map((task) => task.close?.()));
  }
}
