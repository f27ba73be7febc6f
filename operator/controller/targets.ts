// Discovered/healthy target counts per MonitoredService, from Prometheus's /api/v1/targets.
// Scrape jobs are named vigil/<namespace>/<name>/<port>, so the job label says whose target it is.
import type { Logger } from '../observability/logger.js';
import type { TargetCounts } from './conditions.js';

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

/** The last poll failed: since when (ISO time of the first failure in a row) and why. */
export interface PollFailure {
  since: string;
  error: string;
}

/**
 * Polls Prometheus every intervalMs; calls onChange when the counts changed, and when Prometheus
 * stops or starts answering: at once when the connection is refused (a dead process), after two
 * failed polls in a row otherwise (a hung or overloaded one), see recordFailure.
 */
export class TargetsPoller {
  private timer: NodeJS.Timeout | undefined;
  private latest: TargetsByService | undefined;
  private failing: PollFailure | undefined;
  /** A first failure not reported yet (recordFailure). */
  private pendingFailure: PollFailure | undefined;
  private stopped = false;

  constructor(
    private readonly prometheusUrl: string,
    private readonly intervalMs: number,
    private readonly onChange: () => void,
    private readonly log: Logger,
  ) {}

  /** The latest counts, or undefined until a poll succeeded. */
  get counts(): TargetsByService | undefined {
    return this.latest;
  }

  /** Set while Prometheus does not answer (the counts are then unknown, not frozen). */
  get failure(): PollFailure | undefined {
    return this.failing;
  }

  /** The URL polled (for messages). */
  get url(): string {
    return this.prometheusUrl;
  }

  /** Counts for one service (0/0 when Prometheus has none), undefined when unknown or Prometheus is unreachable. */
  countsFor(namespace: string, name: string): TargetCounts | undefined {
    if (!this.latest || this.failing) return undefined;
    return this.latest.get(serviceKey(namespace, name)) ?? { discovered: 0, healthy: 0 };
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  async pollOnce(): Promise<void> {
    const url = new URL('/api/v1/targets?state=active', this.prometheusUrl).toString();
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    const counts = countTargets(await res.json());
    const recovered = this.failing !== undefined;
    if (recovered) this.log.info('Prometheus answers again', { prometheusUrl: this.prometheusUrl, unreachableSince: this.failing?.since });
    this.failing = undefined;
    this.pendingFailure = undefined;
    if (recovered || !sameCounts(this.latest, counts)) {
      this.latest = counts;
      this.onChange();
    }
  }

  private async tick(): Promise<void> {
    try {
      await this.pollOnce();
    } catch (err) {
      this.recordFailure(describePollError(err), isRefused(err));
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.intervalMs);
  }

  /**
   * A refused connection means nothing listens: reported at once. Any other failure (a timeout,
   * an HTTP error) is reported when the next poll fails too: a Prometheus busy reloading a large
   * config answered /api/v1/targets after more than 5 s in the 2,000-service burst test, and one
   * slow answer flipped every service to Unknown and back (4,000 status writes for nothing).
   */
  recordFailure(error: string, refused: boolean): void {
    if (this.failing) {
      if (this.failing.error !== error) {
        this.failing = { ...this.failing, error };
        this.onChange();
      }
      return;
    }
    const since = this.pendingFailure?.since ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (!refused && !this.pendingFailure) {
      this.pendingFailure = { since, error };
      this.log.info('polling Prometheus targets failed once; Unknown if the next poll fails too', { error, prometheusUrl: this.prometheusUrl });
      return;
    }
    this.pendingFailure = undefined;
    this.failing = { since, error };
    this.log.warn('polling Prometheus targets failed; services report TargetsHealthy=Unknown (PrometheusUnreachable)', { error, prometheusUrl: this.prometheusUrl });
    this.onChange();
  }
}

// Duck-typed, not instanceof: fetch's errors may come from another realm (jest's VM context).
function describePollError(err: unknown): string {
  const e = err as { message?: unknown; cause?: { message?: unknown } } | undefined;
  if (typeof e?.message !== 'string') return String(err);
  return typeof e.cause?.message === 'string' ? `${e.message}: ${e.cause.message}` : e.message;
}

/** fetch() wraps the socket error in `cause` (undici); ECONNREFUSED = no process listens on the port. */
function isRefused(err: unknown): boolean {
  return (err as { cause?: { code?: unknown } } | undefined)?.cause?.code === 'ECONNREFUSED';
}
