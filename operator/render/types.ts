// Contracts between validation, the renderers and the I/O shell (operator, sync sidecar, CLI).
// Everything here is plain data: renderers are pure functions of (services, settings).
import type { MonitoredService } from '../api/schema.js';

// The settings types are inferred from their zod schema (settings-schema.ts), re-exported here with
// the other contracts.
export type { GlobalSettings, NotificationProfile, SmtpSettings } from './settings-schema.js';

/**
 * What the operator learnt from the cluster that changes a scrape job, per job name
 * (vigil/<ns>/<name>/<port>). Absent: nothing to change (the CLI renders without it).
 * - skipServices (issue #15): Services whose pods another selected Service already covers, so
 *   each pod is scraped once.
 * - onlyServices (issue #13): set when the selector cannot be applied exactly by relabelling in
 *   this namespace (a Service has a label key that Prometheus's label-name sanitising makes equal
 *   to a selector key, e.g. `a_b` and `a.b`): the names of the Services the selector matches, kept
 *   by name instead (possibly none).
 */
export type ScrapeHints = Record<
  string,
  {
    skipServices: string[];
    onlyServices?: string[];
    /**
     * Why the operator's Service cache says this job can discover nothing (a selector matching no
     * Service, a missing or unnamed port: controller/selection.ts), in words; written into the
     * service's ServiceDown description, so that the email says it (issue #21).
     */
    downReason?: string;
  }
>;

/** One problem found in one object: what the CLI prints and what the Valid condition says. */
export interface ValidationIssue {
  /** Dotted path into the object, e.g. spec.rules[1].expr */
  field: string;
  /** What is wrong and what would be accepted. */
  message: string;
  /**
   * A value of this field validation accepts in its place, where one stands out (the restart
   * refusal of spec.downAlert.for: the shortest `for` that fires no sooner): what the salvage of a
   * generation an earlier operator version ran takes instead (controller/plan.ts).
   */
  accepted?: string;
}

export interface ObjectRef {
  namespace: string;
  name: string;
}

export type ValidationResult = { ok: true; service: MonitoredService } | { ok: false; ref: ObjectRef; issues: ValidationIssue[] };

/** The rendered configuration: file name → content. Names are valid ConfigMap/Secret keys. */
export interface RenderedConfig {
  /** prometheus.yml plus one rule file per MonitoredService. */
  prometheus: Record<string, string>;
  /** alertmanager.yml plus email templates. Goes in a Secret: it holds SMTP credentials. */
  alertmanager: Record<string, string>;
  /** sha256 over each file set (from its files' digests: assemble/config.ts hashConfig), deterministic; short form used in status and annotations. */
  prometheusHash: string;
  alertmanagerHash: string;
  /** The full sha256 (hex) behind each hash: equal digests mean equal file sets (assemble/config.ts assembleConfig). */
  digests: { prometheus: string; alertmanager: string };
  /** The services included, sorted by namespace/name. */
  included: ObjectRef[];
  /**
   * Set when the Prometheus config is partitioned (`vigil operator --config-partitions`,
   * assemble/partitioned-config.ts): then `prometheus` is every file of it as the sidecar writes
   * them, `prometheusHash`/`digests.prometheus` its hash, and the controller writes these objects.
   */
  prometheusPartitions?: PartitionedPrometheusConfig;
}

/** One partition of a partitioned Prometheus config (assemble/partitioned-config.ts). */
export interface ConfigPartition {
  /** Stable id (assemble/partitions.ts Partition.id): in its object's name and its scrape file's. */
  id: string;
  refs: ObjectRef[];
  /** Its scrape file and its services' rule files. */
  files: Record<string, string>;
  /** sha256 (hex) over its files' names and digests. */
  digest: string;
}

export interface PartitionedPrometheusConfig {
  /** prometheus.yml (naming every partition's scrape file in scrape_config_files) and the Watchdog rule file. */
  main: Record<string, string>;
  /** In id order. */
  partitions: ConfigPartition[];
  /** sha256 over the main files and every partition's id and digest: the config hash (full length). */
  digest: string;
  /** Its first HASH_LENGTH characters (status fields, annotations). */
  hash: string;
  /**
   * Each service's bytes (assemble/partitioned-config.ts unitBytes) by its pieces object, shared
   * with the results this one was built from: a later call with this result as `previous` counts
   * only new pieces (counting the UTF-8 bytes of 10,000 services' text took most of one change's time).
   */
  unitBytes: WeakMap<object, number>;
  /**
   * Each partition's member pieces and scrape file name, by partition id: a later call reuses a
   * partition whose members are the same pieces without joining or hashing their digests again.
   */
  members: ReadonlyMap<string, { pieces: readonly object[]; scrapeFile: string }>;
  /**
   * With Prometheus shards (assemble/sharded-config.ts): each shard's own config, by shard index;
   * this object then describes all of them together (every shard's partitions, shard 0's main
   * files, and a hash over the shards' hashes). Absent: one Prometheus.
   */
  shards?: PartitionedPrometheusConfig[];
}
