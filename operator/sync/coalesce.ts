// When the sidecar holds back a reload because the config is still changing (a burst of applies).
// A Prometheus reload re-reads every rule file: at 2,000 services one takes seconds, and it cannot
// be cut short. During a burst the operator writes a new config every 2 to 4 s; reloading each one
// as it comes kept Prometheus reloading back to back (CPU), and the config with every service
// waited for the reload of an earlier one already under way before its own could start.

export interface CoalesceOptions {
  /** Quiet times shorter than this (ms) are not waited for: reloads that quick cost nothing worth a wait. */
  minQuietMs: number;
  /** Upper bound of the quiet time (ms); the quiet time is half the last reload's duration up to this. */
  maxQuietMs: number;
  /** A config is never held back longer than this after the first version not yet reloaded arrived (ms). */
  maxDeferMs: number;
}

export const COALESCE_DEFAULTS: CoalesceOptions = { minQuietMs: 250, maxQuietMs: 10_000, maxDeferMs: 30_000 };

/**
 * Follows the versions of the watched config (the operator's config-hash) and the reloads' durations
 * to say how long to hold back the next reload. A version that came less than the last reload's
 * duration after the one before it is part of a burst (versions come faster than the server
 * reloads): its reload waits until no newer version has come for the quiet time, then loads only
 * the newest; never longer than maxDeferMs in all, so a steady stream of changes is still applied.
 * Any other version is reloaded at once. The quiet time is half the last reload's duration (at
 * most maxQuietMs): what the config with every service would on average have waited for a reload
 * of an earlier one already under way, had the sidecar gone on reloading each version as it came.
 * Configs that reload in under 2 × minQuietMs are never held back. Times are milliseconds from one
 * clock (Date.now()).
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
    const quiet = Math.min(this.lastReloadMs / 2, this.options.maxQuietMs);
    if (quiet < this.options.minQuietMs) return 0;
    if (this.changedAt === undefined || this.gapBefore === undefined || this.gapBefore >= this.lastReloadMs) return 0;
    const sinceChange = now - this.changedAt;
    const sincePending = now - (this.pendingSince ?? this.changedAt);
    if (sinceChange >= quiet || sincePending >= this.options.maxDeferMs) return 0;
    return Math.min(quiet - sinceChange, this.options.maxDeferMs - sincePending);
  }
}
