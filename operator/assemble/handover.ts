// The handover of namespaces between Prometheus shards when the shard count changes (docs/contract.md,
// "Shards"): a moving namespace is rendered on its old and its new shard until the new shard has run
// it long enough that every alert firing on the old one fires on the new one too; Alertmanager
// deduplicates the overlap (alerts carry no shard label). Pure: the controller persists the times it
// observed (when each new shard applied its incoming namespaces), so a restarted operator decides the same.
// Not wired into the controller yet: this is the rule it is to follow.
import type { MonitoredService } from '../api/schema.js';
import { rangeUses } from '../promql/ranges.js';
import { endpointTimingsMs, recordWindow } from '../render/rules.js';
import type { GlobalSettings } from '../render/types.js';
import { parseDurationMs } from '../validate/duration.js';
import { shardOfNamespace } from './shards.js';

/**
 * How long after a Prometheus first loads `service`'s rules every alert of it that fires elsewhere
 * fires there too, ms (an upper bound, from how the rules are rendered: render/rules.ts):
 *   - ServiceDown: with every target failing, `count(up == 0) > 0` holds after the first scrape (one
 *     interval plus its timeout after the load); with no target at all, only the grace clock makes it
 *     hold, `graceMs` after the first evaluation (recordWindow). Then its `for`.
 *   - A custom rule: its expression sees what the old shard sees once the new one holds its longest
 *     range of samples (plus one scrape interval for the first sample), then its `for`.
 *   - ServiceTargetDown: `max_over_time(up[window]) == 0` holds on a new shard after its first failed
 *     scrape (it holds fewer samples, never more), then its `for`: within ServiceDown's bound.
 * Plus two evaluation intervals: one until the first evaluation after the load, one for the
 * evaluation at which `for` has passed. The longest of these per service.
 * Not covered (the same as for a restarted Prometheus): ServiceTargetDown can fire sooner on the new
 * shard than on the old, whose window still holds a successful sample of a target that is stopping.
 */
export function handoverBoundMs(service: MonitoredService, settings: GlobalSettings): number {
  const evaluationMs = parseDurationMs(settings.evaluationInterval) ?? 60_000;
  const timings = endpointTimingsMs(service);
  const longestScrapeMs = Math.max(0, ...timings.map((t) => t.intervalMs + t.timeoutMs));
  const longestIntervalMs = Math.max(0, ...timings.map((t) => t.intervalMs));
  const bounds: number[] = [];
  const down = service.spec.downAlert;
  if (down.enabled) bounds.push(Math.max(recordWindow(service, settings).graceMs, longestScrapeMs) + (parseDurationMs(down.for) ?? 0));
  for (const rule of service.spec.rules) {
    const rangeMs = Math.max(0, ...rangeUses(rule.expr).map((r) => r.rangeMs ?? 0));
    bounds.push(rangeMs + longestIntervalMs + (parseDurationMs(rule.for) ?? 0));
  }
  return Math.max(0, ...bounds) + 2 * evaluationMs;
}

/**
 * The shards that render `namespace`'s services while the install goes from `settled` shards (the
 * count whose handover finished) to `shards`: its shard among `shards`, and while it moves its shard
 * among `settled` too (in that order, without repeats).
 */
export function renderingShards(namespace: string, shards: number, settled: number): number[] {
  const to = shardOfNamespace(namespace, shards);
  const from = shardOfNamespace(namespace, settled);
  return from === to || from >= shards ? [to] : [to, from];
}

/** One namespace moving to another shard, with the longest handoverBoundMs of its services. */
export interface MovingNamespace {
  namespace: string;
  to: number;
  boundMs: number;
}

/**
 * The namespaces that move from `settled` to `shards` shards, with the bound of each (the longest
 * of its services'; `services` any order). Sorted by namespace.
 */
export function movingNamespaces(services: readonly MonitoredService[], settings: GlobalSettings, shards: number, settled: number): MovingNamespace[] {
  const moving = new Map<string, MovingNamespace>();
  for (const service of services) {
    const namespace = service.metadata.namespace;
    const to = shardOfNamespace(namespace, shards);
    if (to === shardOfNamespace(namespace, settled)) continue;
    const boundMs = handoverBoundMs(service, settings);
    const known = moving.get(namespace);
    if (!known || known.boundMs < boundMs) moving.set(namespace, { namespace, to, boundMs });
  }
  return [...moving.values()].sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
}

/**
 * When the handover ends (ms since the epoch): once every new shard has applied a config holding its
 * incoming namespaces (`appliedAt(shard)`, the first such apply its sidecar reported, as persisted)
 * and the longest bound of those namespaces has passed since. Undefined while a new shard has not
 * applied them yet. With nothing moving, it ends at once (0).
 */
export function handoverEndsAt(moving: readonly MovingNamespace[], appliedAt: (shard: number) => number | undefined): number | undefined {
  let end = 0;
  for (const m of moving) {
    const at = appliedAt(m.to);
    if (at === undefined) return undefined;
    end = Math.max(end, at + m.boundMs);
  }
  return end;
}
