// The contract between the operator and the sync sidecars (and the chart, which names and wires
// them): object names, the annotations through which they talk, the file names and the encoding of
// the generated ConfigMap/Secret. Defined here once; docs/contract.md describes it for people.
// The modules that act on it (assemble/config-bundle.ts, sync/annotations.ts, rbac.ts, render/names.ts)
// re-export what they use, so callers may import either.

/** Names of the objects Vigil creates in its install namespace. */
export const OBJECT_NAMES = {
  prometheusConfigMap: 'vigil-prometheus-config',
  alertmanagerSecret: 'vigil-alertmanager-config',
  /** The files scrape jobs read (ca_file, credentials_file, ...), copied from the MonitoredServices' Secrets/ConfigMaps. */
  scrapeCredentialsSecret: 'vigil-prometheus-scrape-credentials',
  leaderLease: 'vigil-operator',
  operatorServiceAccount: 'vigil-operator',
  prometheusServiceAccount: 'vigil-prometheus',
  alertmanagerServiceAccount: 'vigil-alertmanager',
  helmTestServiceAccount: 'vigil-test',
  /** The chart's settings ConfigMap: owner of what must go with the release (`--owner-configmap`, issue #9). */
  settingsConfigMap: 'vigil-operator-settings',
  helmTestPod: 'vigil-test-ready',
} as const;

/** Annotations on the generated ConfigMap/Secret: the operator writes configHash, the sidecar the rest. */
export const ANNOTATIONS = {
  /** Written by the operator: its hash of the content. */
  configHash: 'vigil.dev/config-hash',
  /** Written by the sidecar after a confirmed reload: the configHash the server now runs. */
  appliedHash: 'vigil.dev/applied-hash',
  /** RFC 3339 UTC time of that reload. */
  appliedAt: 'vigil.dev/applied-at',
  /** The server's error of the last failed reload (cut to MAX_ERROR_ANNOTATION_LENGTH); removed on success. */
  reloadError: 'vigil.dev/reload-error',
  /** The configHash whose reload failed; removed on success. */
  failedHash: 'vigil.dev/failed-hash',
  /**
   * On a partitioned config's main object: JSON object of partition id -> the configHash its
   * partition object must carry (sync/partitions.ts). The sidecar applies the main object only
   * together with exactly these partitions.
   */
  partitions: 'vigil.dev/partitions',
  /**
   * Written by an operator with --config-partitions on the Prometheus main object, whichever layout it
   * writes: a sidecar that reads partitions (`vigil sync --partitions`) then reports under the reader
   * annotations below instead of applied-hash/applied-at/reload-error/failed-hash, so those four can
   * only come from a sidecar without partitions (docs/contract.md, "The layout handshake").
   */
  partitionsOffered: 'vigil.dev/partitions-offered',
  /** READER_ANNOTATIONS[appliedHash] etc.: the four reports of a sidecar that reads partitions. */
  readerAppliedHash: 'vigil.dev/reader-applied-hash',
  readerAppliedAt: 'vigil.dev/reader-applied-at',
  readerReloadError: 'vigil.dev/reader-reload-error',
  readerFailedHash: 'vigil.dev/reader-failed-hash',
  /**
   * Written by the operator with Prometheus shards on shard 0's main object (docs/contract.md,
   * "Shards"): the shard count whose handover finished, a decimal integer. Absent on an existing
   * object: it was written with one Prometheus.
   */
  shardsSettled: 'vigil.dev/shards-settled',
  /**
   * Beside shardsSettled while namespaces move to another shard count: JSON
   * `{"to": <shard count>, "appliedAt": {"<shard>": "<RFC 3339>"}}`, when each new shard's sidecar
   * first reported a config holding its incoming namespaces (assemble/handover.ts).
   */
  shardsHandover: 'vigil.dev/shards-handover',
} as const;

/**
 * The report annotations a sync sidecar writes (plain and reader): each replica of a server writes
 * its own copy (replicaAnnotation), so two Prometheus or Alertmanager pods never overwrite each other.
 */
export const REPORT_ANNOTATIONS = [
  ANNOTATIONS.appliedHash,
  ANNOTATIONS.appliedAt,
  ANNOTATIONS.reloadError,
  ANNOTATIONS.failedHash,
  ANNOTATIONS.readerAppliedHash,
  ANNOTATIONS.readerAppliedAt,
  ANNOTATIONS.readerReloadError,
  ANNOTATIONS.readerFailedHash,
] as const;

/** Written by a sidecar that knows its pod name (POD_NAME), beside its report: which pod reports (per replica like the others). */
export const REPORTER_POD_ANNOTATION = 'vigil.dev/reporter-pod';

/** replicaAnnotation's separator; `vigil.dev/<report>.replica-<i>`. */
export const REPLICA_SUFFIX = '.replica-';

