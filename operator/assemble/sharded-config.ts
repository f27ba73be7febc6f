// The Prometheus config of N shards (`vigil operator --prometheus-shards N`, docs/contract.md): each
// shard is a partitioned config of its own (assemble/partitioned-config.ts) over the services of the
// namespaces assigned to it (assemble/shards.ts), stored in its own main object and partition
// objects (contract.ts shardObjectName). This module only groups the services and calls
// assemblePartitionedPrometheus once per shard; the whole is described as one
// PartitionedPrometheusConfig (every shard's partitions, `shards` the per-shard configs) so that
// size checks and encoding see every partition object as before.
import { digest, type ServicePieces } from '../render/index.js';
import type { GlobalSettings, PartitionedPrometheusConfig } from '../render/types.js';
import { HASH_LENGTH } from './config.js';
import { assemblePartitionedPrometheus } from './partitioned-config.js';
import { PARTITION_BUDGET_BYTES } from './partitions.js';
import type { ShardAssignment } from './shards.js';

/** Change it whenever the way shards are put together changes: the new output then gets a new hash. */
const HASH_FORMAT = 'vigil-sharded-config/1';

/**
 * The config hash of N shards whose configs have these hashes (in shard order): a pure function of
 * them, so the operator can tell from the shards' main objects' annotations alone whether all of
 * them carry (or run) the config it rendered (controller/annotations.ts readShardReports).
 */
export function shardedConfigHash(shardHashes: readonly string[]): string {
  return digest([HASH_FORMAT, ...shardHashes].join('\n')).slice(0, HASH_LENGTH);
}

/**
 * The sharded config from every service's pieces (any order). `assignment` gives each namespace's
 * shard. `previous`: an earlier result for the same shard count; each shard reuses its previous
 * partitions as assemblePartitionedPrometheus does, so the result is the same with or without it.
 * Returns a config whose `partitions` are every shard's (during a handover a moving namespace's
 * services are on two shards, so two shards may hold a partition of the same id: the encodings are
 * keyed by digest, size-fit.ts encodePartitions), `main` shard 0's main files,
 * `hash` shardedConfigHash of the shard hashes, and `shards` each shard's own config.
 */
export function assembleShardedPrometheus(
  pieces: readonly ServicePieces[],
  settings: GlobalSettings,
  assignment: ShardAssignment,
  previous?: PartitionedPrometheusConfig,
  budgetBytes = PARTITION_BUDGET_BYTES,
): PartitionedPrometheusConfig {
  const byShard: ServicePieces[][] = Array.from({ length: assignment.shards }, () => []);
  // A moving namespace (assignment.settled) is on its new and its old shard (assemble/handover.ts).
  for (const p of pieces) for (const shard of assignment.shardsOf(p.ref.namespace)) byShard[shard]!.push(p);
  const reusable = previous?.shards?.length === assignment.shards ? previous.shards : undefined;
  // Each shard's Watchdog names its shard (render/watchdog.ts), so a shard that stops is seen.
  const shards = byShard.map((members, shard) => assemblePartitionedPrometheus(members, settings, reusable?.[shard], budgetBytes, assignment.shards > 1 ? shard : undefined));
  // Each shard reuses its own sizes and members (through `shards` of the next call); the whole only
  // lists the members, for a later call without shards.
  const members = new Map<string, { pieces: readonly object[]; scrapeFile: string }>();
  for (const s of shards) for (const [id, value] of s.members) members.set(id, value);
  // Over the shard hashes (each covers its shard's files): the controller recomputes it from annotations.
  const whole = digest([HASH_FORMAT, ...shards.map((s) => s.hash)].join('\n'));
  return {
    main: shards[0]!.main,
    partitions: shards.flatMap((s) => s.partitions).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    digest: whole,
    hash: whole.slice(0, HASH_LENGTH),
    unitBytes: new WeakMap(),
    members,
    shards,
  };
}
