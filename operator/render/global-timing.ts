// Bounds of the install-wide timing (the chart's scrapeInterval and evaluationInterval, the
// operator's settings), from the same facts the MonitoredService checks use: one source for the
// chart's install checks (cdk8s/values.ts) and the operator's settings file (settings.ts).
import { LOOKBACK_DELTA } from '../api/schema.js';
import { formatDurationMs, parseDurationMs } from '../validate/duration.js';
import { MAX_DISCOVERY_GRACE_MS } from './rules.js';
import { scrapeTiming } from './scrape-timing.js';

const LOOKBACK_DELTA_MS = parseDurationMs(LOOKBACK_DELTA) as number;

export interface GlobalTimingBound {
  /** The setting, also the chart value's name. */
  field: 'scrapeInterval' | 'evaluationInterval';
  /** Largest accepted value, ms (the smallest is above 0). */
  maxMs: number;
  /** "must be above 0 and at most ...: why". */
  rule: string;
}

/**
 * scrapeInterval: the global interval, taken by the jobs without their own (the install's own,
 * Prometheus and the operator), which have no timeout of their own either: as for an endpoint with
 * only an interval, interval plus the composed timeout (min(10s, interval)) must stay within the
 * lookback, so at most 4m50s. MonitoredService endpoints never take it (their default is 15s).
 * evaluationInterval: ServiceDown's window is the discovery grace plus two evaluation intervals and
 * must stay within the lookback (render/rules.ts downAlertRules), so at most 30s.
 */
const SCRAPE_MAX_MS = LOOKBACK_DELTA_MS - (parseDurationMs(scrapeTiming({ interval: '1h' }).scrapeTimeout) as number);
const EVALUATION_MAX_MS = (LOOKBACK_DELTA_MS - MAX_DISCOVERY_GRACE_MS) / 2;

export const GLOBAL_TIMING_BOUNDS: readonly GlobalTimingBound[] = [
  {
    field: 'scrapeInterval',
    maxMs: SCRAPE_MAX_MS,
    rule: `must be above 0 and at most ${formatDurationMs(SCRAPE_MAX_MS)}: it is the scrape interval of Prometheus's and the operator's own jobs, whose 10s timeout must fit with it in Prometheus's ${LOOKBACK_DELTA} lookback (the same bound as an endpoint's interval); MonitoredService endpoints do not take it, their default is 15s`,
  },
  {
    field: 'evaluationInterval',
    maxMs: EVALUATION_MAX_MS,
    rule: `must be above 0 and at most ${formatDurationMs(EVALUATION_MAX_MS)}: ServiceDown's window (the discovery grace, up to ${formatDurationMs(MAX_DISCOVERY_GRACE_MS)}, plus two rule evaluations) must stay within Prometheus's ${LOOKBACK_DELTA} lookback`,
  },
];

/** What is wrong with these install-wide intervals (duration text); [] when they work. */
export function globalTimingProblems(timing: Record<GlobalTimingBound['field'], string>): { field: GlobalTimingBound['field']; message: string }[] {
  return GLOBAL_TIMING_BOUNDS.flatMap((bound) => {
    const ms = parseDurationMs(timing[bound.field]);
    return ms !== undefined && ms > 0 && ms <= bound.maxMs ? [] : [{ field: bound.field, message: `${timing[bound.field]} is out of range: ${bound.field} ${bound.rule}` }];
  });
}
