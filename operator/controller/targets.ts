// Discovered/healthy target counts per MonitoredService, from Prometheus's /api/v1/targets.
// Scrape jobs are named vigil/<namespace>/<name>/<port>, so the job label says whose target it is.
import type { Logger } from '../observability/logger.js';
import { formatDurationMs } from '../validate/duration.js';
import { LABEL_MONITORED_SERVICE, LABEL_NAMESPACE } from '../render/names.js';
import { LABEL_SCRAPE_CONFIG, SCRAPE_CONFIG_LOADED_RECORD } from '../render/rules.js';
import { REASONS, type RuleHealth, type ScrapeFailure, type TargetCounts } from './conditions.js';
import { ruleHealthByService, type RulesByService } from './rules-health.js';
import { describePollError, ServerPoller, serverUrl } from './server-poller.js';

export type { PollFailure } from './server-poller.js';

export type TargetsByService = Map<string, TargetCounts>;

export function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** Parses vigil/<ns>/<name>/<port>; undefined for other jobs (Prometheus itself, the operator). */
export function parseJobName(job: string): { namespace: string; name: string; port: string } | undefined {
  const parts = job.split('/');
  if (parts.length !== 4 || parts[0] !== 'vigil') return undefined;
  const [, namespace, name, port] = parts as [string, string, string, string];
  if (!namespace || !name || !port) return undefined;
  return { namespace, name, port };
}

interface ActiveTarget {
  labels?: Record<string, string>;
  discoveredLabels?: Record<string, string>;
  scrapePool?: string;
  scrapeUrl?: string;
  health?: string;
  lastError?: string;
}

/** Distinct scrape errors kept per service (most targets first); the message shows fewer (conditions.ts). */
export const MAX_FAILURE_GROUPS = 5;

/**
 * Class of one scrape error, as Prometheus writes it in a target's lastError (scrape/scrape.go and
 * Go's net/http, crypto/tls): the TargetsHealthy reason of a service whose targets all fail that way.
 * NoHealthyTargets for anything else (DNS, a body Prometheus cannot parse, ...).
 */
export function classifyScrapeError(error: string): ScrapeFailure['reason'] {
  if (/limit exceeded/i.test(error)) return REASONS.limitExceeded;
  if (/server returned HTTP status \d+/.test(error)) return REASONS.httpStatus;
  if (/x509: |tls: |certificate/i.test(error)) return REASONS.tlsError;
  if (/context deadline exceeded|Client\.Timeout|i\/o timeout/.test(error)) return REASONS.scrapeTimeout;
  if (/connection refused/.test(error)) return REASONS.connectionRefused;
  return REASONS.noHealthyTargets;
}

/** An IPv6 address in brackets or an IPv4 address, each with an optional port, as Go writes them in errors. */
const IPV6_ADDRESS = /\[[0-9a-f:.]+\](?::\d+)?/;
const IPV4_ADDRESS = /\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b/;

/**
 * An error with what differs between the targets of one service taken out (the quoted scrape URL,
 * IP addresses and ports), so that the same failure on 20 pods is one group.
 */
function errorGroupKey(error: string): string {
  return error
    .replace(/"[a-z][a-z0-9+.-]*:\/\/[^"]*"/gi, '"<url>"')
    .replace(new RegExp(IPV6_ADDRESS.source, 'gi'), '<address>')
    .replace(new RegExp(IPV4_ADDRESS.source, 'g'), '<address>');
}

const LOCAL_ADDRESS = new RegExp(`(?:${IPV6_ADDRESS.source}|${IPV4_ADDRESS.source})->`, 'gi');

/**
 * An error with the local end of its connection taken out: Go's network errors name it with an
 * ephemeral port (`read tcp 10.0.0.1:54321->10.0.0.2:8080: connection reset by peer`) that changes
 * with every scrape; the remote end, which says what failed, stays.
 */
export function maskLocalAddress(error: string): string {
  return error.replace(LOCAL_ADDRESS, '<local>->');
}

/** The instance a target is scraped as: its instance label, else the scrape URL's host. */
function instanceOf(t: ActiveTarget): string {
  if (t.labels?.instance) return t.labels.instance;
  try {
    return new URL(t.scrapeUrl ?? '').host;
  } catch {
    return '';
  }
}

