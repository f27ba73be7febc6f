// Discovered/healthy target counts per MonitoredService, from Prometheus's /api/v1/targets.
// Scrape jobs are named vigil/<namespace>/<name>/<port>, so the job label says whose target it is.
import type { Logger } from '../observability/logger.js';
import type { TargetCounts } from './conditions.js';
import { ServerPoller, serverUrl } from './server-poller.js';

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
  health?: string;
}

/** Counts from a /api/v1/targets response body (already JSON-parsed). */
export function countTargets(body: unknown): TargetsByService {
  const counts: TargetsByService = new Map();
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
    counts.set(key, c);
  }
  return counts;
}

export function sameCounts(a: TargetsByService | undefined, b: TargetsByService | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || w.discovered !== v.discovered || w.healthy !== v.healthy) return false;
  }
  return true;
}

/**
 * Polls Prometheus's /api/v1/targets every intervalMs (server-poller.ts: when a failure counts);
 * calls onChange when the counts changed, and when Prometheus stops or starts answering.
 */
export class TargetsPoller extends ServerPoller<TargetsByService> {
  constructor(prometheusUrl: string, intervalMs: number, onChange: () => void, log: Logger) {
    super({ server: 'Prometheus', url: prometheusUrl, intervalMs, onChange, log, consequence: 'services report TargetsHealthy=Unknown (PrometheusUnreachable)' });
  }

  /** The latest counts, or undefined until a poll succeeded. */
  get counts(): TargetsByService | undefined {
    return this.latest;
  }

  /** Counts for one service (0/0 when Prometheus has none), undefined when unknown or Prometheus is unreachable. */
  countsFor(namespace: string, name: string): TargetCounts | undefined {
    if (!this.latest || this.failure) return undefined;
    return this.latest.get(serviceKey(namespace, name)) ?? { discovered: 0, healthy: 0 };
  }

  protected async fetchState(): Promise<TargetsByService> {
    const url = serverUrl(this.url, '/api/v1/targets?state=active');
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    return countTargets(await res.json());
  }

  protected same(a: TargetsByService | undefined, b: TargetsByService): boolean {
    return sameCounts(a, b);
  }
}
