// What the controller keeps per MonitoredService between reconciles: its validation result and,
// for a valid one, its rendered pieces (render/index.ts ServicePieces). Both are pure functions of
// the object's spec and of the settings, so an entry is reused while uid, generation, spec and the
// settings hash stay the same. A reconcile after one change then validates and renders one object
// and only joins the others' text (issue #13: 10,000 services). The generation alone does not fix
// the spec: after a CRD upgrade the API server reads the same stored object with the new schema
// (a field the old one pruned appears) at the same generation, and a watch event served with the
// old schema just before can carry the pruned spec. So a new resourceVersion at an unchanged
// generation (a status write, or that) is checked against a hash of the spec.
//
// One entry per live object (a new generation replaces the old one; prune() drops deleted objects),
// so memory follows the cluster, not its history. The renderers stay pure: the cache lives here.
// ServiceCache is the one owner of operator/assemble/'s state (these entries, the last assembled
// config, the deflated bundle members, the expected job names); the folder has no module-level state.
import { allFiles, assemblePartitionedPrometheus, type ConfigPartition, type PartitionedPrometheusConfig } from './partitioned-config.js';
import { assembleShardedPrometheus } from './sharded-config.js';
import { ShardAssignment } from './shards.js';
import { createHash } from 'node:crypto';
import type { MonitoredService } from '../api/schema.js';
import { compressMember, encodeFileSet, type BundleMember, type DeflatedMember, type EncodedFiles, type EncodeLimits, type FileSet, type MemberCompressor } from './config-bundle.js';
import { renderServicePieces, withScrapeHints, type ServicePieces } from '../render/index.js';
import { assembleConfig } from './config.js';
import { PROMETHEUS_CONFIG_FILE } from '../render/names.js';
import type { GlobalSettings, RenderedConfig, ScrapeHints, ValidationResult } from '../render/types.js';
import { validateMonitoredService } from '../validate/index.js';
import type { RawMonitoredService } from '../api/raw.js';

interface Entry {
  generation: number;
  /** The object's resourceVersion when the entry was last confirmed; a different one rechecks specHash. */
  resourceVersion: string | undefined;
  specHash: string;
  settingsHash: string;
  result: ValidationResult;
}

/** sha256 of the spec's JSON, 16 hex characters. */
function specHashOf(raw: RawMonitoredService): string {
  return createHash('sha256')
    .update(JSON.stringify(raw.spec ?? null))
    .digest('hex')
    .slice(0, 16);
}

/** sha256 of the settings' JSON (they hold SMTP credentials: only the hash is kept), 16 hex characters. */
export function settingsHash(settings: GlobalSettings): string {
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
}

/** The cache key of an object: its uid, or namespace/name for objects without one (tests, CLI). */
export function objectKey(raw: RawMonitoredService): string {
  return raw.metadata?.uid ?? `${raw.metadata?.namespace}/${raw.metadata?.name}`;
}

/** The stages planReconcile (controller/plan.ts ReconcileInput) runs through the cache. */
export interface ReconcileStages {
  validate: (raw: RawMonitoredService) => ValidationResult;
  render: (services: MonitoredService[], settings: GlobalSettings, hints?: ScrapeHints) => RenderedConfig;
  encode: (files: FileSet, limits?: EncodeLimits) => EncodedFiles;
  /** encode of a partition's files, taken from the last reconciles when its digest is unchanged. */
  encodePartition: (partition: ConfigPartition, limits?: EncodeLimits) => EncodedFiles;
  /** The scrape job names of a rendered prometheus.yml, read with `parse` (sync/job-names.ts scrapeJobNames). */
  expectedJobNames: (rendered: RenderedConfig, parse: (prometheusYml: string) => string[]) => string[];
}

/** How a service's pieces take the reconcile's scrape hints (render/index.ts withScrapeHints). */
export type HintRenderer = (pieces: ServicePieces, service: MonitoredService, settings: GlobalSettings, hints: ScrapeHints | undefined) => ServicePieces;

