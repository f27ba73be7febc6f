// Informers that survive API server outages. client-node's ListWatch reconnects by itself after
// a normal watch end or a timeout, but on any other error (connection refused, 5xx, 403) it calls
// the error handlers and STOPS. Here every error restarts it with capped exponential backoff,
// resuming from the last resourceVersion (or relisting after 410 Gone), and the controller hears
// about every (re)sync so it reconciles from the refreshed cache.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import { describeApiError } from '../kube/client.js';
import { exponentialBackoff } from './queue.js';

export interface ResilientInformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  /** Watch path, e.g. /apis/vigil.dev/v1alpha1/monitoredservices */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  fieldSelector?: string;
  /** Label selector of the list and watch (the same string must be passed to `list`). */
  labelSelector?: string;
  /** Called on add/update/delete and after each successful (re)connect. */
  onChange: (kind: 'add' | 'update' | 'delete' | 'connect', obj?: T) => void;
  /**
   * Drops what the controller never reads from an object before the cache keeps it (e.g.
   * managedFields): with thousands of objects that is megabytes held for nothing.
   */
  trim?: (obj: T) => void;
  log: Logger;
  name: string;
}

export class ResilientInformer<T extends KubernetesObject> {
  private readonly informer: ListWatch<T>;
  private failures = 0;
  private lastErrorAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  private synced = false;
  private readonly backoff = exponentialBackoff(500, 10_000);

  constructor(private readonly opts: ResilientInformerOptions<T>) {
    // The list function tells us when a (re)list succeeded: that is when the cache is complete.
    const trim = opts.trim;
    const list = async () => {
      const result = await opts.list();
      if (trim) for (const item of result.items) trim(item);
      this.synced = true;
      return result;
    };
    this.informer = new ListWatch<T>(opts.path, new Watch(opts.kc), list, false, opts.labelSelector, opts.fieldSelector);
    // The cache has just stored the very object these handlers get: trimming it here trims the cache.
    this.informer.on('add', (o) => {
      trim?.(o);
      opts.onChange('add', o);
    });
    this.informer.on('update', (o) => {
      trim?.(o);
      opts.onChange('update', o);
    });
    this.informer.on('delete', (o) => opts.onChange('delete', o));
    this.informer.on('connect', () => {
      if (this.failures > 0) opts.log.info('watch reconnecting', { informer: opts.name, afterFailures: this.failures });
      opts.onChange('connect');
    });
    this.informer.on('error', (err) => this.onError(err));
  }

  /** True once a list succeeded; the cache then holds every object (maybe stale during an outage). */
  get hasSynced(): boolean {
    return this.synced;
  }

  list(): ReadonlyArray<T> {
    return this.informer.list();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.informer.stop();
  }

  private onError(err: unknown): void {
    if (this.stopped) return;
    // A failure long after the previous one starts a new outage: begin with a short delay again.
    if (Date.now() - this.lastErrorAt > 60_000) this.failures = 0;
    this.lastErrorAt = Date.now();
    this.failures += 1;
    const delay = this.backoff(this.failures);
    this.opts.log.warn('watch failed; restarting', { informer: this.opts.name, error: describeApiError(err), retryInMs: delay });
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.informer.start().catch((e: unknown) => this.onError(e));
    }, delay);
  }
}
