// The MonitoredServices the operator-scale benchmarks reconcile (render-scale.ts, partitions.ts): the
// scale set of test/operator/scale.ts as informer objects, and one object's next generation.
import type { RawMonitoredService } from '../operator/controller/plan.js';
import { scaleSet } from '../test/operator/scale.js';

/** `count` MonitoredServices as the informer holds them: uid, generation 1 and a resourceVersion each. */
export function objectsOf(count: number): RawMonitoredService[] {
  return scaleSet(count).objects.map((o, i) => {
    const raw = o as RawMonitoredService;
    return { ...raw, metadata: { ...raw.metadata, uid: `uid-${i}`, generation: 1, resourceVersion: String(i + 1) } };
  });
}

/** `objects` with object `index` at its next generation, with a rule of its own (change number `c`). */
export function withNewGeneration(objects: RawMonitoredService[], index: number, c: number): RawMonitoredService[] {
  const changed = objects.slice();
  const o = changed[index]!;
  changed[index] = {
    ...o,
    metadata: { ...o.metadata, generation: (o.metadata?.generation ?? 1) + 1 },
    spec: { ...(o.spec as object), rules: [{ name: 'Changed', expr: `rate(http_requests_total[1m]) > ${c + 2}`, for: '2m' }] },
  };
  return changed;
}
