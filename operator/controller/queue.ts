// A coalescing work queue for a controller whose every object renders into ONE config.
// Per-object keys would not help: whatever changed, the whole config is rebuilt from the caches.
// So the queue only remembers "something changed" and runs one reconcile after the burst settles:
// `debounceMs` after the last change, but never later than `maxDelayMs` after the first one,
// so a steady stream of changes still gets applied. One reconcile runs at a time; changes that
// arrive while it runs schedule exactly one more.

export interface CoalescingQueueOptions {
  debounceMs: number;
  maxDelayMs: number;
  /** The reconcile. Its rejection is reported to onError and retried after retryDelayMs(attempt). */
  run: () => Promise<void>;
  onError?: (err: unknown, attempt: number) => void;
  /** Backoff after a failed run (attempt counts consecutive failures from 1). */
  retryDelayMs?: (attempt: number) => number;
  /** Observes the number of changes waiting (for the workqueue depth gauge). */
  onDepth?: (depth: number) => void;
}

export function exponentialBackoff(baseMs: number, maxMs: number): (attempt: number) => number {
  return (attempt) => Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

export class CoalescingQueue {
  private pending = 0;
  private firstPendingAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  private stopped = false;
  private runs = 0;

  constructor(private readonly options: CoalescingQueueOptions) {}

  /** Records a change; the reconcile runs once the burst settles. */
  add(): void {
    if (this.stopped) return;
    this.pending += 1;
    this.options.onDepth?.(this.pending);
    const now = Date.now();
    if (this.firstPendingAt === undefined) this.firstPendingAt = now;
    if (this.running) return; // the end of the current run reschedules
    this.schedule(this.delayFor(now));
  }

  /** Number of reconciles completed or attempted (tests, logs). */
  get runCount(): number {
    return this.runs;
  }

  get depth(): number {
    return this.pending;
  }

  /** Stops scheduling new runs and waits for the in-flight one (graceful shutdown). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Resolves when the run in flight, if any, has finished (a fence waits for it before saying it stopped writing). */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /** Resolves when nothing is pending or running (tests). */
  async drained(): Promise<void> {
    while (this.running || this.timer) {
      if (this.running) await this.running;
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  private delayFor(now: number): number {
    const first = this.firstPendingAt ?? now;
    const untilMax = first + this.options.maxDelayMs - now;
    return Math.max(0, Math.min(this.options.debounceMs, untilMax));
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.runOnce().finally(() => {
        this.running = undefined;
        this.afterRun();
      });
    }, delayMs);
  }

  private async runOnce(): Promise<void> {
    // Everything recorded so far is covered by this run: it reads the caches after this point.
    this.pending = 0;
    this.firstPendingAt = undefined;
    this.options.onDepth?.(0);
    this.runs += 1;
    try {
      await this.options.run();
      this.failures = 0;
    } catch (err) {
      this.failures += 1;
      this.options.onError?.(err, this.failures);
    }
  }

  private afterRun(): void {
    if (this.stopped) return;
    if (this.failures > 0) {
      // Retry even without new changes: the state we failed to write is still wanted.
      const retry = this.options.retryDelayMs ?? exponentialBackoff(500, 30_000);
      if (this.pending === 0) {
        this.pending = 1;
        this.firstPendingAt = Date.now();
      }
      this.schedule(retry(this.failures));
      return;
    }
    if (this.pending > 0) this.schedule(this.delayFor(Date.now()));
  }
}