/**
 * A scrape URL as shown in a status message: without its query (`params` may carry tokens) and
 * userinfo; undefined when it does not parse.
 */
export function shownScrapeUrl(scrapeUrl: string | undefined): string | undefined {
  if (!scrapeUrl) return undefined;
  try {
    const url = new URL(scrapeUrl);
    url.search = '';
    url.hash = '';
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return undefined;
  }
}

/**
 * Counts and scrape errors per service from a /api/v1/targets response body (already JSON-parsed).
 * health "unknown" (lastScrape zero: discovered, first scrape not done) counts as notScraped, not
 * as failing; "down" targets are grouped by error (errorGroupKey), most targets first; the errors are
 * kept with their local address masked (maskLocalAddress).
 */
export function countTargets(body: unknown): TargetsByService {
  const counts: TargetsByService = new Map();
  const groups = new Map<string, Map<string, ScrapeFailure>>();
  const active = (body as { data?: { activeTargets?: ActiveTarget[] } })?.data?.activeTargets;
  if (!Array.isArray(active)) throw new Error('unexpected /api/v1/targets response: no data.activeTargets');
  for (const t of active) {
    const job = t.scrapePool ?? t.labels?.job ?? t.discoveredLabels?.job;
    if (!job) continue;
    const parsed = parseJobName(job);
    if (!parsed) continue;
    const key = serviceKey(parsed.namespace, parsed.name);
    const c = counts.get(key) ?? { discovered: 0, healthy: 0 };
    c.discovered += 1;
    if (t.health === 'up') c.healthy += 1;
    else if (t.health === 'down') {
      // The local end's ephemeral port changes every scrape: masked, the message (and status write) stays the same.
      const error = maskLocalAddress(t.lastError?.trim() || 'the scrape failed (Prometheus reports no error)');
      const byError = groups.get(key) ?? new Map<string, ScrapeFailure>();
      const reason = classifyScrapeError(error);
      const groupKey = `${reason} ${errorGroupKey(error)}`;
      const group = byError.get(groupKey);
      const instance = instanceOf(t);
      // An HTTP status error does not name the path: its URL does (the README says to fix `path`).
      const scrapeUrl = reason === REASONS.httpStatus ? shownScrapeUrl(t.scrapeUrl) : undefined;
      const example = { error, instance, ...(scrapeUrl ? { scrapeUrl } : {}) };
      // The example shown is the first instance in sort order: the same failure reads the same every poll.
      if (!group) byError.set(groupKey, { reason, error, targets: 1, instance, ...(scrapeUrl ? { scrapeUrl } : {}) });
      else {
        group.targets += 1;
        if (instance < group.instance) {
          delete group.scrapeUrl;
          Object.assign(group, example);
        }
      }
      groups.set(key, byError);
    } else c.notScraped = (c.notScraped ?? 0) + 1;
    counts.set(key, c);
  }
  for (const [key, byError] of groups) {
    const failures = [...byError.values()].sort((a, b) => b.targets - a.targets || (a.error < b.error ? -1 : a.error > b.error ? 1 : 0));
    counts.get(key)!.failures = failures.slice(0, MAX_FAILURE_GROUPS);
  }
  return counts;
}

/** Same counts, scrape errors and rule health (what a status is computed from). */
export function sameCounts(a: TargetsByService | undefined, b: TargetsByService | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || JSON.stringify(w) !== JSON.stringify(v)) return false;
  }
  return true;
}

/**
 * When Prometheus first evaluated each service's rules with a given set of scrape jobs, over a
 * window of its grace clock: by service key, then by loadedKey(hash, window) (render/rules.ts
 * scrapeConfigHash, recordWindow), the time in ms since the epoch, or LOADED_LONG_AGO.
 */
export type ScrapeConfigsLoaded = Map<string, Map<string, number>>;

/** A window of ServiceDown's grace clock and the grace it holds, ms (render/rules.ts recordWindow). */
export interface RecordWindow {
  windowMs: number;
  graceMs: number;
}

/** A first record at least the grace old: past the grace, so no exact time is kept (the window's oldest sample moves with every poll). */
export const LOADED_LONG_AGO = 0;

