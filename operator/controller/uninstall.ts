// What an install leaves on its MonitoredServices when it is removed (issue 22, "a status whose writer
// is gone never stays green"): `vigil uninstall`, run by the chart's pre-delete hook while the
// release's operator and ServiceAccount still exist.
//
// Order, so that the running operator cannot overwrite what is written here:
// 1. mark the install's Lease removed (INSTALL_REMOVED_ANNOTATION). Every replica reads its Lease at
//    each renewal (leader) or retry (follower); one that reads the mark stops writing for good and
//    the leader then releases the Lease (holderIdentity empty) after its pass in flight (leader.ts).
//    No replica takes a marked Lease: taking it is an update carrying the resourceVersion it read,
//    which holds the mark, or fails with a conflict and is read again.
// 2. wait until the Lease is released, or unchanged for a Lease duration (its holder is dead), and
//    FOLLOWER_READ_MS have passed since the mark (every follower has read it);
// 3. write each claimed object's status: InstallRemoved, the claim (status.install) removed, so that
//    another install whose scope selects it takes it over at once;
// 4. leave the Lease marked and released: the garbage collector deletes it with the release's
//    settings ConfigMap, and until then a replica that starts anew reads the mark too.
import type { V1Lease } from '@kubernetes/client-node';
import type { MonitoredServiceStatus } from '../api/schema.js';
import type { RawMonitoredService as MsObject } from '../api/raw.js';
import { API_GROUP, API_VERSION, PLURAL } from '../api/schema.js';
import { INSTALL_REMOVED_ANNOTATION, OBJECT_NAMES } from '../contract.js';
import { describeApiError, isConflict, isNotFound, type KubeClients } from '../kube/client.js';
import { patchMonitoredServiceStatus, readConfigMapOrUndefined } from '../kube/objects.js';
import type { Logger } from '../observability/logger.js';
import { isMarkedRemoved } from './leader.js';
import { leaseRecord } from './install-liveness.js';

export const INSTALL_REMOVED_REASON = 'InstallRemoved';

/** The leader renews every 5 s and a follower retries every 2 s (leader.ts defaults): both have read the mark after this, ms. */
export const FOLLOWER_READ_MS = 7000;

/** The condition types the removed install reported on; Valid is about the spec and stays. */
const SERVER_CONDITIONS = ['ConfigApplied', 'TargetsHealthy', 'RulesHealthy', 'EmailDelivered', 'Ready'] as const;

/** The message of every condition the removal writes, naming the install. */
export function installRemovedMessage(installNamespace: string): string {
  return (
    `the Vigil install in namespace ${installNamespace} was removed (helm uninstall): nothing scrapes this service or emails its alerts ` +
    'until another install whose scope selects it takes it over (it then reports its own status)'
  );
}

/**
 * The status merge patch the removal writes on one object: ConfigApplied and Ready False, the
 * health conditions Unknown, each with reason InstallRemoved; Valid kept; the removed servers'
 * figures (targets, applied hash) and the claim (install) removed. lastValidGeneration/-Spec stay
 * for the next install. `now` is RFC 3339.
 */
export function installRemovedStatusPatch(previous: MonitoredServiceStatus | undefined, installNamespace: string, now: string): { status: Record<string, unknown> } {
  const message = installRemovedMessage(installNamespace);
  const kept = (previous?.conditions ?? []).filter((c) => !(SERVER_CONDITIONS as readonly string[]).includes(c.type));
  const removed = SERVER_CONDITIONS.map((type) => {
    const status = type === 'ConfigApplied' || type === 'Ready' ? 'False' : 'Unknown';
    const prev = previous?.conditions?.find((c) => c.type === type);
    return {
      type,
      status,
      reason: INSTALL_REMOVED_REASON,
      message,
      lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now,
      ...(prev?.observedGeneration !== undefined ? { observedGeneration: prev.observedGeneration } : {}),
    };
  });
  return { status: { conditions: [...kept, ...removed], install: null, discoveredTargets: null, healthyTargets: null, appliedConfigHash: null } };
}

/** Whether the removal left this status (so an operator still running did not overwrite it). */
export function showsInstallRemoved(status: MonitoredServiceStatus | undefined): boolean {
  return status?.install === undefined && status?.conditions?.find((c) => c.type === 'Ready')?.reason === INSTALL_REMOVED_REASON;
}

export interface RemoveInstallOptions {
  clients: KubeClients;
  /** The install namespace (its Lease, and status.install.namespace of its claims). */
  namespace: string;
  /** The namespaces the install watches (its RBAC may allow only these); empty: all. */
  watchNamespaces: readonly string[];
  /** Longest wait for the operator to stop writing, ms. */
  timeoutMs: number;
  log: Logger;
  /** How often the Lease is read while waiting, ms. */
  pollMs?: number;
  fieldManager?: string;
}