export class ServiceCache {
  private readonly entries = new Map<string, Entry>();
  /**
   * The result last returned for an informer object itself, with the settings hash: an object the
   * informer still holds unchanged is answered without its key, entry and resourceVersion checks
   * (one change at 10,000 services looked up 10,000 entries). The same object has the same spec
   * and generation, so the result is the one the entry gives.
   */
  private readonly byObject = new WeakMap<RawMonitoredService, { settingsHash: string; result: ValidationResult }>();
  /** Pieces of each valid service object held by an entry (dropped with the entry). */
  private readonly pieces = new WeakMap<MonitoredService, ServicePieces>();
  /** Validations and renderings done (not served from the cache), for tests and metrics. */
  misses = 0;

  constructor(
    private readonly validate: (raw: unknown, render: (service: MonitoredService) => void) => ValidationResult = validateMonitoredService,
    private readonly render: (service: MonitoredService, settings: GlobalSettings) => ServicePieces = renderServicePieces,
    /** Gives each service's cached pieces the reconcile's scrape hints: the last step of its pieces. */
    private readonly withHints: HintRenderer = withScrapeHints,
    /**
     * Render the Prometheus config as partitions (RenderedConfig.prometheusPartitions; `vigil operator
     * --config-partitions`), until setPartitioned says otherwise.
     */
    private partitioned = false,
  ) {}

  /**
   * The validation result of `raw` under `settings` (whose settingsHash is `hash`), from the cache
   * when uid, generation and settings are unchanged. A valid result's pieces: piecesOf(service).
   */
  resolve(raw: RawMonitoredService, settings: GlobalSettings, hash: string): ValidationResult {
    const known = this.byObject.get(raw);
    if (known?.settingsHash === hash) return known.result;
    const result = this.resolveEntry(raw, settings, hash);
    this.byObject.set(raw, { settingsHash: hash, result });
    return result;
  }

  private resolveEntry(raw: RawMonitoredService, settings: GlobalSettings, hash: string): ValidationResult {
    const key = objectKey(raw);
    const generation = raw.metadata?.generation ?? 0;
    const resourceVersion = raw.metadata?.resourceVersion;
    const cached = this.entries.get(key);
    let specHash: string | undefined;
    if (cached && cached.generation === generation && cached.settingsHash === hash) {
      if (resourceVersion !== undefined && cached.resourceVersion === resourceVersion) return cached.result;
      specHash = specHashOf(raw);
      if (specHash === cached.specHash) {
        cached.resourceVersion = resourceVersion;
        return cached.result;
      }
    }
    this.misses++;
    let pieces: ServicePieces | undefined;
    // The renderability check (validate/index.ts) is this rendering, with the real settings.
    const result = this.validate(raw, (service) => {
      pieces = this.render(service, settings);
    });
    if (result.ok && pieces) this.pieces.set(result.service, pieces);
    this.entries.set(key, { generation, resourceVersion, specHash: specHash ?? specHashOf(raw), settingsHash: hash, result });
    return result;
  }

  /** The pieces of a service returned by resolve() with these settings (rendered now if absent). */
  piecesOf(service: MonitoredService, settings: GlobalSettings): ServicePieces {
    let pieces = this.pieces.get(service);
    if (!pieces) {
      pieces = this.render(service, settings);
      this.pieces.set(service, pieces);
    }
    return pieces;
  }

  /** Compressed bundle members of the last reconciles (the written objects' bytes). */
  readonly members = new MemberCache();
  /** Each partition's encoded object of the last reconciles, by partition digest. */
  readonly encodedPartitions = new PartitionEncodings();

  /**
   * The last assembled config: a file set whose digest did not move is taken from it (one change
   * moves one of the two, e.g. a rule leaves alertmanager.yml as it was).
   */
  private lastRendered: RenderedConfig | undefined;
  /**
   * Switches the Prometheus layout for the next renders (the controller's layout handshake,
   * controller/layout-gate.ts). The last one-object render is dropped: rendered with the other
   * layout, it holds no Prometheus files to reuse.
   */
  setPartitioned(on: boolean): void {
    if (on === this.partitioned) return;
    this.partitioned = on;
    this.lastRendered = undefined;
  }

