// Polling a server the operator depends on (Prometheus for target counts, Alertmanager for its
// running config), and deciding when a failed poll means "unreachable" (issue #15).
import type { Logger } from '../observability/logger.js';

/** The last poll failed: since when (ISO time of the first failure in a row) and why. */
export interface PollFailure {
  since: string;
  error: string;
}

export interface ServerPollerOptions {
  /** For messages: "Prometheus", "Alertmanager". */
  server: string;
  url: string;
  intervalMs: number;
  onChange: () => void;
  log: Logger;
  /** What the services report while it fails, for the log line. */
  consequence: string;
}

/**
 * Polls every intervalMs; calls onChange when the state changed, and when the server stops or
 * starts answering: at once when the connection is refused (a dead process), after two failed
 * polls in a row otherwise (a hung or overloaded one), see recordFailure.
 */
export abstract class ServerPoller<T> {
  protected latest: T | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failing: PollFailure | undefined;
  /** A first failure not reported yet (recordFailure). */
  private pendingFailure: PollFailure | undefined;
  private stopped = false;

  constructor(protected readonly opts: ServerPollerOptions) {}

  /** One poll: the state, or a thrown error (fetch's, or an HTTP status). */
  protected abstract fetchState(): Promise<T>;
  protected abstract same(a: T | undefined, b: T): boolean;

  /** Set while the server does not answer (its state is then unknown, not frozen). */
  get failure(): PollFailure | undefined {
    return this.failing;
  }

  /** The URL polled (for messages). */
  get url(): string {
    return this.opts.url;
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
    const state = await this.fetchState();
    const recovered = this.failing !== undefined;
    if (recovered) this.opts.log.info(`${this.opts.server} answers again`, { url: this.opts.url, unreachableSince: this.failing?.since });
    this.failing = undefined;
    this.pendingFailure = undefined;
    if (recovered || !this.same(this.latest, state)) {
      this.latest = state;
      this.opts.onChange();
    }
  }

  private async tick(): Promise<void> {
    try {
      await this.pollOnce();
    } catch (err) {
      this.recordFailure(describePollError(err), isRefused(err));
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.opts.intervalMs);
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
        this.opts.onChange();
      }
      return;
    }
    const since = this.pendingFailure?.since ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (!refused && !this.pendingFailure) {
      this.pendingFailure = { since, error };
      this.opts.log.info(`polling ${this.opts.server} failed once; unreachable if the next poll fails too`, { error, url: this.opts.url });
      return;
    }
    this.pendingFailure = undefined;
    this.failing = { since, error };
    this.opts.log.warn(`polling ${this.opts.server} failed; ${this.opts.consequence}`, { error, url: this.opts.url });
    this.opts.onChange();
  }
}

/**
 * `path` (with its query) under the server's base URL, keeping the base's own path: a server run with
 * --web.external-url https://example.com/prometheus serves its API under /prometheus, and
 * `new URL('/api/...', base)` would drop that prefix.
 */
export function serverUrl(base: string, path: string): string {
  const url = new URL(base);
  const [pathname = '', query] = path.split('?', 2);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${pathname.replace(/^\/+/, '')}`;
  url.search = query === undefined ? '' : `?${query}`;
  return url.toString();
}

// Duck-typed, not instanceof: fetch's errors may come from another realm (jest's VM context).
export function describePollError(err: unknown): string {
  const e = err as { message?: unknown; cause?: { message?: unknown } } | undefined;
  if (typeof e?.message !== 'string') return String(err);
  return typeof e.cause?.message === 'string' ? `${e.message}: ${e.cause.message}` : e.message;
}

/** fetch() wraps the socket error in `cause` (undici); ECONNREFUSED = no process listens on the port. */
function isRefused(err: unknown): boolean {
  return (err as { cause?: { code?: unknown } } | undefined)?.cause?.code === 'ECONNREFUSED';
}
