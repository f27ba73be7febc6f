// Leader election on a coordination.k8s.io/v1 Lease, so two replicas never write at once.
// Expiry is judged by when THIS replica last saw the Lease change (as client-go does), not by
// comparing the holder's renewTime with our clock: clocks of two nodes may disagree.
// A released Lease (holderIdentity empty) is taken at once.
// A Lease marked removed (INSTALL_REMOVED_ANNOTATION, `vigil uninstall`) is never taken: a replica that
// reads the mark stops for good, fences its writer (onRemoved) and, when it leads, releases the Lease
// after that, so the remover knows no replica writes any more.
import { V1MicroTime, type V1Lease, type V1OwnerReference } from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import { describeApiError, isConflict, isNotFound, type KubeClients } from '../kube/client.js';
import { INSTALL_REMOVED_ANNOTATION } from '../contract.js';

export interface LeaderElectorOptions {
  namespace: string;
  name: string;
  identity: string;
  /** Set on the Lease when this elector creates it, so it is garbage-collected with its owner (issue #9). */
  ownerReferences?: V1OwnerReference[] | undefined;
  leaseDurationSeconds?: number;
  /** How often the leader renews. */
  renewIntervalMs?: number;
  /** How often a follower checks whether it can take over. */
  retryIntervalMs?: number;
  /** The leader steps down if it could not renew for this long (must be < lease duration). */
  renewDeadlineMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  /**
   * Called once when the Lease is first read marked removed, leader or not: resolves when this process
   * writes nothing any more (the leader releases the Lease only after it).
   */
  onRemoved?: () => Promise<void>;
  log: Logger;
}

/** Whether a Lease carries the removal mark. */
export function isMarkedRemoved(lease: V1Lease | undefined): boolean {
  return lease?.metadata?.annotations?.[INSTALL_REMOVED_ANNOTATION] !== undefined;
}

/**
 * A mark left by a removed earlier install in the same namespace (the Lease outlived its release, as it
 * is deleted with the old settings ConfigMap by the garbage collector): the Lease is owned by another
 * ConfigMap than this install's. Without an owner of our own, every mark counts.
 */
export function isStaleMark(lease: V1Lease, ownerReferences: readonly V1OwnerReference[] | undefined): boolean {
  if (!ownerReferences || ownerReferences.length === 0) return false;
  const ours = new Set(ownerReferences.map((r) => r.uid));
  const theirs = lease.metadata?.ownerReferences ?? [];
  return theirs.length > 0 && !theirs.some((r) => ours.has(r.uid));
}

/**
 * Lease times are MicroTime: the API server rejects a plain Date's millisecond ISO string
 * ("cannot parse .507Z as .000000"); V1MicroTime serializes with six fractional digits.
 */
function now(): Date {
  return new V1MicroTime();
}

/**
 * Times read back from the API come as strings (client-node does not deserialize MicroTime)
 * or Dates; they must go out as MicroTime again.
 */
function microSpec(spec: V1Lease['spec']): V1Lease['spec'] {
  if (!spec) return spec;
  const micro = (d: Date | string | undefined) => {
    if (d === undefined || d === null) return undefined;
    const ms = typeof d === 'string' ? Date.parse(d) : d.getTime();
    return Number.isNaN(ms) ? undefined : new V1MicroTime(ms);
  };
  return { ...spec, acquireTime: micro(spec.acquireTime), renewTime: micro(spec.renewTime) };
}

export interface LeaseView {
  holderIdentity?: string | undefined;
  resourceVersion?: string | undefined;
}

