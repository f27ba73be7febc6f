// Which partition of the stored Prometheus config each MonitoredService goes to.
//
// One object holding every service's scrape jobs and rules reaches kube-apiserver's 1 MiB limit
// near 12,000 services, and every change rewrites all of it. Partitions are objects of their own,
// each well under the limit even uncompressed, so no service is left out for size alone and one
// change rewrites one partition.
//
// The assignment is a pure function of the services and their sizes (no memory of earlier
// assignments: a restarted operator computes the same partitions from the same objects), and it is
// stable under one change the way content-defined chunking is: services are taken in namespace/name
// order and a partition ends
//   - before a namespace whose name hashes to 0 modulo NAMESPACES_PER_CUT (content-defined: where
//     these cuts fall depends on the names only, not on any size, so every change is contained
//     between two of them),
//   - or before a namespace that does not fit whole into the partition, and before and after a
//     namespace of more than half a budget (such a namespace has partitions of its own: deleting
//     it deletes them and touches no other; small namespaces stay whole where they fit),
//   - or before a service that would take the partition over its budget,
//   - or, in a namespace too large to stay whole, before a service whose ref hashes to 0 modulo
//     SERVICES_PER_CUT once the partition holds half its budget (so that a large namespace
//     falls back into the same cuts after a change in it).
// Only the budget cuts depend on sizes, so a change is contained between the namespace cuts around
// it, and a change that moves no budget cut (in practice nearly every edit: unit tests measure it)
// touches its own partition only. Small namespaces share a partition; a small install has one.
import { createHash } from 'node:crypto';
import { compareRefs } from '../render/names.js';
import type { ObjectRef } from '../render/types.js';

/**
 * Budget of one partition in uncompressed bytes (file names and contents). Below the object limit
 * (assemble/config-bundle.ts MAX_OBJECT_DATA_BYTES) with room to spare, so that a partition fits
 * even when its rules do not compress at all.
 */
export const PARTITION_BUDGET_BYTES = 900_000;

/** On average every this many namespaces (by name hash) start a partition. */
export const NAMESPACES_PER_CUT = 8;
/** Inside a large namespace, on average every this many services (by ref hash) may start one. */
export const SERVICES_PER_CUT = 8;

/** One service as the partitioner sees it: its ref and its share of the stored bytes. */
export interface PartitionUnit {
  ref: ObjectRef;
  /** Uncompressed bytes it adds to its partition's object (rule file name and text, scrape jobs). */
  bytes: number;
}

export interface Partition<U extends PartitionUnit = PartitionUnit> {
  /**
   * Stable name: 12 hex characters of sha256 of the partition's first service's namespace (when the
   * partition starts at a namespace) or ref (when it starts inside one). Usable in object and file names.
   */
  id: string;
  /** Its services, in namespace/name order. */
  refs: ObjectRef[];
  /** The units themselves, in the same order (a caller's own fields carried along). */
  units: U[];
  /** Sum of their bytes. */
  bytes: number;
}

/** FNV-1a (32 bit) of a string's UTF-16 code units: cheap, stable across runs and versions. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Whether a namespace always starts a partition (by its name alone: the cuts every change stays between). */
export function startsPartition(namespace: string): boolean {
  return fnv1a(namespace) % NAMESPACES_PER_CUT === 0;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * The partitions of `units` (any order; refs unique) under `budgetBytes`. Every unit is in exactly
 * one partition; a partition is over budget only when it is a single unit larger than the budget.
 * Ids are unique: two partitions never start at the same namespace or service.
 */
export function partitionServices<U extends PartitionUnit>(units: readonly U[], budgetBytes = PARTITION_BUDGET_BYTES): Partition<U>[] {
  // Linear for units already in order (V8 sorts with TimSort): the controller passes them so.
  const sorted = [...units].sort((a, b) => compareRefs(a.ref, b.ref));
  const namespaceBytes = new Map<string, number>();
  for (const unit of sorted) namespaceBytes.set(unit.ref.namespace, (namespaceBytes.get(unit.ref.namespace) ?? 0) + unit.bytes);
  const partitions: Partition<U>[] = [];
  let current: Partition<U> | undefined;
  let previousNamespace: string | undefined;
  const large = (namespace: string | undefined) => namespace !== undefined && namespaceBytes.get(namespace)! * 2 > budgetBytes;
  for (const unit of sorted) {
    const { namespace, name } = unit.ref;
    const startsNamespace = namespace !== previousNamespace;
    const cutAtNamespace = startsNamespace && (startsPartition(namespace) || large(namespace) || large(previousNamespace));
    previousNamespace = namespace;
    const full = current !== undefined && current.bytes + (startsNamespace ? namespaceBytes.get(namespace)! : unit.bytes) > budgetBytes;
    const cutInside = current !== undefined && current.bytes * 2 >= budgetBytes && fnv1a(`${namespace}/${name}`) % SERVICES_PER_CUT === 0;
    if (current === undefined || cutAtNamespace || full || cutInside) {
      // A partition starting at a namespace is named after it, one starting inside one after the service.
      current = { id: shortHash(startsNamespace ? `namespace\u0000${namespace}` : `service\u0000${namespace}\u0000${name}`), refs: [], units: [], bytes: 0 };
      partitions.push(current);
    }
    current.refs.push(unit.ref);
    current.units.push(unit);
    current.bytes += unit.bytes;
  }
  return partitions;
}
