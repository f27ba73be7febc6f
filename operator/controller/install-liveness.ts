// Whether the install that claims a MonitoredService (status.install) is still there. Every install
// renews its Lease (OBJECT_NAMES.leaderLease in its namespace) while its operator runs; `helm
// uninstall` marks it removed (INSTALL_REMOVED_ANNOTATION, the chart's pre-delete hook) and then
// deletes it with the release, a deleted namespace deletes it, a stopped operator stops renewing it.
// A claim whose Lease is missing or marked removed, or has not changed for `orphanAfterMs`, is
// orphaned: another install whose scope selects the object takes it over (install-scope.ts). Changes
// are judged on this process's clock from when it saw them (as leader.ts does), never by comparing
// another node's renewTime with it.
import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import { describeApiError, isNotFound, type KubeClients } from '../kube/client.js';
import { INSTALL_REMOVED_ANNOTATION } from '../contract.js';

/** What one look at an install's Lease found: 'missing', or the record (holder, renewTime, resourceVersion). */
export type LeaseRecord = 'missing' | string;

/** The record of a Lease as read: any renewal or release changes it. A Lease marked removed counts as missing. */
export function leaseRecord(lease: V1Lease | undefined): LeaseRecord {
  if (!lease || lease.metadata?.annotations?.[INSTALL_REMOVED_ANNOTATION] !== undefined) return 'missing';
  return `${lease.spec?.holderIdentity ?? ''}|${String(lease.spec?.renewTime ?? '')}|${lease.metadata?.resourceVersion ?? ''}`;
}

export interface LeaseObservation {
  record: LeaseRecord;
  /** When this process first saw `record` (ms since the epoch, its own clock). */
  since: number;
}

/** The observation after reading `record` at `nowMs`: `since` moves only when the record changed. */
export function observeLease(previous: LeaseObservation | undefined, record: LeaseRecord, nowMs: number): LeaseObservation {
  return previous && previous.record === record ? previous : { record, since: nowMs };
}

/**
 * Whether the install behind an observation is gone: its Lease is missing (uninstalled, namespace
 * deleted), or unchanged for at least `orphanAfterMs` (no operator renewing it; a clean shutdown
 * releases it once and then it stays unchanged too). Undefined (never looked): not gone.
 */
export function installGone(observation: LeaseObservation | undefined, nowMs: number, orphanAfterMs: number): boolean {
  if (!observation) return false;
  if (observation.record === 'missing') return true;
  return nowMs - observation.since >= orphanAfterMs;
}

export interface InstallLivenessOptions {
  clients: KubeClients;
  /** Name of every install's Lease in its namespace. */
  leaseName: string;
  /** How long an unchanged Lease means its install is gone, ms. */
  orphanAfterMs: number;
  /** How often the Leases of the installs holding claims are read, ms. */
  intervalMs: number;
  /** Called when an install's verdict changes (a claim becomes free, or held again). */
  onChange: () => void;
  log: Logger;
  now?: () => number;
}

/**
 * Reads the Leases of the installs that hold claims on objects of this install's scope (`track`),
 * one GET each per interval, and says which of them are gone. Observations are kept for installs no
 * longer tracked, so a claim seen again after a while is judged by what was seen before.
 */
export class InstallLiveness {
  private readonly observations = new Map<string, LeaseObservation>();
  private readonly verdicts = new Map<string, boolean>();
  private tracked = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = true;
  private readonly now: () => number;

  constructor(private readonly opts: InstallLivenessOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Whether the install in `namespace` is gone (false while its Lease was never read). */
  isGone(namespace: string): boolean {
    return installGone(this.observations.get(namespace), this.now(), this.opts.orphanAfterMs);
  }

  /** What the last look at that install's Lease found, for logs: "missing" or "unchanged for 130 s". */
  describe(namespace: string): string {
    const o = this.observations.get(namespace);
    if (!o) return 'not read yet';
    if (o.record === 'missing') return `Lease ${namespace}/${this.opts.leaseName} missing`;
    return `Lease ${namespace}/${this.opts.leaseName} not renewed for ${Math.round((this.now() - o.since) / 1000)} s`;
  }

  /** The install namespaces whose Leases to read from now on; new ones are read at once. */
  track(namespaces: Iterable<string>): void {
    const next = new Set(namespaces);
    const added = [...next].some((ns) => !this.tracked.has(ns));
    this.tracked = next;
    if (added && !this.stopped && !this.inFlight) {
      if (this.timer) clearTimeout(this.timer);
      this.loop();
    }
  }

  start(): void {
    this.stopped = false;
    this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
  }

  private loop(): void {
    if (this.stopped) return;
    this.inFlight = this.poll().finally(() => {
      this.inFlight = undefined;
      if (!this.stopped) this.timer = setTimeout(() => this.loop(), this.opts.intervalMs);
    });
  }

  private async poll(): Promise<void> {
    let changed = false;
    for (const namespace of this.tracked) {
      let lease: V1Lease | undefined;
      try {
        lease = await this.opts.clients.coordination.readNamespacedLease({ name: this.opts.leaseName, namespace });
      } catch (err) {
        if (!isNotFound(err)) {
          // Unknown is not gone: a claim is only taken over on evidence.
          this.opts.log.warn('could not read the Lease of the install holding claims', { install: namespace, error: describeApiError(err) });
          continue;
        }
      }
      this.observations.set(namespace, observeLease(this.observations.get(namespace), leaseRecord(lease), this.now()));
    }
    // Verdicts move with time too (an unchanged Lease ages): compare every tracked one.
    for (const namespace of this.tracked) {
      const gone = this.isGone(namespace);
      if ((this.verdicts.get(namespace) ?? false) !== gone) {
        this.verdicts.set(namespace, gone);
        if (gone) this.opts.log.info('the install holding claims is gone; its MonitoredServices in this scope are taken over', { install: namespace, why: this.describe(namespace) });
        changed = true;
      }
    }
    if (changed) this.opts.onChange();
  }
}
