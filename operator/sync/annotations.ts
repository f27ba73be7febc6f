// The annotations through which the sync sidecar reports back on the object it delivers
// (operator/contract.ts, docs/contract.md: applied-hash/applied-at on success, reload-error/failed-hash on failure).
// The operator compares applied-hash with the hash it desires now, so this is the only channel
// between a running Prometheus/Alertmanager and the MonitoredService's ConfigApplied condition.

import { ANNOTATIONS, MAX_ERROR_ANNOTATION_LENGTH, parseReplicaAnnotation, READER_ANNOTATIONS, replicaAnnotation, REPORTER_POD_ANNOTATION } from '../contract.js';

/** Defined in operator/contract.ts (docs/contract.md). */
export { ANNOTATIONS, MAX_ERROR_ANNOTATION_LENGTH };

/**
 * The same changes under the partition reader's annotations (READER_ANNOTATIONS): what a sidecar
 * with --partitions writes once the operator offers partitions, so that the plain four annotations
 * can only come from a sidecar that does not read them.
 */
export function asReaderAnnotations(changes: AnnotationChanges): AnnotationChanges {
  return Object.fromEntries(Object.entries(changes).map(([key, value]) => [READER_ANNOTATIONS[key] ?? key, value]));
}

/**
 * The same changes as replica `replica`'s report (contract.ts replicaAnnotation), with the pod that
 * reports when it is known: replica 0 keeps the plain keys, replica i > 0 writes `<key>.replica-<i>`.
 */
export function asReplicaAnnotations(changes: AnnotationChanges, replica: number, podName?: string): AnnotationChanges {
  const keyed: AnnotationChanges = Object.fromEntries(Object.entries(changes).map(([key, value]) => [replicaAnnotation(key, replica), value]));
  if (podName) keyed[replicaAnnotation(REPORTER_POD_ANNOTATION, replica)] = podName;
  return keyed;
}

/**
 * The StatefulSet ordinal of a pod from its name (`vigil-prometheus-1` -> 1): the replica whose report
 * a sidecar writes. 0 without a pod name (the local stack, a test) or without a trailing ordinal.
 */
export function replicaOrdinal(podName: string | undefined): number {
  const match = /-(\d{1,6})$/.exec(podName ?? '');
  return match ? Number(match[1]) : 0;
}

/** Value null removes the annotation in a JSON merge patch. */
export type AnnotationChanges = Record<string, string | null>;

export function truncateMessage(message: string, max = MAX_ERROR_ANNOTATION_LENGTH): string {
  const oneLine = message.trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 15)}… (truncated)`;
}

/** After a confirmed reload: report the hash and time, clear any earlier failure. */
export function successAnnotations(hash: string, appliedAt: Date): AnnotationChanges {
  return {
    [ANNOTATIONS.appliedHash]: hash,
    [ANNOTATIONS.appliedAt]: toRfc3339(appliedAt),
    [ANNOTATIONS.reloadError]: null,
    [ANNOTATIONS.failedHash]: null,
  };
}

/** After a failed reload: applied-hash stays what the server really runs (the last good config). */
export function failureAnnotations(hash: string, message: string): AnnotationChanges {
  return {
    [ANNOTATIONS.reloadError]: truncateMessage(message),
    [ANNOTATIONS.failedHash]: hash,
  };
}

/** RFC 3339 in UTC with second precision, the form Kubernetes itself uses for timestamps. */
export function toRfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The changes that are not yet on the object. applied-at is only compared for presence: rewriting
 * it on every watch event would turn each of our own patches into another event, forever.
 */
export function pendingAnnotationChanges(current: Record<string, string> | undefined, wanted: AnnotationChanges): AnnotationChanges {
  const have = current ?? {};
  const pending: AnnotationChanges = {};
  for (const [key, value] of Object.entries(wanted)) {
    if (value === null) {
      if (key in have) pending[key] = null;
    } else if (isAppliedAt(key)) {
      const hashKey = appliedHashKeyOf(key);
      if (!(key in have) || have[hashKey] !== wanted[hashKey]) pending[key] = value;
    } else if (have[key] !== value) {
      pending[key] = value;
    }
  }
  return pending;
}

/** Whether `key` is an applied-at annotation (plain or reader) of some replica. */
function isAppliedAt(key: string): boolean {
  const base = parseReplicaAnnotation(key)?.base;
  return base === ANNOTATIONS.appliedAt || base === ANNOTATIONS.readerAppliedAt;
}

/** The applied-hash annotation that goes with the applied-at annotation `key` (same kind, same replica). */
function appliedHashKeyOf(key: string): string {
  const parsed = parseReplicaAnnotation(key)!;
  return replicaAnnotation(parsed.base === ANNOTATIONS.appliedAt ? ANNOTATIONS.appliedHash : ANNOTATIONS.readerAppliedHash, parsed.replica);
}

/** A JSON merge patch (application/merge-patch+json) that touches only these annotations. */
export function annotationMergePatch(changes: AnnotationChanges): { metadata: { annotations: AnnotationChanges } } {
  return { metadata: { annotations: { ...changes } } };
}
