// Which Prometheus shard each namespace's MonitoredServices go to (`vigil operator --prometheus-shards N`).
//
// Whole namespaces: a service's alerts (ServiceDown, its rules) need all its targets on one
// Prometheus, and a rule of one service may read another service's series of the same namespace.
// Rendezvous (highest random weight) hashing: each namespace goes to the shard whose hash of
// (namespace, shard) is highest. A pure function of the namespace and N (no memory of earlier
// assignments: a restarted operator computes the same), and going from N to N+1 shards moves only
// the namespaces whose new shard wins, about 1/(N+1) of them, each to the new shard; N+1 to N moves
// only the removed shard's namespaces.
import { createHash } from 'node:crypto';

/** The largest shard count accepted (--prometheus-shards): far beyond any cluster Vigil targets, small enough that an assignment stays cheap. */
export const MAX_SHARDS = 64;

/** The 64-bit weight of `namespace` on `shard`: the first 8 bytes of sha256("<namespace>\0<shard>"), as an unsigned big-endian integer. */
function weight(namespace: string, shard: number): bigint {
  return createHash('sha256').update(`${namespace}\u0000${shard}`).digest().readBigUInt64BE(0);
}

/**
 * The shard (0 .. shards-1) of `namespace`'s services among `shards` shards. Throws when `shards`
 * is not an integer from 1 to MAX_SHARDS.
 */
export function shardOfNamespace(namespace: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) throw new RangeError(`shards must be an integer from 1 to ${MAX_SHARDS}, got ${shards}`);
  if (shards === 1) return 0;
  let best = 0;
  let bestWeight = -1n;
  for (let shard = 0; shard < shards; shard++) {
    const w = weight(namespace, shard);
    // Ties (a 2^-64 chance) go to the lower shard: still a function of the inputs alone.
    if (w > bestWeight) {
      best = shard;
      bestWeight = w;
    }
  }
  return best;
}

/**
 * The shards that render `namespace`'s services while the install goes from `settled` shards (the
 * count whose handover finished) to `shards`: its shard among `shards`, and while it moves its shard
 * among `settled` too (in that order, without repeats). A shard beyond `shards` (a shrink) is not
 * rendered: its objects keep their last config until they are deleted after the handover.
 */
export function renderingShards(namespace: string, shards: number, settled: number): number[] {
  const to = shardOfNamespace(namespace, shards);
  const from = shardOfNamespace(namespace, settled);
  return from === to || from >= shards ? [to] : [to, from];
}

/**
 * A memo of shardOfNamespace and renderingShards for one shard count and one settled count (assemble/handover.ts):
 * a reconcile asks once per service, and namespaces repeat. The memo holds one entry per namespace
 * seen; make a new one when either count changes.
 */
export class ShardAssignment {
  private readonly memo = new Map<string, number[]>();

  /** `settled`: the shard count whose handover finished (default `shards`: nothing moves). */
  constructor(
    readonly shards: number,
    readonly settled = shards,
  ) {
    shardOfNamespace('', shards); // refuse a bad count at construction
    shardOfNamespace('', settled);
  }

  /** The namespace's shard among `shards`: the one its services' status reads. */
  shardOf(namespace: string): number {
    return this.shardsOf(namespace)[0]!;
  }

  /** renderingShards(namespace, shards, settled): its shard, then while it moves its old shard. */
  shardsOf(namespace: string): readonly number[] {
    let shards = this.memo.get(namespace);
    if (shards === undefined) {
      shards = renderingShards(namespace, this.shards, this.settled);
      this.memo.set(namespace, shards);
    }
    return shards;
  }
}