  /** With more than one Prometheus shard (setShards): which shard each namespace goes to. */
  private shardAssignment: ShardAssignment | undefined;
  /**
   * Renders the partitioned Prometheus config as `shards` shards (assemble/sharded-config.ts); 1: one
   * Prometheus, as without. `settled`: the shard count whose handover finished (assemble/handover.ts;
   * default `shards`): a namespace moving from it is rendered on its new and its old shard. Only
   * takes effect while partitioned.
   */
  setShards(shards: number, settled = shards): void {
    if (shards === (this.shardAssignment?.shards ?? 1) && settled === (this.shardAssignment?.settled ?? 1)) return;
    this.shardAssignment = shards > 1 ? new ShardAssignment(shards, settled) : undefined;
  }

  /** The pieces and settings the last config was assembled from (partitioned: whether alertmanager.yml can stay). */
  private lastAlertmanager: { settingsHash: string; pieces: readonly ServicePieces[] } | undefined;

  /** The last partitioned Prometheus config: partitions whose digest did not move are taken from it. */
  private lastPartitioned: PartitionedPrometheusConfig | undefined;

  /** Job names of the last rendered prometheus.yml, by its hash: a reconcile must not rescan megabytes of YAML when nothing changed. */
  private expectedJobs: { hash: string; jobNames: string[] } | undefined;

  /** planReconcile's validate, render, encode and expected job names for one reconcile with `settings`, through this cache. */
  forReconcile(settings: GlobalSettings): ReconcileStages {
    const hash = settingsHash(settings);
    this.members.nextReconcile();
    this.encodedPartitions.nextReconcile();
    return {
      encode: (files, limits) => encodeFileSet(files, limits, this.members.compress),
      encodePartition: (partition, limits) => this.encodedPartitions.encode(partition, limits, (files) => encodeFileSet(files, limits, this.members.compress)),
      expectedJobNames: (rendered, parse) => {
        if (this.expectedJobs?.hash !== rendered.prometheusHash) {
          this.expectedJobs = { hash: rendered.prometheusHash, jobNames: parse(rendered.prometheus[PROMETHEUS_CONFIG_FILE] ?? '') };
        }
        return this.expectedJobs.jobNames;
      },
      validate: (raw) => this.resolve(raw, settings, hash),
      render: (services, _settings, hints) => {
        const pieces = services.map((service) => this.withHints(this.piecesOf(service, settings), service, settings, hints));
        // Partitioned, the rest of the config is alertmanager.yml and `included`: unchanged when the
        // services and their routes are (a rule change), so not assembled or hashed again.
        const alertmanagerKept = this.partitioned && this.lastRendered !== undefined && this.lastAlertmanager?.settingsHash === hash && sameRoutes(this.lastAlertmanager.pieces, pieces);
        if (!alertmanagerKept) this.lastRendered = assembleConfig(pieces, settings, this.lastRendered, { prometheus: !this.partitioned });
        this.lastAlertmanager = { settingsHash: hash, pieces };
        if (!this.partitioned) return this.lastRendered!;
        if (!this.lastRendered) throw new Error('unreachable: assembled above');
        // alertmanager.yml and `included` as before; the Prometheus part as partitions.
        this.lastPartitioned = this.shardAssignment
          ? assembleShardedPrometheus(pieces, settings, this.shardAssignment, this.lastPartitioned)
          : assemblePartitionedPrometheus(pieces, settings, this.lastPartitioned);
        const partitioned = this.lastPartitioned;
        const rendered: RenderedConfig = {
          ...this.lastRendered,
          prometheusHash: partitioned.hash,
          digests: { ...this.lastRendered.digests, prometheus: partitioned.digest },
          prometheusPartitions: partitioned,
        };
        // Every file in one set only when read (the CLI, a size-fit message): joining and sorting
        // every service's file names on each change is O(services), and the writes use the partitions.
        let files: FileSet | undefined;
        return Object.defineProperty(rendered, 'prometheus', { enumerable: true, get: () => (files ??= allFiles(partitioned)) });
      },
    };
  }