/** Whether a follower may take the Lease now (pure, for tests). */
export function canTakeOver(lease: LeaseView, observedChangeAtMs: number, nowMs: number, leaseDurationMs: number, identity: string): boolean {
  if (!lease.holderIdentity || lease.holderIdentity === identity) return true;
  return nowMs - observedChangeAtMs >= leaseDurationMs;
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private lastRenewOkAt = 0;
  /** The last Lease record seen and when it changed, for expiry judged on our own clock. */
  private observedKey = '';
  private observedAt = 0;
  private inFlight: Promise<void> | undefined;
  private readonly leaseDurationSeconds: number;
  private readonly renewIntervalMs: number;
  private readonly retryIntervalMs: number;
  private readonly renewDeadlineMs: number;
  /** The Lease was read marked removed: this process never leads again. */
  private removed = false;

  constructor(
    private readonly clients: KubeClients,
    private readonly opts: LeaderElectorOptions,
  ) {
    this.leaseDurationSeconds = opts.leaseDurationSeconds ?? 15;
    this.renewIntervalMs = opts.renewIntervalMs ?? 5000;
    this.retryIntervalMs = opts.retryIntervalMs ?? 2000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Whether this process read the removal mark (and so stopped for good). */
  isRemoved(): boolean {
    return this.removed;
  }

  start(): void {
    this.stopped = false;
    this.loop();
  }

  private loop(): void {
    if (this.stopped) return;
    this.inFlight = this.tryAcquireOrRenew().finally(() => {
      this.inFlight = undefined;
      if (!this.stopped) this.timer = setTimeout(() => this.loop(), this.leading ? this.renewIntervalMs : this.retryIntervalMs);
    });
  }

  private becomeLeader(): void {
    this.lastRenewOkAt = Date.now();
    if (!this.leading) {
      this.leading = true;
      this.opts.log.info('became leader', { lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity });
      this.opts.onStartedLeading();
    }
  }

  private loseLeadership(why: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.opts.log.warn('lost leadership', { reason: why, identity: this.opts.identity });
    this.opts.onStoppedLeading();
  }

  private observe(lease: V1Lease): void {
    const key = `${lease.spec?.holderIdentity ?? ''}|${String(lease.spec?.renewTime ?? '')}|${lease.metadata?.resourceVersion ?? ''}`;
    if (key !== this.observedKey) {
      this.observedKey = key;
      this.observedAt = Date.now();
    }
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { namespace, name, identity } = this.opts;
    try {
      let lease: V1Lease;
      try {
        lease = await this.clients.coordination.readNamespacedLease({ name, namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await this.clients.coordination.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace, ...(this.opts.ownerReferences ? { ownerReferences: this.opts.ownerReferences } : {}) },
            spec: { holderIdentity: identity, leaseDurationSeconds: this.leaseDurationSeconds, acquireTime: now(), renewTime: now(), leaseTransitions: 0 },
          },
        });
        this.becomeLeader();
        return;
      }
      let stale = false;
      if (isMarkedRemoved(lease)) {
        if (!isStaleMark(lease, this.opts.ownerReferences)) {
          await this.fence(lease);
          return;
        }
        stale = true;
      }
      this.observe(lease);
      const holder = stale ? '' : lease.spec?.holderIdentity;
      if (holder !== identity) {
        if (this.leading) this.loseLeadership(`lease now held by ${holder || 'nobody'}`);
        const durationMs = (lease.spec?.leaseDurationSeconds ?? this.leaseDurationSeconds) * 1000;
        if (!canTakeOver({ holderIdentity: holder }, this.observedAt, Date.now(), durationMs, identity)) return;
      }
      const takingOver = holder !== identity;
      const spec = {
        ...microSpec(lease.spec),
        holderIdentity: identity,
        leaseDurationSeconds: this.leaseDurationSeconds,
        renewTime: now(),
        ...(takingOver ? { acquireTime: now(), leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + (holder ? 1 : 0) } : {}),
      };
      // A stale mark goes, and the Lease becomes this install's (owned by its ConfigMap).
      const metadata = stale ? { ...lease.metadata, annotations: withoutMark(lease.metadata?.annotations), ownerReferences: this.opts.ownerReferences } : lease.metadata;
      if (stale) this.opts.log.info('took over a Lease marked removed by an earlier install in this namespace', { lease: `${namespace}/${name}` });
      // replace carries resourceVersion: if another replica got there first we get 409 and stay a follower.
      const updated = await this.clients.coordination.replaceNamespacedLease({ name, namespace, body: { ...lease, metadata, spec } });
      this.observe(updated);
      if (takingOver) this.opts.log.info('acquired lease', { previousHolder: holder || null });
      this.becomeLeader();
    } catch (err) {
      if (isConflict(err)) {
        this.opts.log.debug('lease changed concurrently; retrying', {});
      } else {
        this.opts.log.warn('lease renewal failed', { error: describeApiError(err) });
      }
      if (this.leading && Date.now() - this.lastRenewOkAt > this.renewDeadlineMs) {
        this.loseLeadership('could not renew the lease before the renew deadline');
      }
    }
  }

  /**
   * The Lease is marked removed: stop for good, stop leading, let the writer finish (onRemoved), then
   * clear holderIdentity when it is ours, which tells `vigil uninstall` that nothing writes any more.
   */
  private async fence(lease: V1Lease): Promise<void> {
    const { namespace, name, identity } = this.opts;
    if (!this.removed) {
      this.removed = true;
      this.stopped = true;
      this.opts.log.warn('the install is being removed (its Lease is marked); this replica stops writing', { lease: `${namespace}/${name}`, identity });
      if (this.leading) {
        this.leading = false;
        this.opts.onStoppedLeading();
      }
      await this.opts.onRemoved?.();
    }
    let current: V1Lease | undefined = lease;
    // A few tries: the remover or another replica may change the Lease meanwhile (409).
    for (let attempt = 0; attempt < 5 && current?.spec?.holderIdentity === identity; attempt++) {
      try {
        await this.clients.coordination.replaceNamespacedLease({ name, namespace, body: { ...current, spec: { ...microSpec(current.spec), holderIdentity: '', renewTime: now() } } });
        this.opts.log.info('released the Lease of the install being removed', { identity });
        return;
      } catch (err) {
        if (!isConflict(err)) {
          this.opts.log.warn('could not release the Lease of the install being removed; the remover waits for it to expire', { error: describeApiError(err) });
          return;
        }
        current = await this.clients.coordination.readNamespacedLease({ name, namespace }).catch(() => undefined);
      }
    }
  }

  /** Stops renewing; when leading, clears holderIdentity so a successor takes over at once. */
  async release(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
    if (!this.leading) return;
    const { namespace, name, identity } = this.opts;
    this.leading = false;
    this.opts.onStoppedLeading();
    try {
      const lease = await this.clients.coordination.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== identity) return;
      await this.clients.coordination.replaceNamespacedLease({
        name,
        namespace,
        body: { ...lease, spec: { ...microSpec(lease.spec), holderIdentity: '', renewTime: now() } },
      });
      this.opts.log.info('released lease', { identity });
    } catch (err) {
      this.opts.log.warn('could not release the lease; a successor takes over when it expires', { error: describeApiError(err) });
    }
  }
}

function withoutMark(annotations: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!annotations) return annotations;
  const { [INSTALL_REMOVED_ANNOTATION]: _mark, ...rest } = annotations;
  return rest;
}
