// Annotations on the generated ConfigMap/Secret: the operator writes config-hash, the sync
// sidecars write the rest (operator/contract.ts, docs/contract.md).
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