/**
 * The key under which replica `replica` (the StatefulSet ordinal of its pod) writes report
 * annotation `key`: replica 0 writes the plain key (one replica, the local stack and a sidecar from
 * before per-replica reports are exactly as before), replica i > 0 writes `<key>.replica-<i>`
 * (e.g. `vigil.dev/applied-hash.replica-1`; the name part stays under the 63 characters allowed).
 */
export function replicaAnnotation(key: string, replica: number): string {
  return replica === 0 ? key : `${key}${REPLICA_SUFFIX}${replica}`;
}

/**
 * The replica whose report annotation `key` is, with the report's base key: undefined when `key`
 * is no report annotation (REPORT_ANNOTATIONS, REPORTER_POD_ANNOTATION) of any replica.
 */
export function parseReplicaAnnotation(key: string): { base: string; replica: number } | undefined {
  const at = key.lastIndexOf(REPLICA_SUFFIX);
  const base = at < 0 ? key : key.slice(0, at);
  if (!(REPORT_ANNOTATIONS as readonly string[]).includes(base) && base !== REPORTER_POD_ANNOTATION) return undefined;
  if (at < 0) return { base, replica: 0 };
  const ordinal = key.slice(at + REPLICA_SUFFIX.length);
  return /^[1-9]\d{0,5}$/.test(ordinal) ? { base, replica: Number(ordinal) } : undefined;
}

/** A sidecar's report annotation -> the one a partition reader writes instead (ANNOTATIONS.partitionsOffered). */
export const READER_ANNOTATIONS: Readonly<Record<string, string>> = {
  [ANNOTATIONS.appliedHash]: ANNOTATIONS.readerAppliedHash,
  [ANNOTATIONS.appliedAt]: ANNOTATIONS.readerAppliedAt,
  [ANNOTATIONS.reloadError]: ANNOTATIONS.readerReloadError,
  [ANNOTATIONS.failedHash]: ANNOTATIONS.readerFailedHash,
};

/** Label of a partition object (ConfigMap `<main object>-<partition id>`): the name of its main object. */
export const PARTITION_OF_LABEL = 'vigil.dev/config-partition-of';

/** The name of partition `id`'s object beside the main object `main`. */
export function partitionObjectName(main: string, id: string): string {
  return `${main}-${id}`;
}

/**
 * On the install's Lease (OBJECT_NAMES.leaderLease): the install is being removed (`vigil uninstall`, the chart's
 * pre-delete hook); the value is when (RFC 3339). Every operator replica that reads it stops writing for good and
 * the leader releases the Lease; no replica takes a marked Lease, and other installs take its claims over at once.
 */
export const INSTALL_REMOVED_ANNOTATION = 'vigil.dev/install-removed';

/** Annotation values are small text; a reload error (a YAML dump, a stack) is cut to this length. */
export const MAX_ERROR_ANNOTATION_LENGTH = 1024;

/** Main config file of each server, a key of the generated object (and the file the sidecar writes). */
export const PROMETHEUS_CONFIG_FILE = 'prometheus.yml';
export const ALERTMANAGER_CONFIG_FILE = 'alertmanager.yml';
/** Rule files: `<namespace>__<name>.rules.yaml`, one per MonitoredService, next to prometheus.yml. */
export const RULE_FILE_SUFFIX = '.rules.yaml';

/**
 * A partitioned Prometheus config (assemble/partitioned-config.ts): each partition's scrape jobs
 * are the file `partition-<partition id>.scrape.yaml` beside prometheus.yml, loaded by its
 * `scrape_config_files` glob `*.scrape.yaml`; its rule files keep their names. The two globs never
 * match each other's files, whatever the namespace and service names.
 */
export const SCRAPE_FILE_PREFIX = 'partition-';
export const SCRAPE_FILE_SUFFIX = '.scrape.yaml';

/** The one key of a compressed object (binaryData of a ConfigMap, data of a Secret). */
export const BUNDLE_KEY = 'vigil-files.json.gz';
/** Written into the bundle so a future encoding can be told apart (and refused by old sidecars). */
export const BUNDLE_FORMAT = 'vigil.dev/files.v1';

/**
 * The main object of Prometheus shard `shard` (`vigil operator --prometheus-shards N`): shard 0 keeps
 * `main` itself (one shard is exactly the install without shards, and going from 1 to N shards keeps
 * the running Prometheus as shard 0), shard i > 0 is `<main>-shard-<i>`. Its partitions are named and
 * labelled after it (partitionObjectName, PARTITION_OF_LABEL), so a shard's sidecar runs with
 * `--configmap <that name> --partitions` and reads only its shard's objects.
 */
export function shardObjectName(main: string, shard: number): string {
  return shard === 0 ? main : `${main}-shard-${shard}`;
}

/** In `vigil operator --prometheus-url` with shards: stands for the shard index (each shard's Prometheus has its own URL). */
export const SHARD_PLACEHOLDER = '{shard}';

/** Shard `shard`'s Prometheus URL from the `--prometheus-url` template. */
export function shardUrl(template: string, shard: number): string {
  return template.replaceAll(SHARD_PLACEHOLDER, String(shard));
}
