// What config Prometheus runs, as it reports it (issue #15, the Prometheus side of AlertmanagerPoller):
// the sidecar confirms a config once, when it reloads it; afterwards only a poll sees that Prometheus
// was reloaded into (or restarted with) a config Vigil did not write.
//
// Prometheus exports no hash of its config file (only prometheus_config_last_reload_successful and
// prometheus_config_last_reload_success_timestamp_seconds, which a reload of the right file moves just
// as much). GET /api/v1/status/config returns the YAML it runs, but re-serialised from the parsed
// config: every default filled in, secrets replaced by <secret>, so it never equals the file written.
// What it does keep verbatim is each scrape job's job_name (a string, quoted only when YAML needs it):
// Vigil names every job after its service (vigil/<namespace>/<name>/<port>), so the set of job names is
// what Vigil can compare robustly, and it is what decides which services Prometheus scrapes and alerts
// for. A partitioned config (assemble/partitioned-config.ts) has its services' jobs in files named by
// `scrape_config_files`, whose jobs Prometheus does not report, only the names: those names carry
// the digest of their jobs, so the names and the main file's jobs together are compared instead.
// Not detected: a foreign config with exactly Vigil's job names and scrape file names.
import type { Logger } from '../observability/logger.js';
import { scrapeConfigFiles, scrapeJobNames } from '../sync/job-names.js';
import { ServerPoller, serverUrl } from './server-poller.js';

export interface PrometheusRunning {
  /** job_name of every scrape config of Prometheus's main config file, sorted. */
  jobNames: string[];
  /**
   * Base names of its `scrape_config_files`, sorted: Prometheus reports these, not their jobs
   * (checked on 3.15.1); a partitioned config names each partition's scrape file after its jobs'
   * digest (render/names.ts partitionScrapeFileName), so the names stand for the jobs.
   */
  scrapeFiles: string[];
  /** When the last successful poll was sent (ms since the epoch): an answer older than the sidecar's apply says nothing about it. */
  polledAt: number;
}

/**
 * undefined when both sets of job names are equal; otherwise what differs, e.g. "missing 2 of Vigil's
 * 5 scrape jobs (vigil/shop/web/http, …); 1 job Vigil did not write (other)". At most `show` names of each kind.
 */
export function describeJobDifference(expected: readonly string[], running: readonly string[], show = 3, noun = 'scrape job'): string | undefined {
  const want = new Set(expected);
  const have = new Set(running);
  const missing = expected.filter((j) => !have.has(j));
  const foreign = running.filter((j) => !want.has(j));
  if (missing.length === 0 && foreign.length === 0) return undefined;
  const list = (names: string[]) => `${names.slice(0, show).join(', ')}${names.length > show ? `, and ${names.length - show} more` : ''}`;
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`missing ${missing.length} of Vigil's ${want.size} ${noun}s (${list(missing)})`);
  if (foreign.length > 0) parts.push(`${foreign.length} ${noun}${foreign.length === 1 ? '' : 's'} Vigil did not write (${list(foreign)})`);
  return parts.join('; ');
}

/**
 * describeJobDifference of the job names and of the scrape_config_files (base names) together;
 * undefined when both are equal.
 */
