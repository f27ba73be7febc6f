// Annotations on the generated ConfigMap/Secret: the operator writes config-hash, the sync
// sidecars write the rest (operator/contract.ts, docs/contract.md).
import { shardedConfigHash } from '../assemble/sharded-config.js';
import { ANNOTATIONS, parseReplicaAnnotation, replicaAnnotation, REPORTER_POD_ANNOTATION } from '../contract.js';

export { ANNOTATIONS };

/** What one sync sidecar reports about its server, read from its object's annotations. */
export interface SyncReport {
  /** Hash the operator last wrote into the object (undefined: object missing). */
  configHash?: string;
  appliedHash?: string;
  appliedAt?: string;
  reloadError?: string;
  failedHash?: string;
  /** The pod that wrote the report (REPORTER_POD_ANNOTATION), when its sidecar knows its name. */
  pod?: string;
  /**
   * With several replicas (combineReplicaReports): the replica that is not at config-hash, and what
   * it reports, in words (`replica 1 (pod vigil-prometheus-1) runs config <hash>`).
   */
  behind?: string;
  /** With several replicas: the replica whose failed reload failedHash/reloadError are, in words (`replica 1 (pod vigil-prometheus-1)`). */
  failedBy?: string;
}

/**
 * The report on an object. Where the operator offers partitions (ANNOTATIONS.partitionsOffered), a
 * sidecar with --partitions reports under the reader annotations and one without under the plain
 * ones (controller/layout-gate.ts); while both report, the config counts as applied only when both
 * run it (of two different applied hashes the one that is not the object's config-hash is reported),
 * and a reader's failure comes before a plain one.
 */
export function readSyncReport(annotations: Record<string, string> | undefined, replica = 0): SyncReport {
  const all = annotations ?? {};
  // Replica `replica`'s report under the plain names (contract.ts replicaAnnotation); config-hash and the offer are the object's.
  const a = (key: string): string | undefined => (key === ANNOTATIONS.configHash || key === ANNOTATIONS.partitionsOffered ? all[key] : all[replicaAnnotation(key, replica)]);
  const report: SyncReport = {};
  if (a(ANNOTATIONS.configHash) !== undefined) report.configHash = a(ANNOTATIONS.configHash);
  const reader = a(ANNOTATIONS.partitionsOffered) !== undefined && (a(ANNOTATIONS.readerAppliedHash) !== undefined || a(ANNOTATIONS.readerFailedHash) !== undefined);
  const plainApplied = a(ANNOTATIONS.appliedHash);
  const readerApplied = reader ? a(ANNOTATIONS.readerAppliedHash) : undefined;
  const fromReader = readerApplied !== undefined && (plainApplied === undefined || plainApplied === readerApplied || plainApplied === report.configHash);
  const [appliedHash, appliedAt] = fromReader ? [readerApplied, a(ANNOTATIONS.readerAppliedAt)] : [plainApplied, a(ANNOTATIONS.appliedAt)];
  if (appliedHash !== undefined) report.appliedHash = appliedHash;
  if (appliedAt !== undefined) report.appliedAt = appliedAt;
  const failedFromReader = reader && a(ANNOTATIONS.readerFailedHash) !== undefined;
  const [failedHash, reloadError] = failedFromReader ? [a(ANNOTATIONS.readerFailedHash), a(ANNOTATIONS.readerReloadError)] : [a(ANNOTATIONS.failedHash), a(ANNOTATIONS.reloadError)];
  if (reloadError !== undefined) report.reloadError = reloadError;
  if (failedHash !== undefined) report.failedHash = failedHash;
  const pod = a(REPORTER_POD_ANNOTATION);
  if (pod !== undefined) report.pod = pod;
  return report;
}

/**
 * The report of a server with `replicas` pods, each of whose sidecars reports under its own keys
 * (contract.ts replicaAnnotation): readSyncReport itself for one replica, else combineReplicaReports
 * of replicas 0 … replicas-1. Reports of replicas beyond do not count (staleReplicaReportKeys).
 */
export function readReplicaReports(annotations: Record<string, string> | undefined, replicas: number): SyncReport {
  if (replicas <= 1) return readSyncReport(annotations);
  return combineReplicaReports(Array.from({ length: replicas }, (_, replica) => readSyncReport(annotations, replica)));
}

