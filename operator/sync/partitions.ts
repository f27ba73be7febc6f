// A partitioned config as the sidecar sees it: the main object (prometheus.yml, the Watchdog's rule
// file) names in its `vigil.dev/partitions` annotation every partition and the config hash each
// partition object must carry; the partition objects (ConfigMaps labelled with the main object's
// name) hold the scrape and rule files. The operator writes the partitions before the main object,
// so the sidecar applies a main object only once every partition it names has arrived at the named
// hash: the files on disk are always one config the operator rendered, never a mix. Partition
// objects the main object does not name (left over, or not yet named) are ignored, so their files
// are removed from disk when a new main object no longer names them. Pure.
import { ANNOTATIONS, partitionObjectName } from '../contract.js';
import type { FileSet } from './files.js';

/** A watched object, decoded: its annotations and files (or why they could not be decoded). */
export interface DecodedObject {
  annotations: Record<string, string>;
  files: FileSet | { error: string };
}

export type MergedConfig =
  /** Main object without partitions, or with every partition it names: what the syncer applies. */
  | { ready: true; object: DecodedObject }
  /** A named partition is missing or at another hash: wait for its watch event (not an error). */
  | { ready: false; waitingFor: string };

/** Partition id -> config hash, from the main object's annotation; throws naming what is wrong. */
export function parsePartitionManifest(value: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new Error(`annotation ${ANNOTATIONS.partitions} is not JSON (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`annotation ${ANNOTATIONS.partitions} must be a JSON object of partition id to config hash`);
  const manifest = new Map<string, string>();
  for (const [id, hash] of Object.entries(parsed)) {
    if (typeof hash !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(id)) {
      throw new Error(`annotation ${ANNOTATIONS.partitions}: entry ${JSON.stringify(id)} must be a partition id (lowercase letters, digits, "-") with a string config hash`);
    }
    manifest.set(id, hash);
  }
  return manifest;
}

/**
 * The config to apply from the main object `mainName` and the partition objects by name. A main
 * object without the annotation is applied as it is (a config stored in one object).
 */
export function mergePartitions(mainName: string, main: DecodedObject, partitions: ReadonlyMap<string, DecodedObject>): MergedConfig {
  const manifestText = main.annotations[ANNOTATIONS.partitions];
  if (manifestText === undefined || 'error' in main.files) return { ready: true, object: main };
  let manifest: Map<string, string>;
  try {
    manifest = parsePartitionManifest(manifestText);
  } catch (err) {
    return { ready: true, object: { annotations: main.annotations, files: { error: (err as Error).message } } };
  }
  const files: FileSet = { ...main.files };
  const from = new Map(Object.keys(files).map((f) => [f, mainName]));
  for (const [id, hash] of [...manifest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const name = partitionObjectName(mainName, id);
    const partition = partitions.get(name);
    if (!partition) return { ready: false, waitingFor: `partition ${name} (not there yet)` };
    const has = partition.annotations[ANNOTATIONS.configHash];
    if (has !== hash) return { ready: false, waitingFor: `partition ${name} at config hash ${hash} (it has ${has ?? 'none'})` };
    if ('error' in partition.files) return { ready: true, object: { annotations: main.annotations, files: { error: `partition ${name}: ${partition.files.error}` } } };
    for (const [file, content] of Object.entries(partition.files)) {
      const other = from.get(file);
      if (other !== undefined) return { ready: true, object: { annotations: main.annotations, files: { error: `file "${file}" is in both ${other} and ${name}` } } };
      from.set(file, name);
      files[file] = content;
    }
  }
  return { ready: true, object: { annotations: main.annotations, files } };
}
