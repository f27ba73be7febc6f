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
 * A memo of shardOfNamespace for one shard count: a reconcile asks once per service, and
 * namespaces repeat. The memo holds one entry per namespace seen; make a new one when N changes.
 */
export class ShardAssignment {
  private readonly memo = new Map<string, number>();

  constructor(readonly shards: number) {
    shardOfNamespace('', shards); // refuse a bad count at construction
  }

  shardOf(namespace: string): number {
    let shard = this.memo.get(namespace);
    if (shard === undefined) {
      shard = shardOfNamespace(namespace, this.shards);
      this.memo.set(namespace, shard);
    }
    return shard;
  }
}
