// Bounded-concurrency iteration for the controller's API writes (statuses, Events).

export interface LimitedOutcome {
  /** Failures of `fn`, in the order they happened (one failure does not stop the others). */
  errors: unknown[];
  /** Items `fn` was not called for because `stopWhen` said so. */
  skipped: number;
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight, in order, collecting failures
 * instead of stopping. `stopWhen` is asked before each item is started: once it returns true, no
 * further item starts (calls in flight finish) and the rest count as skipped. Used to drop status
 * writes a newer sidecar report has made stale, so the next reconcile writes them once, fresh.
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>, stopWhen?: () => boolean): Promise<LimitedOutcome> {
  const errors: unknown[] = [];
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (next < items.length && !stopped) {
      if (stopWhen?.()) {
        stopped = true;
        break;
      }
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return { errors, skipped: items.length - next };
}