/** The label scrapeConfigLoadedQuery puts on each answer: the window it was read over, ms. */
const WINDOW_LABEL = 'vigil_record_window';

function loadedKey(hash: string, windowMs: number): string {
  return `${windowMs} ${hash}`;
}

/**
 * The earliest record of each scrape config within each window (ServiceDown's grace clock,
 * render/rules.ts downAlertRules: `min_over_time(record[W])`, W per service), one query for all:
 * each window's answers labelled with it. Undefined without a window (no service with a down alert).
 */
export function scrapeConfigLoadedQuery(windows: readonly RecordWindow[]): string | undefined {
  const distinct = [...new Set(windows.map((w) => w.windowMs))].sort((a, b) => a - b);
  if (distinct.length === 0) return undefined;
  return distinct.map((w) => `label_replace(min_over_time(${SCRAPE_CONFIG_LOADED_RECORD}[${formatDurationMs(w)}]), "${WINDOW_LABEL}", "${w}", "", "")`).join(' or ');
}

/**
 * ScrapeConfigsLoaded from the answer to scrapeConfigLoadedQuery(windows) (/api/v1/query, already
 * JSON-parsed): each series' value is its first record time, its sample time is the query's time.
 */
export function scrapeConfigsLoaded(body: unknown, windows: readonly RecordWindow[]): ScrapeConfigsLoaded {
  const result = (body as { data?: { result?: { metric?: Record<string, string>; value?: [number, string] }[] } })?.data?.result;
  if (!Array.isArray(result)) throw new Error('unexpected /api/v1/query response: no data.result');
  const graceOf = new Map<number, number>();
  for (const { windowMs, graceMs } of windows) graceOf.set(windowMs, Math.min(graceMs, graceOf.get(windowMs) ?? graceMs));
  const loaded: ScrapeConfigsLoaded = new Map();
  for (const { metric, value } of result) {
    const namespace = metric?.[LABEL_NAMESPACE];
    const name = metric?.[LABEL_MONITORED_SERVICE];
    const hash = metric?.[LABEL_SCRAPE_CONFIG];
    const windowMs = Number(metric?.[WINDOW_LABEL]);
    const graceMs = graceOf.get(windowMs);
    const first = Number(value?.[1]) * 1000;
    const at = Number(value?.[0]) * 1000;
    if (!namespace || !name || !hash || graceMs === undefined || !Number.isFinite(first) || !Number.isFinite(at)) continue;
    const key = serviceKey(namespace, name);
    const byHash = loaded.get(key) ?? new Map<string, number>();
    byHash.set(loadedKey(hash, windowMs), at - first >= graceMs ? LOADED_LONG_AGO : Math.round(first));
    loaded.set(key, byHash);
  }
  return loaded;
}

/** What one poll of Prometheus read: targets and rule health of every service, and when their scrape configs were first evaluated. */
export interface PrometheusHealth {
  targets: TargetsByService;
  rules: RulesByService;
  loaded: ScrapeConfigsLoaded;
  /** Set when the query of `loaded` failed while targets and rules answered: `loaded` is the previous answer, and a record missing from it is not known to be missing. */
  loadedFailed?: string;
}

function sameRules(a: RulesByService, b: RulesByService): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (JSON.stringify(b.get(k)) !== JSON.stringify(v)) return false;
  return true;
}

function sameLoaded(a: ScrapeConfigsLoaded, b: ScrapeConfigsLoaded): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (JSON.stringify([...(b.get(k) ?? [])]) !== JSON.stringify([...v])) return false;
  return true;
}

/**
 * Polls Prometheus every intervalMs, for every service at once: /api/v1/targets (counts and scrape
 * errors), /api/v1/rules (rule health) and one query (when each service's scrape jobs were first
 * evaluated: its discovery grace), three requests per poll whatever the number of services
 * (server-poller.ts: when a failure counts); calls onChange when either changed, and when
 * Prometheus stops or starts answering.
 */
