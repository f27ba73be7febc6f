// How long a healthy service can be without a current `up` sample after a Prometheus restart on a
// kept TSDB, and which `for` of ServiceDown that makes page: the refusal of the combinations that
// would (RestartRefusal, reported by validate/index.ts naming spec.downAlert.for). Pure; times in ms.
import { LOOKBACK_DELTA } from '../api/schema.js';
import { formatDurationMs, parseDurationMs } from '../validate/duration.js';

const LOOKBACK_MS = parseDurationMs(LOOKBACK_DELTA) as number;

/**
 * How long after Prometheus (re)starts a target's first scrape may begin, besides its offset within
 * the interval: discovery (a Kubernetes watch lists first; discovered targets reach the scrape
 * manager on Prometheus's update tick). The discovery grace leaves this much for it.
 */
export const DISCOVERY_ALLOWANCE_MS = 30_000;

/**
 * Cap of the discovery grace's two-interval term: the grace plus two evaluation intervals fits in
 * the 5-minute lookback. Only the floor (interval + timeout + 30 s, for interval + timeout above
 * 3m30s) exceeds it.
 */
export const MAX_DISCOVERY_GRACE_MS = 240_000;

/** One endpoint's effective timing (scrapeTiming), ms. */
export interface EndpointTimingMs {
  intervalMs: number;
  timeoutMs: number;
}

/**
 * The discovery grace of a service with these endpoints (render/rules.ts discoveryGraceMs): two of
 * its longest intervals plus the discovery allowance, capped at MAX_DISCOVERY_GRACE_MS, but never
 * below the latest a first sample can land (interval + timeout + the allowance).
 */
export function graceOf(timings: readonly EndpointTimingMs[]): number {
  const longest = Math.max(...timings.map((t) => t.intervalMs));
  const firstSample = Math.max(...timings.map((t) => t.intervalMs + t.timeoutMs));
  return Math.max(Math.min(2 * longest + DISCOVERY_ALLOWANCE_MS, MAX_DISCOVERY_GRACE_MS), firstSample + DISCOVERY_ALLOWANCE_MS);
}

/**
 * The longest a healthy service can be without a current `up` sample at evaluations where
 * ServiceDown may count "no target" after a Prometheus restart on a kept TSDB, over every restart
 * duration D; undefined when no restart can leave such a gap. Evaluations run every E on a fixed
 * grid (the group's hash offset), before and after the restart.
 *
 * Prometheus writes no staleness marker at shutdown (S), so the last sample of the fastest
 * endpoint (m = its interval + timeout, the least of the service's endpoints: any healthy target
 * ends the gap), taken after S - m, stays current for the 5m lookback: `up` is missing from
 * S - m + 5m on. The first new sample is readable before S + D + 30 s + m (discovery, the
 * target's offset, the scrape). "No target" counts at an evaluation T after the restart only while
 * the last evaluation before it (L <= S) is within the record window (T < L + grace + 2E, i.e.
 * T <= L + (ceil(grace/E) + 1)E) or once the restarted rules have run for the grace (by then the
 * new sample is in). Once ServiceDown is pending, its own ALERTS sample keeps it active.
 * So the gap exists only when the lookback runs out before that window closes,
 * 5m - m < (ceil(grace/E) + 1)E, and is then longest when the restart ends just as `up` ran out:
 * D + 30 s + m - (S + D - S) = m + 30 s (for shorter restarts it is 2m + D + 30 s - 5m, less).
 */
export function restartGapMs(timings: readonly EndpointTimingMs[], evaluationMs: number): number | undefined {
  const fastest = Math.min(...timings.map((t) => t.intervalMs + t.timeoutMs));
  const recordReach = (Math.ceil(graceOf(timings) / evaluationMs) + 1) * evaluationMs;
  return LOOKBACK_MS - fastest < recordReach ? fastest + DISCOVERY_ALLOWANCE_MS : undefined;
}

/**
 * Whether ServiceDown with this `for` (F) can page a healthy service after a restart: it fires
 * ceil(F/E)·E after it became pending, which must come before the first new sample.
 */
export function restartPages(timings: readonly EndpointTimingMs[], evaluationMs: number, forMs: number): boolean {
  const gap = restartGapMs(timings, evaluationMs);
  return gap !== undefined && Math.ceil(forMs / evaluationMs) * evaluationMs < gap;
}

/** A ValidationIssue (render/types.ts), stated here as scrape-limits.ts does. */
interface ValidationIssue {
  field: string;
  message: string;
  accepted?: string;
}

/** A service whose down alert would page it healthy after a Prometheus restart (validate/index.ts reports its issue). */
export class RestartRefusal extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
  }
}

/**
 * The refusal of spec.downAlert.for, or undefined when no restart can make it page. `endpoints` are
 * the effective timings by index (scrapeTiming), `forText` as written, `evaluation` the install's
 * evaluationInterval. Names the fastest endpoint (whose sample ends the gap), the smallest `for`
 * accepted and, when one exists, the longest interval of that endpoint with its scrapeTimeout.
 */
export function restartProblem(endpoints: readonly EndpointTimingMs[], forText: string, evaluation: string): ValidationIssue | undefined {
  const E = parseDurationMs(evaluation);
  const F = parseDurationMs(forText);
  if (E === undefined || E <= 0 || F === undefined || !restartPages(endpoints, E, F)) return undefined;
  const gap = restartGapMs(endpoints, E) as number;
  const sums = endpoints.map((t) => t.intervalMs + t.timeoutMs);
  const j = sums.indexOf(Math.min(...sums));
  const own = endpoints[j]!;
  // Fires after ceil(F/E) evaluations: accepted once that reaches the gap.
  const smallestPassing = (Math.ceil(gap / E) - 1) * E;
  // Refused for every interval from some value up (a longer interval lengthens the gap and the grace).
  const accepted = (intervalMs: number) =>
    !restartPages(
      endpoints.map((t, k) => (k === j ? { intervalMs, timeoutMs: t.timeoutMs } : t)),
      E,
      F,
    );
  let interval: string | undefined;
  if (accepted(own.timeoutMs)) {
    let lo = own.timeoutMs;
    let hi = own.intervalMs;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (accepted(mid)) lo = mid;
      else hi = mid;
    }
    interval = formatDurationMs(lo);
  }
  const others = endpoints.length > 1 ? ' (the fastest endpoint: any healthy target ends the gap)' : '';
  return {
    field: 'spec.downAlert.for',
    // Fires after as many evaluations as the smallest accepted value, and reads better.
    accepted: formatDurationMs(Math.ceil(gap / E) * E),
    message:
      `${forText} is too short for spec.endpoints[${j}]${others} (interval ${formatDurationMs(own.intervalMs)}, scrapeTimeout ${formatDurationMs(own.timeoutMs)}, evaluationInterval ${evaluation}): ` +
      `after a Prometheus restart on a kept TSDB a healthy service can go without a current up sample for up to ${formatDurationMs(gap)} (Prometheus writes no staleness marker at shutdown, so the last sample runs out of the ${LOOKBACK_DELTA} lookback while the restarted one still discovers and scrapes the target), and ServiceDown would page it; ` +
      `use a for above ${formatDurationMs(smallestPassing)}${interval !== undefined ? `, or an interval of at most ${interval} on spec.endpoints[${j}] with this scrapeTimeout` : ''}`,
  };
}
