// The layout handshake of a partitioned Prometheus config (docs/contract.md, "The layout handshake").
// A sidecar without --partitions (the one of a chart from before partitions, still running during a
// `helm upgrade`) would apply a partitioned main object alone: no service job, no rule file, and it
// would confirm that reload. So an operator with --config-partitions writes the one-object layout,
// offering partitions on it (ANNOTATIONS.partitionsOffered), until the sidecar has said it reads
// them and no sidecar without partitions is left:
// - a sidecar with --partitions reports on an object that offers partitions under the reader
//   annotations (reader-applied-hash, ...), never under applied-hash/applied-at/reload-error/failed-hash;
// - so those four can only come from a sidecar without partitions. The operator removes them; such
//   a sidecar writes them back at its next pass (the removal is a watch event that starts one), and
//   the operator switches only once they stayed away for a quiet period.
// Pure: the controller passes the main object's annotations and the time, and does the writes.
import { ANNOTATIONS, parseReplicaAnnotation } from '../contract.js';

/** The plain report annotations: on an object that offers partitions, only a sidecar without --partitions writes them. */
export const PLAIN_REPORT_ANNOTATIONS = [ANNOTATIONS.appliedHash, ANNOTATIONS.appliedAt, ANNOTATIONS.reloadError, ANNOTATIONS.failedHash] as const;

/** How long the plain reports must stay away after the operator removed them before it writes partitions (ms). */
export const LAYOUT_QUIET_MS = 30_000;

export interface LayoutObservation {
  /** The main ConfigMap's annotations (undefined: no object yet). */
  annotations: Record<string, string> | undefined;
  /** Now, ms since the epoch. */
  now: number;
  /** When this operator last removed the plain reports (ms since the epoch), if it did. */
  lastCleared: number | undefined;
  /** LAYOUT_QUIET_MS unless a test shortens it. */
  quietMs: number;
}

export interface LayoutDecision {
  partitioned: boolean;
  /** Remove the plain report annotations from the main object now (and remember the time). */
  clear: boolean;
  /** Decide again after this many ms, though nothing else changes (the quiet period runs). */
  recheckInMs?: number;
  /** Why, for the log: the condition that holds the one-object layout, or that partitions are read. */
  reason: string;
}

/**
 * The layout to write. One object until the main object offers partitions, a sidecar reported as a
 * partition reader, and no plain report came back for `quietMs` after the last removal; a plain
 * report seen at any time (a sidecar without partitions started again) returns to one object.
 */
export function chooseLayout(o: LayoutObservation): LayoutDecision {
  const a = o.annotations ?? {};
  if (a[ANNOTATIONS.partitionsOffered] === undefined) return { partitioned: false, clear: false, reason: 'the main object does not offer partitions to the sidecar yet' };
  // Of any replica (contract.ts replicaAnnotation): every Prometheus pod's sidecar reports under its own keys.
  const reportOf = (bases: readonly string[]) => Object.keys(a).filter((key) => bases.includes(parseReplicaAnnotation(key)?.base ?? ''));
  const plain = reportOf(PLAIN_REPORT_ANNOTATIONS);
  const sinceClear = o.lastCleared === undefined ? Infinity : o.now - o.lastCleared;
  if (plain.length > 0) {
    // Once per quiet period: each removal is a watch event for that sidecar, which writes them back.
    const clear = sinceClear >= o.quietMs;
    return {
      partitioned: false,
      clear,
      recheckInMs: clear ? o.quietMs : o.quietMs - sinceClear,
      reason: `a Prometheus sidecar without --partitions reported (${plain.join(', ')})`,
    };
  }
  if (reportOf([ANNOTATIONS.readerAppliedHash, ANNOTATIONS.readerFailedHash]).length === 0) {
    return { partitioned: false, clear: false, reason: 'no Prometheus sidecar has reported that it reads partitions yet' };
  }
  if (sinceClear < o.quietMs) {
    return { partitioned: false, clear: false, recheckInMs: o.quietMs - sinceClear, reason: 'waiting whether a sidecar without --partitions reports again' };
  }
  return { partitioned: true, clear: false, reason: 'every Prometheus sidecar that reports reads partitions' };
}