export class TargetsPoller extends ServerPoller<PrometheusHealth> {
  /** `fetchJson`: GET of a URL's JSON body, throwing on an HTTP error (tests pass a fake). */
  constructor(
    prometheusUrl: string,
    intervalMs: number,
    onChange: () => void,
    log: Logger,
    /** The grace-clock windows of the services now (render/rules.ts recordWindow), read at every poll. */
    private readonly recordWindows: () => readonly RecordWindow[] = () => [],
    private readonly fetchJson: (url: string) => Promise<unknown> = getJson,
  ) {
    super({ server: 'Prometheus', url: prometheusUrl, intervalMs, onChange, log, consequence: 'services report TargetsHealthy=Unknown (PrometheusUnreachable)' });
  }

  /** The latest counts, or undefined until a poll succeeded. */
  get counts(): TargetsByService | undefined {
    return this.latest?.targets;
  }

  /** Counts for one service (0/0 when Prometheus has none), undefined when unknown or Prometheus is unreachable. */
  countsFor(namespace: string, name: string): TargetCounts | undefined {
    if (!this.latest || this.failure) return undefined;
    return this.latest.targets.get(serviceKey(namespace, name)) ?? { discovered: 0, healthy: 0 };
  }

  /**
   * Rule health of one service's group; `loaded: false` when Prometheus has no group of it (not
   * loaded yet); undefined when unknown or Prometheus is unreachable.
   */
  rulesFor(namespace: string, name: string): RuleHealth | { loaded: false } | undefined {
    if (!this.latest || this.failure) return undefined;
    return this.latest.rules.get(serviceKey(namespace, name)) ?? { loaded: false };
  }

  /**
   * When Prometheus first evaluated the service's rules with the scrape config `hash`, read over
   * the window `windowMs` of its grace clock (render/rules.ts recordWindow): ms since the epoch,
   * LOADED_LONG_AGO, null when it has no record of it (not loaded, or not evaluated yet, or a window
   * the last poll did not read: a service new since); undefined when unknown: Prometheus is
   * unreachable, or the query failed and no earlier answer has it.
   */
  scrapeConfigLoaded(namespace: string, name: string, hash: string, windowMs: number): number | null | undefined {
    if (!this.latest || this.failure) return undefined;
    return this.latest.loaded.get(serviceKey(namespace, name))?.get(loadedKey(hash, windowMs)) ?? (this.latest.loadedFailed !== undefined ? undefined : null);
  }

  protected async fetchState(): Promise<PrometheusHealth> {
    // exclude_alerts: the active alerts of every rule would be most of the answer, and are not read.
    const [targets, rules, loaded] = await Promise.all([
      this.getJson('/api/v1/targets?state=active'),
      this.getJson('/api/v1/rules?exclude_alerts=true'),
      // Only the grace clock depends on it: a query Prometheus refuses (a timeout, a query limit) must not make every service PrometheusUnreachable.
      this.queryLoaded().catch((err: unknown) => new Error(describePollError(err))),
    ]);
    const health = { targets: countTargets(targets), rules: ruleHealthByService(rules) };
    if (!(loaded instanceof Error)) return { ...health, loaded };
    if (this.latest?.loadedFailed === undefined) {
      this.opts.log.warn('querying Prometheus for the discovery grace clock failed; services without targets get no discovery grace until it answers', { error: loaded.message, url: this.opts.url });
    }
    return { ...health, loaded: this.latest?.loaded ?? new Map(), loadedFailed: loaded.message };
  }

  private async queryLoaded(): Promise<ScrapeConfigsLoaded> {
    const windows = this.recordWindows();
    const query = scrapeConfigLoadedQuery(windows);
    if (query === undefined) return new Map();
    return scrapeConfigsLoaded(await this.getJson(`/api/v1/query?query=${encodeURIComponent(query)}`), windows);
  }

  private getJson(path: string): Promise<unknown> {
    return this.fetchJson(serverUrl(this.url, path));
  }

  protected same(a: PrometheusHealth | undefined, b: PrometheusHealth): boolean {
    return a !== undefined && sameCounts(a.targets, b.targets) && sameRules(a.rules, b.rules) && sameLoaded(a.loaded, b.loaded) && a.loadedFailed === b.loadedFailed;
  }
}

/** GET `url` (5 s timeout): its JSON body; throws on an HTTP error status. */
async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.json();
}