export interface RemoveInstallResult {
  /** namespace/name of every object whose status now says InstallRemoved. */
  released: string[];
  /** How the wait for the operator ended: its Lease released (or never held), or unrenewed for its duration (no operator ran). */
  operator: 'released' | 'expired';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sets the removal mark on the install's Lease (creating it marked when missing); returns the Lease as written. */
async function markLease(clients: KubeClients, namespace: string, at: string): Promise<V1Lease> {
  const name = OBJECT_NAMES.leaderLease;
  for (let attempt = 0; ; attempt++) {
    let lease: V1Lease | undefined;
    try {
      lease = await clients.coordination.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      if (!lease) {
        // Owned like the operator's own (the settings ConfigMap, when there is one), so it goes with the release.
        const owner = await readConfigMapOrUndefined(clients, namespace, OBJECT_NAMES.settingsConfigMap);
        const ownerReferences = owner?.metadata?.uid ? [{ apiVersion: 'v1', kind: 'ConfigMap', name: OBJECT_NAMES.settingsConfigMap, uid: owner.metadata.uid }] : undefined;
        return await clients.coordination.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace, annotations: { [INSTALL_REMOVED_ANNOTATION]: at }, ...(ownerReferences ? { ownerReferences } : {}) },
            spec: { holderIdentity: '' },
          },
        });
      }
      if (isMarkedRemoved(lease)) return lease;
      const annotations = { ...(lease.metadata?.annotations ?? {}), [INSTALL_REMOVED_ANNOTATION]: at };
      // Only the annotation changes; replace carries the resourceVersion read, so a renewal in between is a conflict, retried.
      return await clients.coordination.replaceNamespacedLease({ name, namespace, body: { ...lease, metadata: { ...lease.metadata, annotations } } });
    } catch (err) {
      if (!isConflict(err) || attempt >= 20) throw err;
    }
  }
}

/**
 * Waits until no replica of the install writes: the Lease released (holderIdentity empty) or
 * unchanged for its duration (the holder is dead), and FOLLOWER_READ_MS since the mark.
 * Throws after `timeoutMs` when the holder keeps renewing.
 */
async function awaitFence(o: RemoveInstallOptions, markedAt: number): Promise<RemoveInstallResult['operator']> {
  const name = OBJECT_NAMES.leaderLease;
  const pollMs = o.pollMs ?? 500;
  let record = '';
  let since = Date.now();
  let verdict: RemoveInstallResult['operator'] | undefined;
  for (;;) {
    const lease = await o.clients.coordination.readNamespacedLease({ name, namespace: o.namespace }).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    const now = Date.now();
    const holder = lease?.spec?.holderIdentity ?? '';
    const key = `${holder}|${String(lease?.spec?.renewTime ?? '')}|${lease?.metadata?.resourceVersion ?? ''}|${leaseRecord(lease)}`;
    if (key !== record) {
      record = key;
      since = now;
    }
    const durationMs = (lease?.spec?.leaseDurationSeconds ?? 15) * 1000;
    if (!verdict) {
      if (!lease) throw new Error(`the Lease ${o.namespace}/${name} was deleted while the install was being removed; run vigil uninstall again`);
      if (holder === '') verdict = 'released';
      else if (now - since >= durationMs) verdict = 'expired';
    }
    if (verdict && now - markedAt >= FOLLOWER_READ_MS) return verdict;
    if (now - markedAt > o.timeoutMs)
      throw new Error(
        `the operator of ${o.namespace} still holds its Lease ${name} (holder ${holder}) ${Math.round(o.timeoutMs / 1000)} s after it was marked removed: ` +
          'is it an older Vigil without this step? Nothing was written; stop the operator (kubectl scale deployment/vigil-operator --replicas=0) and run this again, or uninstall with helm uninstall --no-hooks',
      );
    await sleep(pollMs);
  }
}

/** The objects in the install's namespaces whose status.install names it. */
async function claimedObjects(o: RemoveInstallOptions): Promise<MsObject[]> {
  const lists = o.watchNamespaces.length > 0 ? o.watchNamespaces.map((ns) => ns as string | undefined) : [undefined];
  const objects: MsObject[] = [];
  for (const namespace of lists) {
    const list = (
      namespace
        ? await o.clients.custom.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, plural: PLURAL, namespace })
        : await o.clients.custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: PLURAL })
    ) as { items?: MsObject[] };
    for (const item of list.items ?? []) if (item.status?.install?.namespace === o.namespace) objects.push(item);
  }
  return objects;
}

/** Marks the install removed, waits for its operator to stop writing, then writes InstallRemoved on every object it claims. */
export async function removeInstall(o: RemoveInstallOptions): Promise<RemoveInstallResult> {
  const start = Date.now();
  const at = new Date(start).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const before = await markLease(o.clients, o.namespace, at);
  o.log.info('marked the install removed on its Lease', { lease: `${o.namespace}/${OBJECT_NAMES.leaderLease}`, holder: before.spec?.holderIdentity || null });
  const operator = await awaitFence(o, start);
  o.log.info('the operator writes no more', { how: operator });
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const released: string[] = [];
  for (const obj of await claimedObjects(o)) {
    const namespace = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    try {
      await patchMonitoredServiceStatus(o.clients, namespace, name, installRemovedStatusPatch(obj.status, o.namespace, now), o.fieldManager ?? 'vigil-uninstall');
      released.push(`${namespace}/${name}`);
    } catch (err) {
      if (isNotFound(err)) continue; // deleted meanwhile
      throw new Error(`could not write the status of MonitoredService ${namespace}/${name}: ${describeApiError(err)}`);
    }
  }
  o.log.info('released the MonitoredServices of the removed install', { install: o.namespace, count: released.length });
  return { released, operator };
}
