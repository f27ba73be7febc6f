// Annotations on the generated ConfigMap/Secret: the operator writes config-hash, the sync
// sidecars write the rest (operator/contract.ts, docs/contract.md).
import { shardedConfigHash } from '../assemble/sharded-config.js';
import { ANNOTATIONS } from '../contract.js';

export { ANNOTATIONS };

/** What one sync sidecar reports about its server, read from its object's annotations. */
export interface SyncReport {
  /** Hash the operator last wrote into the object (undefined: object missing). */
  configHash?: string;
  appliedHash?: string;
  appliedAt?: string;
  reloadError?: string;
  failedHash?: string;
}

/**
 * The report on an object. Where the operator offers partitions (ANNOTATIONS.partitionsOffered), a
 * sidecar with --partitions reports under the reader annotations and one without under the plain
 * ones (controller/layout-gate.ts); while both report, the config counts as applied only when both
 * run it (of two different applied hashes the one that is not the object's config-hash is reported),
 * and a reader's failure comes before a plain one.
 */
export function readSyncReport(annotations: Record<string, string> | undefined): SyncReport {
  const a = annotations ?? {};
  const report: SyncReport = {};
  if (a[ANNOTATIONS.configHash] !== undefined) report.configHash = a[ANNOTATIONS.configHash];
  const reader = a[ANNOTATIONS.partitionsOffered] !== undefined && (a[ANNOTATIONS.readerAppliedHash] !== undefined || a[ANNOTATIONS.readerFailedHash] !== undefined);
  const plainApplied = a[ANNOTATIONS.appliedHash];
  const readerApplied = reader ? a[ANNOTATIONS.readerAppliedHash] : undefined;
  const fromReader = readerApplied !== undefined && (plainApplied === undefined || plainApplied === readerApplied || plainApplied === report.configHash);
  const [appliedHash, appliedAt] = fromReader ? [readerApplied, a[ANNOTATIONS.readerAppliedAt]] : [plainApplied, a[ANNOTATIONS.appliedAt]];
  if (appliedHash !== undefined) report.appliedHash = appliedHash;
  if (appliedAt !== undefined) report.appliedAt = appliedAt;
  const failedFromReader = reader && a[ANNOTATIONS.readerFailedHash] !== undefined;
  const [failedHash, reloadError] = failedFromReader ? [a[ANNOTATIONS.readerFailedHash], a[ANNOTATIONS.readerReloadError]] : [a[ANNOTATIONS.failedHash], a[ANNOTATIONS.reloadError]];
  if (reloadError !== undefined) report.reloadError = reloadError;
  if (failedHash !== undefined) report.failedHash = failedHash;
  return report;
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
  const failing = reports.findIndex((r) => r.failedHash !== undefined);
  if (failing >= 0) {
    const failed = reports[failing]!;
    combined.reloadError = `shard ${failing} (${names[failing] ?? ''}): ${failed.reloadError ?? 'reload failed'}`;
    if (reports.every((r) => r.configHash !== undefined)) combined.failedHash = shardedConfigHash(reports.map((r, i) => (i === failing ? failed.failedHash! : r.configHash!)));
  }
  return combined;
}
