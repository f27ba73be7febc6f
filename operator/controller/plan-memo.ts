// What planReconcile (plan.ts) keeps between reconciles besides the caches of operator/assemble/
// and the status memo: per-object facts that are pure functions of an object the informer holds
// (its ref and `<namespace>/<name>` key, the receiver of a valid service's route), the order of the
// last reconcile's services and the included set. Each is recomputed from its input whenever that
// input is a different object, so a plan with this memo equals one without it (plan.test.ts and
// service-cache.test.ts compare them); it only saves the passes over every object that one change
// does not need: allocating refs and keys, sorting 10,000 services again, building the included set
// (issue 23: one change at 10,000 services).
import type { MonitoredService } from '../api/schema.js';
import type { RawMonitoredService } from '../api/raw.js';
import { routeReceiver } from '../render/alertmanager.js';
import { compareRefs } from '../render/names.js';
import type { ObjectRef } from '../render/types.js';

/** An informer object's ref and its `<namespace>/<name>` key (the key of every per-object map in a plan). */
export interface ObjectIdentity {
  ref: ObjectRef;
  key: string;
}

export class ReconcileMemo {
  /** Per informer object (a changed object is a new object; entries go with their objects). */
  private readonly identities = new WeakMap<RawMonitoredService, ObjectIdentity>();
  /** Per valid service (the ServiceCache's validation result: a new generation is a new object). */
  private readonly serviceKeys = new WeakMap<MonitoredService, string>();
  private readonly receivers = new WeakMap<MonitoredService, string>();
  /** The keys of an included list (RenderedConfig.included: the same array while no route or service moved). */
  private readonly includedSets = new WeakMap<readonly ObjectRef[], ReadonlySet<string>>();
  /** The last sort: the services and their keys in input order, and the permutation that sorts them. */
  private lastSort: { services: readonly MonitoredService[]; keys: string[]; order: number[] } | undefined;
  /** Sorts done (not reused), for tests. */
  sorts = 0;

  identityOf(raw: RawMonitoredService): ObjectIdentity {
    let identity = this.identities.get(raw);
    if (!identity) {
      const ref = { namespace: raw.metadata?.namespace ?? '', name: raw.metadata?.name ?? '' };
      identity = { ref, key: `${ref.namespace}/${ref.name}` };
      this.identities.set(raw, identity);
    }
    return identity;
  }

  /** `<namespace>/<name>` of a service. */
  keyOf(service: MonitoredService): string {
    let key = this.serviceKeys.get(service);
    if (key === undefined) {
      key = `${service.metadata.namespace}/${service.metadata.name}`;
      this.serviceKeys.set(service, key);
    }
    return key;
  }

  /** render/alertmanager.ts routeReceiver of a service (a string built from its recipients). */
  receiverOf(service: MonitoredService): string {
    let receiver = this.receivers.get(service);
    if (receiver === undefined) {
      receiver = routeReceiver(service);
      this.receivers.set(service, receiver);
    }
    return receiver;
  }

  /** The `<namespace>/<name>` keys of `included`. */
  includedKeys(included: readonly ObjectRef[]): ReadonlySet<string> {
    let keys = this.includedSets.get(included);
    if (!keys) {
      keys = new Set(included.map((r) => `${r.namespace}/${r.name}`));
      this.includedSets.set(included, keys);
    }
    return keys;
  }

  /**
   * `services` in namespace/name order (render/names.ts compareRefs), as a new array. When their
   * keys in input order are those of the last call (the informer lists its objects in a stable
   * order, and a change keeps an object's place), the last permutation is applied: the same result
   * as sorting, as the permutation is a function of the keys' sequence alone (a stable sort).
   * `services` is kept until the next call: the caller does not change it afterwards.
   */
  sortedByRef(services: readonly MonitoredService[]): MonitoredService[] {
    const last = this.lastSort;
    if (last && last.services.length === services.length) {
      // The same service object has the same key: only the changed ones are looked up.
      let same = true;
      const keys = last.keys.slice();
      for (let i = 0; i < services.length && same; i++) {
        if (services[i] === last.services[i]) continue;
        keys[i] = this.keyOf(services[i]!);
        same = keys[i] === last.keys[i];
      }
      if (same) {
        this.lastSort = { services, keys, order: last.order };
        return last.order.map((i) => services[i]!);
      }
    }
    this.sorts++;
    const keys = services.map((s) => this.keyOf(s));
    const order = services.map((_, i) => i).sort((a, b) => compareRefs(services[a]!.metadata, services[b]!.metadata));
    this.lastSort = { services, keys, order };
    return order.map((i) => services[i]!);
  }
}
