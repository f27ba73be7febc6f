// Ranges too short for the function that reads them. Scrapes of one series are one scrape
// interval apart, so a range of length R holds at most ceil(R / interval) samples and, for R
// shorter than the interval, none at all in some evaluations. A function that compares samples
// (rate, increase, ...) returns nothing from a range holding one sample (Prometheus 3.15
// promql/functions.go), so `rate(x[1m])` on a service scraped every 1m never returns data and its
// alert never fires. Vigil knows the service's scrape intervals: this is where it can be caught.
import { matches } from '../promql/parse.js';
import { type RangeUse, rangeUses } from '../promql/ranges.js';
import { formatDurationMs } from './duration.js';

/**
 * Functions that need two samples in their range: with one, Prometheus returns no series (rate,
 * irate, increase, delta, idelta, deriv, predict_linear) or always 0 (changes and resets compare
 * consecutive samples; the deviation of one sample is 0). Prometheus uses start timestamps to rate a single sample only with
 * --enable-feature=use-start-timestamps, which Vigil's Prometheus does not set.
 * The other range functions (the other *_over_time, absent_over_time) work from one sample.
 */
export const TWO_SAMPLE_FUNCTIONS: ReadonlySet<string> = new Set([
  'rate',
  'irate',
  'increase',
  'delta',
  'idelta',
  'deriv',
  'predict_linear',
  'changes',
  'resets',
  'stddev_over_time',
  'stdvar_over_time',
]);
/** Of those, the ones that return 0 from one sample instead of nothing. */
const ZERO_FROM_ONE_SAMPLE: ReadonlySet<string> = new Set(['changes', 'resets', 'stddev_over_time', 'stdvar_over_time']);

/** Ranges this many scrape intervals long still hold two samples when one scrape fails. */
export const RECOMMENDED_INTERVALS = 4;

/** Series that no scrape writes: Prometheus writes them at every rule evaluation. */
const RULE_SERIES = new Set(['ALERTS', 'ALERTS_FOR_STATE']);

/** One scrape job of the service: its job label, effective interval, and where the interval comes from. */
export interface ScrapedEndpoint {
  job: string;
  intervalMs: number;
  /** e.g. "spec.endpoints[0].interval" or "spec.endpoints[0] without interval: the default 15s". */
  source: string;
}

/** One message per range in `expr` too short for its function (expr must be one checkPromQL accepted). */
export function rangeProblems(expr: string, endpoints: readonly ScrapedEndpoint[]): string[] {
  return rangeUses(expr).flatMap((use) => {
    const problem = use.source.kind === 'subquery' ? subqueryProblem(use) : selectorProblem(use, endpoints);
    return problem === undefined ? [] : [problem];
  });
}

const samplesNeeded = (fn: string) => (TWO_SAMPLE_FUNCTIONS.has(fn) ? 2 : 1);

/**
 * A selector's series are the service's own, scraped by its endpoints, unless a job matcher
 * picks other jobs (their interval is not this object's: not checked). Without a job matcher the
 * longest interval of all the service's endpoints counts.
 */
function selectorProblem(use: RangeUse, endpoints: readonly ScrapedEndpoint[]): string | undefined {
  if (use.source.kind !== 'selector' || use.rangeMs === undefined) return undefined;
  const { metric, matchers } = use.source;
  if (metric !== undefined && RULE_SERIES.has(metric)) return undefined;
  const jobMatchers = matchers.filter((m) => m.name === 'job');
  const scraping = endpoints.filter((e) => jobMatchers.every((m) => matches(m, e.job)));
  const slowest = scraping.reduce<ScrapedEndpoint | undefined>((a, e) => (a === undefined || e.intervalMs > a.intervalMs ? e : a), undefined);
  if (!slowest) return undefined;
  const needed = samplesNeeded(use.fn);
  if (use.rangeMs >= needed * slowest.intervalMs) return undefined;
  const which = scraping.length === 1 ? '' : jobMatchers.length > 0 ? ', the longest of the endpoints its job matcher selects' : ", the longest of this service's endpoints";
  const faster = scraping.find((e) => e.intervalMs < slowest.intervalMs);
  const pick = jobMatchers.length === 0 && faster ? `, or read one endpoint's series with a job matcher such as job="${faster.job}"` : '';
  const spacing = { ms: slowest.intervalMs, unit: 'sample', of: `scraped every ${formatDurationMs(slowest.intervalMs)}: ${slowest.source}${which}` } as const;
  const fix = `${formatDurationMs(needed * slowest.intervalMs)} (${needed} × the scrape interval), better ${formatDurationMs(RECOMMENDED_INTERVALS * slowest.intervalMs)} (${RECOMMENDED_INTERVALS} ×), which survives a failed scrape${pick}`;
  return shortRange(use, use.rangeMs, needed, spacing, fix);
}

/** A subquery yields one point per step in its range, whatever the scrape interval. */
function subqueryProblem(use: RangeUse): string | undefined {
  if (use.source.kind !== 'subquery' || use.rangeMs === undefined || use.source.stepMs === undefined) return undefined;
  const { stepMs } = use.source;
  const needed = samplesNeeded(use.fn);
  if (use.rangeMs >= needed * stepMs) return undefined;
  const spacing = { ms: stepMs, unit: 'point', of: `one per ${formatDurationMs(stepMs)} step` } as const;
  return shortRange(use, use.rangeMs, needed, spacing, `${formatDurationMs(needed * stepMs)} (${needed} × the step), or a shorter step`);
}

/** What a range too short gets and how long it must be; `spacing`: time between its samples or points. */
function shortRange(use: RangeUse, rangeMs: number, needed: number, spacing: { ms: number; unit: 'sample' | 'point'; of: string }, fix: string): string {
  const comesAndGoes = 'so the result comes and goes with the timing (which restarts `for` and resolves a firing alert)';
  const what =
    needed === 1
      ? `${use.fn}() needs a ${spacing.unit} in its range, but ${use.text} holds none (${spacing.of}) in some evaluations, ${comesAndGoes}`
      : rangeMs <= spacing.ms
        ? `${use.fn}() needs two ${spacing.unit}s in its range, but ${use.text} holds at most one ${spacing.unit} (${spacing.of}), so it ${
            ZERO_FROM_ONE_SAMPLE.has(use.fn) ? 'always returns 0' : 'never returns data and the alert can never fire'
          }`
        : `${use.fn}() needs two ${spacing.unit}s in its range, but ${use.text} holds two ${spacing.unit}s (${spacing.of}) only in some evaluations, ${comesAndGoes}`;
  return `${what}; use a range of at least ${fix}`;
}
