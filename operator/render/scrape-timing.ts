// The scrape interval and timeout an endpoint gets, with Vigil's defaults composed the way
// Prometheus composes its own: a timeout the user did not write never exceeds the interval, and
// an interval the user did not write never undercuts the timeout they did write (issue #11).
import { DEFAULT_SCRAPE_INTERVAL, DEFAULT_SCRAPE_TIMEOUT, type Endpoint } from '../api/schema.js';
import { formatDurationMs, parseDurationMs } from '../validate/duration.js';

export interface ScrapeTiming {
  /** Prometheus duration text for scrape_interval / scrape_timeout. */
  interval: string;
  scrapeTimeout: string;
}

const DEFAULT_INTERVAL_MS = parseDurationMs(DEFAULT_SCRAPE_INTERVAL) as number;
const DEFAULT_TIMEOUT_MS = parseDurationMs(DEFAULT_SCRAPE_TIMEOUT) as number;

/**
 * Effective timing of one endpoint (shape: the endpoint's optional `interval`/`scrapeTimeout`
 * strings, already matching SCRAPE_DURATION_PATTERN):
 * - neither set: 15s / 10s;
 * - only interval: timeout = min(10s, interval) (Prometheus: a job without scrape_timeout takes the
 *   global timeout, or its interval when that is shorter, config.go ScrapeConfig.Validate);
 * - only scrapeTimeout: interval = max(15s, scrapeTimeout);
 * - both: as written (validation refuses timeout > interval, naming both values the user wrote).
 * User text is kept as written; computed values are formatted like "15s".
 */
export function scrapeTiming(endpoint: Pick<Endpoint, 'interval' | 'scrapeTimeout'>): ScrapeTiming {
  const { interval, scrapeTimeout } = endpoint;
  if (interval !== undefined && scrapeTimeout !== undefined) return { interval, scrapeTimeout };
  if (interval !== undefined) {
    const ms = parseDurationMs(interval);
    return { interval, scrapeTimeout: ms !== undefined && ms < DEFAULT_TIMEOUT_MS ? formatDurationMs(ms) : DEFAULT_SCRAPE_TIMEOUT };
  }
  if (scrapeTimeout !== undefined) {
    const ms = parseDurationMs(scrapeTimeout);
    return { interval: ms !== undefined && ms > DEFAULT_INTERVAL_MS ? formatDurationMs(ms) : DEFAULT_SCRAPE_INTERVAL, scrapeTimeout };
  }
  return { interval: DEFAULT_SCRAPE_INTERVAL, scrapeTimeout: DEFAULT_SCRAPE_TIMEOUT };
}
