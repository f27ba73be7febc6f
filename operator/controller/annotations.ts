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

export function readSyncReport(annotations: Record<string, string> | undefined): SyncReport {
  const a = annotations ?? {};
  const report: SyncReport = {};
  if (a[ANNOTATIONS.configHash] !== undefined) report.configHash = a[ANNOTATIONS.configHash];
  if (a[ANNOTATIONS.appliedHash] !== undefined) report.appliedHash = a[ANNOTATIONS.appliedHash];
  if (a[ANNOTATIONS.appliedAt] !== undefined) report.appliedAt = a[ANNOTATIONS.appliedAt];
  if (a[ANNOTATIONS.reloadError] !== undefined) report.reloadError = a[ANNOTATIONS.reloadError];
  if (a[ANNOTATIONS.failedHash] !== undefined) report.failedHash = a[ANNOTATIONS.failedHash];
  return report;
}
