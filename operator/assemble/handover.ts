// The handover of namespaces between Prometheus shards when the shard count changes (docs/contract.md,
// "Shards"): a moving namespace is rendered on its old and its new shard until the new shard has run
// it long enough that every alert firing on the old one fires on the new one too; Alertmanager
// deduplicates the overlap (alerts carry no shard label). Pure: the controller persists the times it
// observed (when each new shard applied its incoming namespaces) as annotations on shard 0's main
// object (handoverAnnotations), so a restarted operator decides the same.
import type { MonitoredService } from '../api/schema.js';
import { rangeUses } from '../promql/ranges.js';
import { endpointTimingsMs, recordWindow } from '../render/rules.js';
import type { GlobalSettings } from '../render/types.js';
import { parseDurationMs } from '../validate/duration.js';
import { ANNOTATIONS, shardObjectName } from '../contract.js';
import { MAX_SHARDS, renderingShards, shardOfNamespace } from './shards.js';

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

export { renderingShards };

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

/** What the operator keeps in the cluster about the shard count (ANNOTATIONS.shardsSettled, shardsHandover). */
export interface HandoverState {
  /** The shard count whose handover finished: every namespace runs on its shard among `settled`. */
  settled: number;
  /** A handover to `to` shards in progress: when each new shard first applied a config holding its incoming namespaces (ms since the epoch, by shard). */
  handover?: { to: number; appliedAt: Readonly<Record<number, number>> };
}

function shardCount(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,3}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= MAX_SHARDS ? n : undefined;
}

/**
 * The state from shard 0's main object's annotations (`undefined`: the object does not exist) for
 * an operator running `shards` shards. No object: a new install, settled at `shards`. An object
 * without a readable settled count was written with one Prometheus (or by an operator before
 * handovers): settled at 1, so namespaces leaving shard 0 are handed over. An unreadable handover
 * record starts the handover again (only a longer overlap).
 */
export function readHandoverState(annotations: Record<string, string> | undefined, shards: number): HandoverState {
  if (annotations === undefined) return { settled: shards };
  const settled = shardCount(annotations[ANNOTATIONS.shardsSettled]) ?? 1;
  const raw = annotations[ANNOTATIONS.shardsHandover];
  if (raw === undefined) return { settled };
  try {
    const parsed = JSON.parse(raw) as { to?: unknown; appliedAt?: unknown };
    const to = typeof parsed.to === 'number' ? shardCount(String(parsed.to)) : undefined;
    if (to === undefined) return { settled };
    const appliedAt: Record<number, number> = {};
    const recorded = parsed.appliedAt !== null && typeof parsed.appliedAt === 'object' ? (parsed.appliedAt as Record<string, unknown>) : {};
    for (const [shard, at] of Object.entries(recorded)) {
      const ms = typeof at === 'string' ? Date.parse(at) : Number.NaN;
      if (/^\d+$/.test(shard) && Number(shard) < to && Number.isFinite(ms)) appliedAt[Number(shard)] = ms;
    }
    return { settled, handover: { to, appliedAt } };
  } catch {
    return { settled };
  }
}

/** The annotations that store `state` (a merge patch: null removes the handover record). */
export function handoverAnnotations(state: HandoverState): Record<string, string | null> {
  if (!state.handover) return { [ANNOTATIONS.shardsSettled]: String(state.settled), [ANNOTATIONS.shardsHandover]: null };
  const appliedAt = Object.fromEntries(
    Object.entries(state.handover.appliedAt)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([shard, ms]) => [shard, new Date(ms).toISOString()]),
  );
  return { [ANNOTATIONS.shardsSettled]: String(state.settled), [ANNOTATIONS.shardsHandover]: JSON.stringify({ to: state.handover.to, appliedAt }) };
}

/** One step of the handover (nextHandover). */
export interface HandoverStep {
  state: HandoverState;
  /** The handover finished at this step: `state.settled` is now the shard count. */
  ended: boolean;
  /** While it runs: when it ends (ms since the epoch), once every new shard applied its namespaces. */
  endsAt?: number;
}

/**
 * The next state for an operator running `shards` shards, given the persisted `state`, the
 * namespaces moving from `state.settled` (movingNamespaces) and `applied(shard)`: when that shard's
 * sidecar reported applying the config rendered for it now (ms since the epoch), undefined while it
 * runs another. A handover recorded for another shard count starts again from `state.settled` (its
 * old shards kept rendering every moving namespace, so nothing was dropped). It ends when
 * handoverEndsAt has passed at `now`.
 */
export function nextHandover(state: HandoverState, shards: number, moving: readonly MovingNamespace[], applied: (shard: number) => number | undefined, now: number): HandoverStep {
  if (state.settled === shards) return { state: { settled: shards }, ended: false };
  const appliedAt: Record<number, number> = { ...(state.handover?.to === shards ? state.handover.appliedAt : {}) };
  for (const m of moving) {
    if (appliedAt[m.to] !== undefined) continue;
    const at = applied(m.to);
    if (at !== undefined) appliedAt[m.to] = at;
  }
  const endsAt = handoverEndsAt(moving, (shard) => appliedAt[shard]);
  if (endsAt !== undefined && endsAt <= now) return { state: { settled: shards }, ended: true };
  return { state: { settled: state.settled, handover: { to: shards, appliedAt } }, ended: false, ...(endsAt !== undefined ? { endsAt } : {}) };
}

/**
 * What to delete after a shrink to `shards` shards, among the install's ConfigMaps (`objects`: each
 * name with the main object its PARTITION_OF_LABEL names, if any): the main objects of shards at or
 * beyond `shards` (named shardObjectName(`main`, i)) and their partitions, partitions first (a
 * sidecar of a removed shard still running keeps its last complete config). Nothing else.
 */
export function removedShardObjects(objects: readonly { name: string; partitionOf?: string | undefined }[], main: string, shards: number): string[] {
  const prefix = shardObjectName(main, 1).slice(0, -1);
  const removed = new Set(
    objects
      .map((o) => o.name)
      .filter((name) => {
        const index = name.slice(prefix.length);
        return name.startsWith(prefix) && /^[1-9]\d*$/.test(index) && Number(index) >= shards && shardObjectName(main, Number(index)) === name;
      }),
  );
  const partitions = objects.filter((o) => o.partitionOf !== undefined && removed.has(o.partitionOf)).map((o) => o.name);
  return [...partitions.sort(), ...[...removed].sort()];
}