/**
 * The reports of every replica of one server (index: replica ordinal) as one: applied at config-hash
 * only when every replica reports it; otherwise the applied-hash (and applied-at) of the first
 * replica that does not, named in `behind` (undefined applied-hash: that replica has not reported).
 * A failure is the first replica's whose failed-hash is not what it runs, named in `failedBy`.
 * A sidecar from before per-replica reports writes the plain keys, which are replica 0's.
 */
export function combineReplicaReports(reports: readonly SyncReport[]): SyncReport {
  const who = (i: number) => `replica ${i}${reports[i]!.pod !== undefined ? ` (pod ${reports[i]!.pod})` : ''}`;
  const configHash = reports[0]?.configHash;
  const combined: SyncReport = {};
  if (configHash !== undefined) combined.configHash = configHash;
  const behind = reports.findIndex((r) => r.appliedHash === undefined || r.appliedHash !== configHash);
  if (behind < 0) {
    combined.appliedHash = configHash!;
    const latest = reports
      .map((r) => r.appliedAt ?? '')
      .sort()
      .at(-1);
    if (latest) combined.appliedAt = latest;
  } else {
    const r = reports[behind]!;
    if (r.appliedHash !== undefined) combined.appliedHash = r.appliedHash;
    if (r.appliedAt !== undefined) combined.appliedAt = r.appliedAt;
    combined.behind = r.appliedHash === undefined ? `${who(behind)} has not reported yet` : `${who(behind)} runs config ${r.appliedHash}`;
  }
  const failing = reports.findIndex((r) => r.failedHash !== undefined && r.failedHash !== r.appliedHash);
  if (failing >= 0) {
    const r = reports[failing]!;
    combined.failedHash = r.failedHash!;
    if (r.reloadError !== undefined) combined.reloadError = r.reloadError;
    combined.failedBy = who(failing);
  }
  return combined;
}

/**
 * The report annotations (and reporter pods) of replicas `replicas` and beyond on an object: a
 * replica scaled away, or a pod beyond the count the operator was given. They do not count, and the
 * operator removes them (controller.ts clearStaleReports); a sidecar that still runs writes its
 * report again at its next pass.
 */
export function staleReplicaReportKeys(annotations: Record<string, string> | undefined, replicas: number): string[] {
  return Object.keys(annotations ?? {})
    .filter((key) => (parseReplicaAnnotation(key)?.replica ?? 0) >= Math.max(1, replicas))
    .sort();
}

/**
 * The report of N Prometheus shards as one (`--prometheus-shards`): each shard's sidecar reports on
 * its shard's main object (contract.ts shardObjectName), and the operator's config hash of all
 * shards is shardedConfigHash of the shard hashes (assemble/sharded-config.ts). So the combined
 * config-hash (applied-hash) is that of every shard's config-hash (applied-hash) while each shard
 * has one, and the combined failed-hash is the config that the first failing shard's failed-hash
 * makes with the others' config-hashes: it equals the rendered hash exactly when a shard refused
 * its part of the rendered config. `names`: each shard's object name, for the error message.
 */
export function combineShardReports(reports: readonly SyncReport[], names: readonly string[]): SyncReport {
  const all = (key: 'configHash' | 'appliedHash') => (reports.every((r) => r[key] !== undefined) ? shardedConfigHash(reports.map((r) => r[key]!)) : undefined);
  const combined: SyncReport = {};
  const configHash = all('configHash');
  const appliedHash = all('appliedHash');
  if (configHash !== undefined) combined.configHash = configHash;
  if (appliedHash !== undefined) {
    combined.appliedHash = appliedHash;
    // The last shard to apply decides when the whole was applied.
    const latest = reports
      .map((r) => r.appliedAt ?? '')
      .sort()
      .at(-1);
    if (latest) combined.appliedAt = latest;
  }
  const lagging = reports.findIndex((r) => r.behind !== undefined);
  if (lagging >= 0) combined.behind = `shard ${lagging} ${reports[lagging]!.behind!}`;
  const failing = reports.findIndex((r) => r.failedHash !== undefined);
  if (failing >= 0) {
    const failed = reports[failing]!;
    combined.reloadError = `shard ${failing} (${names[failing] ?? ''}): ${failed.reloadError ?? 'reload failed'}`;
    if (failed.failedBy !== undefined) combined.failedBy = `shard ${failing} ${failed.failedBy}`;
    if (reports.every((r) => r.configHash !== undefined)) combined.failedHash = shardedConfigHash(reports.map((r, i) => (i === failing ? failed.failedHash! : r.configHash!)));
  }
  return combined;
}