  /** Drops the entries of objects not in `liveKeys` (objectKey of every object in the caches). */
  prune(liveKeys: ReadonlySet<string>): void {
    for (const key of this.entries.keys()) if (!liveKeys.has(key)) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * The encoded object of each partition of the last reconciles, by the partition's digest (which
 * covers its files' names and contents) and the limits it was encoded under: one change encodes one
 * partition, not every one (at 10,000 services encoding all 120 again, from deflated members, was
 * a fifth of a change's CPU). Encoding is a pure function of the files and limits, so a reused
 * result is the one encoding would give. Entries the previous reconcile did not use are dropped.
 */
export class PartitionEncodings {
  private readonly entries = new Map<string, { limits: string; encoded: EncodedFiles; usedIn: number }>();
  private reconcile = 0;
  /** Partitions encoded (not served from the cache), for tests and the benchmark. */
  misses = 0;

  /** Called once per reconcile: drops entries the previous reconcile did not use. */
  nextReconcile(): void {
    this.reconcile++;
    for (const [key, entry] of this.entries) if (entry.usedIn < this.reconcile - 1) this.entries.delete(key);
  }

  encode(partition: ConfigPartition, limits: EncodeLimits | undefined, encode: (files: FileSet) => EncodedFiles): EncodedFiles {
    const limitsKey = JSON.stringify(limits ?? {});
    const cached = this.entries.get(partition.digest);
    if (cached?.limits === limitsKey) {
      cached.usedIn = this.reconcile;
      return cached.encoded;
    }
    this.misses++;
    const encoded = encode(partition.files);
    this.entries.set(partition.digest, { limits: limitsKey, encoded, usedIn: this.reconcile });
    return encoded;
  }

  get size(): number {
    return this.entries.size;
  }
}

interface MemberEntry {
  parts: string[];
  /** The tail it was deflated after (its dictionary). */
  after: Buffer;
  result: DeflatedMember;
  usedIn: number;
}

/**
 * The deflated bytes of each bundle member (assemble/config-bundle.ts bundleMembers) of the last
 * reconciles, so that after one change only the members whose text, or the 32 KB before them,
 * changed are deflated again (issue #13: the whole 36 MB of 10,000 services took ~0.5 s). An entry
 * is reused only when every part of the member and its dictionary are equal to the cached ones, so
 * the bytes are those compressMember gives: the cache makes encoding faster, never different.
 * Entries the previous reconcile did not use are dropped.
 */
export class MemberCache {
  private readonly entries = new Map<string, MemberEntry>();
  private reconcile = 0;
  /** Members deflated (not served from the cache), for tests and the benchmark. */
  misses = 0;

  constructor(private readonly deflate: MemberCompressor = compressMember) {}

  /** Called once per reconcile: drops entries the previous reconcile did not use. */
  nextReconcile(): void {
    this.reconcile++;
    for (const [key, entry] of this.entries) if (entry.usedIn < this.reconcile - 1) this.entries.delete(key);
  }

  readonly compress: MemberCompressor = (member: BundleMember, tail: Buffer) => {
    // Cuts are content-defined (a member starts with its file name or list item), so the start
    // identifies a member across reconciles; the parts and the dictionary decide whether it is the same.
    const key = copyOf(`${member.parts[0]}\u0000${(member.parts[1] ?? '').slice(0, 200)}`);
    const cached = this.entries.get(key);
    if (cached?.after.equals(tail) && sameParts(cached.parts, member.parts)) {
      cached.usedIn = this.reconcile;
      return cached.result;
    }
    this.misses++;
    const result = this.deflate(member, tail);
    // A slice of a big file keeps the whole file alive in V8: keep copies of such parts instead.
    const parts = member.fromSplit ? member.parts.map(copyOf) : member.parts;
    this.entries.set(key, { parts, after: tail, result, usedIn: this.reconcile });
    return result;
  };

  get size(): number {
    return this.entries.size;
  }
}

/**
 * Whether two piece lists (in the same order) are the same services with the same route and
 * receiver: then assembleConfig without its Prometheus part gives the same result (alertmanager.yml
 * from the route/receiver digests and the settings, `included` from the refs).
 */
function sameRoutes(a: readonly ServicePieces[], b: readonly ServicePieces[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (x.ref.namespace !== y.ref.namespace || x.ref.name !== y.ref.name || x.digests.routeAndReceiver !== y.digests.routeAndReceiver) return false;
  }
  return true;
}

/** A flat copy of a string (a slice would keep its whole parent string alive in V8). */
function copyOf(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

function sameParts(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
