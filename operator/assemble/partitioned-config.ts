// The Prometheus config as partitions (assemble/partitions.ts): prometheus.yml (naming every
// partition's scrape file) and the Watchdog's rule file in the main object, each partition's scrape file and rule files in an object of its
// own, so that one change re-assembles, re-hashes and re-encodes one partition and the sync
// sidecar rewrites only its files. Pure and deterministic, like assembleConfig (assemble/config.ts):
// the same pieces in any order give the same partitions, files and hashes.
import { digest, type ServicePieces } from '../render/index.js';
import { compareRefs, compareStrings, partitionScrapeFileName, PROMETHEUS_CONFIG_FILE, ruleFileName } from '../render/names.js';
import { partitionedPrometheusConfig, partitionScrapeFile } from '../render/prometheus.js';
import type { ConfigPartition, GlobalSettings, ObjectRef, PartitionedPrometheusConfig } from '../render/types.js';
import { renderWatchdogRuleFile, WATCHDOG_RULE_FILE } from '../render/watchdog.js';
import type { FileSet } from './config-bundle.js';
import { HASH_LENGTH } from './config.js';
import { partitionObjectName } from '../contract.js';
import { PARTITION_BUDGET_BYTES, partitionServices } from './partitions.js';

export type { ConfigPartition, PartitionedPrometheusConfig } from '../render/types.js';

/** Change it whenever the way partitions are put together changes: the new output then gets a new hash. */
const HASH_FORMAT = 'vigil-partitioned-config/1';

/** Bytes a service adds to its partition's object: the rule file's key and text and its scrape jobs. */
function unitBytes(p: ServicePieces): number {
  return Buffer.byteLength(ruleFileName(p.ref)) + Buffer.byteLength(p.ruleFile) + Buffer.byteLength(p.scrapeJobs);
}

/** Whether two member lists are the same services with the same digests (the same pieces objects, as a rule). */
function sameMembers(a: readonly ServicePieces[], b: readonly ServicePieces[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    // Pieces with scrape hints are new objects every reconcile (render/index.ts withScrapeHints).
    if (x.ref.namespace !== y.ref.namespace || x.ref.name !== y.ref.name || x.digests.scrapeJobs !== y.digests.scrapeJobs || x.digests.ruleFile !== y.digests.ruleFile) return false;
  }
  return true;
}

/**
 * The partitioned config from every service's pieces (renderServicePieces with these settings, any
 * order; in namespace/name order it is linear in the services). `previous`: an earlier result with
 * the same settings; a partition whose id and members are unchanged is taken from it without being
 * hashed, one whose digest is unchanged without being joined, so the result is the same with or
 * without it (service-cache.test.ts compares both byte for byte). `shard`: the shard this config
 * is for, only with several shards (its Watchdog carries it, render/watchdog.ts).
 */