export function describeScrapeDifference(expected: Pick<PrometheusRunning, 'jobNames' | 'scrapeFiles'>, running: Pick<PrometheusRunning, 'jobNames' | 'scrapeFiles'>): string | undefined {
  const parts = [describeJobDifference(expected.jobNames, running.jobNames), describeJobDifference(expected.scrapeFiles, running.scrapeFiles, 3, 'scrape config file')].filter(
    (p): p is string => p !== undefined,
  );
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** The job names of the config Prometheus had loaded at `loadedAt`, as one full download read them. */
export interface LoadedConfig {
  /** lastConfigTime of /api/v1/status/runtimeinfo (ms since the epoch, whole seconds). */
  loadedAt: number;
  jobNames: string[];
  scrapeFiles: string[];
  /**
   * True when the download followed a runtimeinfo answer given at least one second after loadedAt
   * (Prometheus's own clock): lastConfigTime has whole seconds only, so a second reload in the same
   * second as the first leaves it unchanged; once that second is over, no reload can hide that way.
   */
  settled: boolean;
}

/**
 * Whether the poll must download the whole config again, given what the last download read and what
 * /api/v1/status/runtimeinfo says now (`loadedAt`: its lastConfigTime in ms since the epoch, undefined
 * when the answer has none: then always).
 *
 * Why: /api/v1/status/config re-serialises the whole config on every call. Measured on Prometheus
 * 3.15.1 with Vigil's config for 2,000 services: 3.9 MB per answer, 0.5 s of Prometheus CPU each;
 * every 10 s that is 5 % of a core at 2,000 services and about 25 % at 10,000 (issue #13). A new
 * config (a reload or a restart) always moves lastConfigTime, which costs a few hundred bytes to read.
 */
export function needsConfigDownload(last: LoadedConfig | undefined, loadedAt: number | undefined): boolean {
  return last === undefined || loadedAt === undefined || last.loadedAt !== loadedAt || !last.settled;
}

/** lastConfigTime and serverTime of a runtimeinfo answer (ms since the epoch), undefined where absent. */
export function runtimeTimes(data: unknown): { loadedAt: number | undefined; serverAt: number | undefined } {
  const d = (data ?? {}) as { lastConfigTime?: unknown; serverTime?: unknown };
  const ms = (v: unknown) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : undefined);
  return { loadedAt: ms(d.lastConfigTime), serverAt: ms(d.serverTime) };
}

/**
 * Polls Prometheus every intervalMs: /api/v1/status/runtimeinfo each time, and the whole
 * /api/v1/status/config only when that says the loaded config changed (needsConfigDownload). A failed
 * poll leaves the running config unknown (no problem reported from it): that Prometheus does not
 * answer is TargetsPoller's PrometheusUnreachable.
 */
export class PrometheusConfigPoller extends ServerPoller<PrometheusRunning> {
  constructor(prometheusUrl: string, intervalMs: number, onChange: () => void, log: Logger) {
    super({ server: 'Prometheus', url: prometheusUrl, intervalMs, onChange, log, consequence: 'the config it runs is unknown until it answers' });
  }

  /** Sent time of the last successful poll; `latest` keeps the time of the last change (ServerPoller stores only changes). */
  private lastPolledAt = 0;
  /** What the last download read. */
  private loaded: LoadedConfig | undefined;

  /** The latest report, undefined until a poll succeeded or while Prometheus does not answer. */
  get running(): PrometheusRunning | undefined {
    return this.failure || !this.latest ? undefined : { jobNames: this.latest.jobNames, scrapeFiles: this.latest.scrapeFiles, polledAt: this.lastPolledAt };
  }

  /** Whole-config downloads so far (tests read it to see the poll stays cheap). */
  configDownloads = 0;

  protected async fetchState(): Promise<PrometheusRunning> {
    const polledAt = Date.now();
    const { loadedAt, serverAt } = runtimeTimes(await this.getData('/api/v1/status/runtimeinfo'));
    let loaded = this.loaded;
    if (loaded === undefined || needsConfigDownload(loaded, loadedAt)) {
      const data = (await this.getData('/api/v1/status/config')) as { yaml?: unknown } | undefined;
      if (typeof data?.yaml !== 'string') throw new Error(`GET ${serverUrl(this.url, '/api/v1/status/config')}: no data.yaml (is it Prometheus?)`);
      this.configDownloads++;
      // Without lastConfigTime nothing tells a later poll whether the config changed: settled stays false.
      loaded = {
        loadedAt: loadedAt ?? Number.NaN,
        jobNames: scrapeJobNames(data.yaml),
        scrapeFiles: scrapeConfigFiles(data.yaml),
        settled: loadedAt !== undefined && serverAt !== undefined && serverAt >= loadedAt + 1000,
      };
      this.loaded = loaded;
    }
    this.lastPolledAt = polledAt;
    return { jobNames: loaded.jobNames, scrapeFiles: loaded.scrapeFiles, polledAt };
  }

  /** The `data` of a Prometheus API answer; throws on a transport error or an HTTP error status. */
  private async getData(path: string): Promise<unknown> {
    const url = serverUrl(this.url, path);
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    return ((await res.json()) as { data?: unknown }).data;
  }

  protected same(a: PrometheusRunning | undefined, b: PrometheusRunning): boolean {
    return a !== undefined && sameList(a.jobNames, b.jobNames) && sameList(a.scrapeFiles, b.scrapeFiles);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
