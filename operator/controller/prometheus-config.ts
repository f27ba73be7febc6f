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
// for. Not detected: a foreign config with exactly Vigil's job names.
import { parse } from 'yaml';
import type { Logger } from '../observability/logger.js';
import { ServerPoller } from './server-poller.js';

export interface PrometheusRunning {
  /** job_name of every scrape config Prometheus runs, sorted. */
  jobNames: string[];
  /** When the last successful poll was sent (ms since the epoch): an answer older than the sidecar's apply says nothing about it. */
  polledAt: number;
}

/**
 * The job_name values of a Prometheus config in YAML text, sorted: Vigil's rendered prometheus.yml or
 * the `data.yaml` of Prometheus's /api/v1/status/config. Read line by line (`job_name: <scalar>`, as a
 * sequence item or a later key), not by parsing the whole document: the config of 2,000 services is
 * megabytes, polled every 10 s. Quoted scalars are unquoted by the YAML parser.
 */
export function scrapeJobNames(yamlText: string): string[] {
  const names: string[] = [];
  for (const m of yamlText.matchAll(/^[ \t]*(?:- )?job_name: ?(.*)$/gm)) {
    const raw = (m[1] ?? '').trim();
    names.push(raw.startsWith("'") || raw.startsWith('"') ? String(parse(raw)) : raw);
  }
  return names.sort();
}

/**
 * undefined when both sets of job names are equal; otherwise what differs, e.g. "missing 2 of Vigil's
 * 5 scrape jobs (vigil/shop/web/http, …); 1 job Vigil did not write (other)". At most `show` names of each kind.
 */
export function describeJobDifference(expected: readonly string[], running: readonly string[], show = 3): string | undefined {
  const want = new Set(expected);
  const have = new Set(running);
  const missing = expected.filter((j) => !have.has(j));
  const foreign = running.filter((j) => !want.has(j));
  if (missing.length === 0 && foreign.length === 0) return undefined;
  const list = (names: string[]) => `${names.slice(0, show).join(', ')}${names.length > show ? `, and ${names.length - show} more` : ''}`;
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`missing ${missing.length} of Vigil's ${want.size} scrape jobs (${list(missing)})`);
  if (foreign.length > 0) parts.push(`${foreign.length} scrape job${foreign.length === 1 ? '' : 's'} Vigil did not write (${list(foreign)})`);
  return parts.join('; ');
}

/**
 * Polls Prometheus's /api/v1/status/config every intervalMs. A failed poll leaves the running config
 * unknown (no problem reported from it): that Prometheus does not answer is TargetsPoller's
 * PrometheusUnreachable.
 */
export class PrometheusConfigPoller extends ServerPoller<PrometheusRunning> {
  constructor(prometheusUrl: string, intervalMs: number, onChange: () => void, log: Logger) {
    super({ server: 'Prometheus', url: prometheusUrl, intervalMs, onChange, log, consequence: 'the config it runs is unknown until it answers' });
  }

  /** Sent time of the last successful poll; `latest` keeps the time of the last change (ServerPoller stores only changes). */
  private lastPolledAt = 0;

  /** The latest report, undefined until a poll succeeded or while Prometheus does not answer. */
  get running(): PrometheusRunning | undefined {
    return this.failure || !this.latest ? undefined : { jobNames: this.latest.jobNames, polledAt: this.lastPolledAt };
  }

  protected async fetchState(): Promise<PrometheusRunning> {
    const polledAt = Date.now();
    const url = new URL('/api/v1/status/config', this.url).toString();
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    const body = (await res.json()) as { data?: { yaml?: unknown } };
    if (typeof body.data?.yaml !== 'string') throw new Error(`GET ${url}: no data.yaml (is it Prometheus?)`);
    this.lastPolledAt = polledAt;
    return { jobNames: scrapeJobNames(body.data.yaml), polledAt };
  }

  protected same(a: PrometheusRunning | undefined, b: PrometheusRunning): boolean {
    return a !== undefined && a.jobNames.length === b.jobNames.length && a.jobNames.every((j, i) => j === b.jobNames[i]);
  }
}