export function assemblePartitionedPrometheus(
  pieces: readonly ServicePieces[],
  settings: GlobalSettings,
  previous?: PartitionedPrometheusConfig,
  budgetBytes = PARTITION_BUDGET_BYTES,
  shard?: number,
): PartitionedPrometheusConfig {
  const sizes: WeakMap<object, number> = previous?.unitBytes ?? new WeakMap();
  const units = pieces.map((p) => {
    let bytes = sizes.get(p);
    if (bytes === undefined) sizes.set(p, (bytes = unitBytes(p)));
    return { ref: p.ref, bytes, pieces: p };
  });
  const layout = partitionServices(units, budgetBytes);
  const before = new Map(previous?.partitions.map((p) => [p.id, p]));
  const members = new Map<string, { pieces: readonly ServicePieces[]; scrapeFile: string }>();
  const partitions = layout
    .map((partition): ConfigPartition => {
      const list = partition.units.map((u) => u.pieces);
      const reused = before.get(partition.id);
      const known = reused && (previous!.members.get(partition.id) as { pieces: readonly ServicePieces[]; scrapeFile: string } | undefined);
      if (reused && known && sameMembers(known.pieces, list)) {
        members.set(partition.id, { pieces: list, scrapeFile: known.scrapeFile });
        return reused;
      }
      const scrapeFile = partitionScrapeFileName(partition.id, digest([HASH_FORMAT, ...list.map((m) => m.digests.scrapeJobs)].join('\n')));
      members.set(partition.id, { pieces: list, scrapeFile });
      const partitionDigest = digest(
        [HASH_FORMAT, `${scrapeFile}\u0000${list.map((m) => m.digests.scrapeJobs).join('')}`, ...list.map((m) => `${ruleFileName(m.ref)}\u0000${m.digests.ruleFile}`)].join('\n'),
      );
      if (reused?.digest === partitionDigest) return reused;
      const files: FileSet = { [scrapeFile]: partitionScrapeFile(list.map((m) => m.scrapeJobs)) };
      for (const m of list) files[ruleFileName(m.ref)] = m.ruleFile;
      return { id: partition.id, refs: partition.refs, files: sortedFiles(files), digest: partitionDigest };
    })
    .sort((a, b) => compareStrings(a.id, b.id));
  const scrapeFiles = partitions.map((p) => members.get(p.id)!.scrapeFile);
  const main = sortedFiles({ [PROMETHEUS_CONFIG_FILE]: partitionedPrometheusConfig(settings, scrapeFiles), [WATCHDOG_RULE_FILE]: renderWatchdogRuleFile(settings, shard) });
  const whole = digest([HASH_FORMAT, ...Object.entries(main).map(([name, text]) => `${name}\u0000${digest(text)}`), ...partitions.map((p) => `${p.id}\u0000${p.digest}`)].join('\n'));
  return { main, partitions, digest: whole, hash: whole.slice(0, HASH_LENGTH), unitBytes: sizes, members };
}

/** What to write for a partitioned config, in this order (docs/contract.md). */
export interface PartitionWrites {
  /** Partitions whose object is missing or carries another config hash: write these first. */
  partitions: { name: string; partition: ConfigPartition; hash: string }[];
  /** Then the main object with these annotations: the whole config's hash and the manifest naming every partition. */
  mainAnnotations: { configHash: string; partitions: string };
  /** Last, delete these partition objects: the main object no longer names them. */
  remove: string[];
}

/**
 * The writes that store `config` beside the main object `mainName`, given the config hash of each
 * partition object there now (by object name). One change gives one partition to write: the others'
 * objects already carry their hash.
 */
export function partitionWrites(config: PartitionedPrometheusConfig, mainName: string, existing: ReadonlyMap<string, string | undefined>): PartitionWrites {
  const hashOf = (p: ConfigPartition) => p.digest.slice(0, HASH_LENGTH);
  const names = new Set(config.partitions.map((p) => partitionObjectName(mainName, p.id)));
  return {
    partitions: config.partitions
      .map((partition) => ({ name: partitionObjectName(mainName, partition.id), partition, hash: hashOf(partition) }))
      .filter(({ name, hash }) => existing.get(name) !== hash),
    mainAnnotations: { configHash: config.hash, partitions: JSON.stringify(Object.fromEntries(config.partitions.map((p) => [p.id, hashOf(p)]))) },
    remove: [...existing.keys()].filter((name) => !names.has(name)).sort(compareStrings),
  };
}

/** Every file of a partitioned config, as the sync sidecar writes them into one directory. */
export function allFiles(config: PartitionedPrometheusConfig): FileSet {
  const files: FileSet = { ...config.main };
  for (const p of config.partitions) Object.assign(files, p.files);
  return sortedFiles(files);
}

/** The refs of a config's services, in namespace/name order. */
export function includedRefs(config: PartitionedPrometheusConfig): ObjectRef[] {
  return config.partitions.flatMap((p) => p.refs).sort(compareRefs);
}

function sortedFiles(files: FileSet): FileSet {
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => compareStrings(a, b)));
}
