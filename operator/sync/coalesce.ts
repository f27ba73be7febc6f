// When the sidecar holds back a reload because the config is still changing (a burst of applies).
// A Prometheus reload re-reads every rule file: at 2,000 services one takes seconds, and it cannot
// be cut short. During a burst the operator writes a new config every 2 to 4 s; reloading each one
// as it comes kept Prometheus reloading back to back (CPU), and the config with every service
// waited for the reload of an earlier one already under way before its own could start.

export interface CoalesceOptions {
  /** Reloads quicker than this (ms) are never held back for: coalescing them saves nothing worth a wait. */
  minQuietMs: number;
  /** Upper bound of the quiet time asked for (ms); the quiet time is the last reload's duration up to this. */
  maxQuietMs: number;
  /** A config is never held back longer than this after the first version not yet reloaded arrived (ms). */
  maxDeferMs: number;
}

export const COALESCE_DEFAULTS: CoalesceOptions = { minQuietMs: 500, maxQuietMs: 5000, maxDeferMs: 30_000 };

/**
 * Follows the versions of the watched config (the operator's config-hash) and the reloads' durations
 * to say how long to hold back the next reload. A version that comes alone (the one before it is
 * older than the quiet time) is reloaded at once. A version that came within the quiet time of the
 * one before it is part of a burst: the reload waits until no newer version has come for the quiet
 * time, then reloads only the newest; never longer than maxDeferMs in all, so a steady stream of
 * changes is still applied. The quiet time is the last reload's duration (capped): waiting costs
 * what a reload already under way would have cost; configs that reload in less than minQuietMs
 * are never held back. Times are milliseconds from one clock (Date.now()).
 */
export class ReloadCoalescer {
  private version: string | undefined;
  private changedAt: number | undefined;
  /** Time between the newest version and the one before it. */
  private gapBefore: number | undefined;
  /** When the first version not yet handed to a reload arrived. */
  private pendingSince: number | undefined;
  private lastReloadMs = 0;

  constructor(private readonly options: CoalesceOptions = COALESCE_DEFAULTS) {}

  /** A version of the object was seen (every watch event; the same version again is ignored). */
  observed(version: string | undefined, now: number): void {
    if (version === undefined || version === this.version) return;
    if (this.changedAt !== undefined) this.gapBefore = now - this.changedAt;
    this.version = version;
    this.changedAt = now;
    this.pendingSince ??= now;
  }

  /** A reload of the newest version starts now. */
  reloadStarted(): void {
    this.pendingSince = undefined;
  }

  /** A reload (successful or not) took `durationMs`. */
  reloadFinished(durationMs: number): void {
    this.lastReloadMs = Math.max(0, durationMs);
  }

  /** How long to hold back the reload of the newest version from `now` (0: reload now). */
  deferMs(now: number): number {
    const quiet = Math.min(this.lastReloadMs, this.options.maxQuietMs);
    if (quiet < this.options.minQuietMs) return 0;
    if (this.changedAt === undefined || this.gapBefore === undefined || this.gapBefore >= quiet) return 0;
    const sinceChange = now - this.changedAt;
    const sincePending = now - (this.pendingSince ?? this.changedAt);
    if (sinceChange >= quiet || sincePending >= this.options.maxDeferMs) return 0;
    return Math.min(quiet - sinceChange, this.options.maxDeferMs - sincePending);
  }
}
