// What the informer cache holds after a reconcile's status writes: shared by the reconcile sequence
// test (operator/assemble/service-cache.test.ts) and the scale benchmark (bench/render-scale.ts),
// which both feed a plan's statuses back into the objects the next reconcile reads.
import type { RawMonitoredService, ReconcilePlan } from '../../operator/controller/plan.js';

/**
 * `objects` after the plan's status merge patches reached the informer cache, as in the controller:
 * the next reconcile sees them, so a change leads to status writes for what changed, not for all.
 * A merge patch at the top level of status (a null value deletes the field); new objects only for
 * those patched. Objects are matched by namespace/name (no install scope).
 */
export function withStatuses(objects: RawMonitoredService[], plan: ReconcilePlan): RawMonitoredService[] {
  if (plan.statusUpdates.length === 0) return objects;
  const patches = new Map(plan.statusUpdates.map((u) => [`${u.namespace}/${u.name}`, u.patch.status]));
  return objects.map((o) => {
    const patch = patches.get(`${o.metadata?.namespace}/${o.metadata?.name}`);
    if (!patch) return o;
    const status: Record<string, unknown> = { ...o.status };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete status[k];
      else status[k] = v;
    }
    return { ...o, status: status as RawMonitoredService['status'] };
  });
}
