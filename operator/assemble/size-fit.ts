// Fitting the generated config into the objects that store it, and joining the two servers' parts
// when isolation chose different versions for each (issue 22). Pure: the controller's plan
// (controller/plan.ts planReconcile) calls these with its render and encode.
import type { MonitoredService } from '../api/schema.js';
import type { RawMonitoredService } from '../api/raw.js';
import { compareRefs, ruleFileName } from '../render/names.js';
import type { ObjectRef, RenderedConfig } from '../render/types.js';
import { MAX_BUNDLE_PLAIN_BYTES, MAX_OBJECT_DATA_BYTES, type EncodeLimits, type EncodedFiles, type FileSet } from './config-bundle.js';
import type { ConfigPartition, PartitionedPrometheusConfig } from './partitioned-config.js';

function refOf(raw: RawMonitoredService): ObjectRef {
  return { namespace: raw.metadata?.namespace ?? '', name: raw.metadata?.name ?? '' };
}

/** Code-unit order (render/names.ts compareRefs). */
const byRef = compareRefs;

/** How each object to write stores its files (controller/plan.ts ReconcilePlan.encoded). */
export type EncodedObjects = { prometheus?: EncodedFiles; alertmanager?: EncodedFiles };

type Stored = Extract<EncodedFiles, { ok: true }>;

/** Renders and encodes a set of services (the controller's one pass: controller/plan.ts planReconcile). */
export type RenderAndEncode = (services: MonitoredService[]) => {
  rendered: RenderedConfig;
  writeConfigMap: boolean;
  writeSecret: boolean;
  encoded: EncodedObjects;
  encodedPartitions?: { main: Stored; partitions: ReadonlyMap<string, Stored> };
};

/**
 * The objects of a partitioned Prometheus config encoded with `encode`: the main object's files, each
 * partition's by its digest (during a shard handover two shards may hold different partitions under
 * one id; one digest is one set of files, so one encoding), and `problem`, the first that does not fit one object (main first, then by id).
 * `encodePartition` encodes a partition's files (the controller's reuses unchanged ones: ServiceCache).
 */
export function encodePartitions(
  config: PartitionedPrometheusConfig,
  encode: (files: FileSet) => EncodedFiles,
  encodePartition: (partition: ConfigPartition) => EncodedFiles = (p) => encode(p.files),
): { main: EncodedFiles; partitions: Map<string, Stored>; problem?: Extract<EncodedFiles, { ok: false }> } {
  const main = encode(config.main);
  if (!main.ok) return { main, partitions: new Map(), problem: main };
  const partitions = new Map<string, Stored>();
  for (const p of config.partitions) {
    const e = encodePartition(p);
    if (!e.ok) return { main, partitions, problem: { ...e, message: `${e.message} (partition ${p.id}, ${p.refs.map((r) => `${r.namespace}/${r.name}`).join(', ')})` } };
    partitions.set(p.digest, e);
  }
  return { main, partitions };
}

/**
 * The services of a partitioned config that do not fit in an object even alone (a partition holds
 * one service when that service is over the partition budget: assemble/partitions.ts), with the
 * ConfigApplied message for each (ConfigTooLarge). Every other service fits in some partition, so
 * only these are left out (unlike leaveOutUntilFits, which serves a config stored in one object).
 */
export function tooLargeAlone(config: PartitionedPrometheusConfig, encode: (files: FileSet) => EncodedFiles): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of config.partitions) {
    if (p.refs.length !== 1) continue;
    const e = encode(p.files);
    if (e.ok) continue;
    const ref = p.refs[0]!;
    out.set(
      `${ref.namespace}/${ref.name}`,
      `left out of the generated config: this service's rule file and scrape jobs alone do not fit in one Kubernetes object (${e.message}); ` +
        'every other service runs. Make the rules smaller (fewer or shorter rules, annotations)',
    );
  }
  return out;
}

/** A service's own share of the uncompressed config: its rule file, plus its spec as a stand-in for its jobs, route and receiver. */
function ownBytes(service: MonitoredService, rendered: RenderedConfig): number {
  return Buffer.byteLength(rendered.prometheus[ruleFileName(service.metadata)] ?? '') + Buffer.byteLength(JSON.stringify(service.spec));
}

/** How many uncompressed bytes to remove so that a config of this encoding fits, assuming the rest compresses alike; 2% margin. */
function bytesToRemove(e: EncodedFiles | undefined, limits: EncodeLimits | undefined): number {
  if (!e || e.ok) return 0;
  const maxObject = limits?.maxObjectBytes ?? MAX_OBJECT_DATA_BYTES;
  const maxPlain = limits?.maxBundlePlainBytes ?? MAX_BUNDLE_PLAIN_BYTES;
  if (e.compressedBytes === undefined) return Math.ceil((e.plainBytes - maxPlain) * 1.02);
  return Math.ceil(e.plainBytes * (1 - maxObject / e.compressedBytes) * 1.02);
}

/**
 * The config of every valid service does not fit in one object even compressed. Instead of holding
 * back every change (issue #15: 8 services of 50 incompressible rules blocked 14 teams), leave
 * services out until it fits: first those not running yet (ConfigApplied not True at their
 * generation: the newest arrivals), largest first, then running ones, largest first, so that what
 * runs keeps running. Each left-out service gets ConfigApplied=False (ConfigTooLarge) naming itself
 * and the others left out. Undefined when even leaving out every service does not help.
 */
export function leaveOutUntilFits(
  services: MonitoredService[],
  results: { raw: RawMonitoredService }[],
  rendered: RenderedConfig,
  encoded: EncodedObjects,
  limits: EncodeLimits | undefined,
  renderAndEncode: RenderAndEncode,
): { result: ReturnType<RenderAndEncode>; messages: Map<string, string> } | undefined {
  const key = (r: ObjectRef) => `${r.namespace}/${r.name}`;
  const running = new Set(
    results
      .filter(({ raw }) => raw.status?.conditions?.some((c) => c.type === 'ConfigApplied' && c.status === 'True' && c.observedGeneration === raw.metadata?.generation))
      .map(({ raw }) => key(refOf(raw))),
  );
  const sizes = new Map(services.map((s) => [key(s.metadata), ownBytes(s, rendered)]));
  const order = [...services].sort(
    (a, b) => Number(running.has(key(a.metadata))) - Number(running.has(key(b.metadata))) || sizes.get(key(b.metadata))! - sizes.get(key(a.metadata))! || byRef(a.metadata, b.metadata),
  );
  const problem = [encoded.prometheus, encoded.alertmanager].find((e) => e?.ok === false) as Extract<EncodedFiles, { ok: false }>;
  const leftOut: MonitoredService[] = [];
  let kept = services;
  let attempt: ReturnType<RenderAndEncode> | undefined;
  let need = Math.max(bytesToRemove(encoded.prometheus, limits), bytesToRemove(encoded.alertmanager, limits), 1);
  while (order.length > 0) {
    let removed = 0;
    while (order.length > 0 && removed < need) {
      const s = order.shift()!;
      leftOut.push(s);
      removed += sizes.get(key(s.metadata))!;
    }
    const out = new Set(leftOut.map((s) => key(s.metadata)));
    kept = services.filter((s) => !out.has(key(s.metadata)));
    attempt = renderAndEncode(kept);
    if (attempt.encoded.prometheus?.ok !== false && attempt.encoded.alertmanager?.ok !== false) break;
    need = Math.max(bytesToRemove(attempt.encoded.prometheus, limits), bytesToRemove(attempt.encoded.alertmanager, limits), 1);
    attempt = undefined;
  }
  if (!attempt) return undefined;
  const names = leftOut.map((s) => key(s.metadata));
  const list = names.length <= 10 ? names.join(', ') : `${names.slice(0, 10).join(', ')} and ${names.length - 10} more`;
  const messages = new Map<string, string>();
  for (const s of leftOut) {
    messages.set(
      key(s.metadata),
      `left out of the generated config: with every service it does not fit in one Kubernetes object (${problem.message}); ` +
        `this service's part is about ${sizes.get(key(s.metadata))} bytes uncompressed. Left out, ${running.has(key(s.metadata)) ? 'running' : 'newest'} and largest first: ${list} ` +
        `(${names.length} of ${services.length}); the other ${kept.length} services run. Make the rules smaller (fewer or shorter rules, annotations) or ask the operator's admin to split the config`,
    );
  }
  return { result: attempt, messages };
}

/** Which server's part of a render is used: both, or only one (renderIsolated with different versions per server). */
export type RenderTarget = 'both' | 'prometheus' | 'alertmanager';

/**
 * The config of `services`, each server's part from the versions `isolate` chooses for it (one
 * render when both choose the same). `included`: the services in either part. `render` is told
 * which server's part of each render is used, so that only that part is taken as rendered.
 */
export function renderIsolated(
  services: MonitoredService[],
  render: (services: MonitoredService[], target: RenderTarget) => RenderedConfig,
  isolate: ((valid: MonitoredService[]) => { prometheus: MonitoredService[]; alertmanager: MonitoredService[] }) | undefined,
): RenderedConfig {
  if (!isolate) return render(services, 'both');
  const chosen = isolate(services);
  const same = chosen.prometheus.length === chosen.alertmanager.length && chosen.prometheus.every((s, i) => s === chosen.alertmanager[i]);
  if (same) return render(chosen.prometheus, 'both');
  const forPrometheus = render(chosen.prometheus, 'prometheus');
  const forAlertmanager = render(chosen.alertmanager, 'alertmanager');
  const included = new Map([...forPrometheus.included, ...forAlertmanager.included].map((r) => [`${r.namespace}/${r.name}`, r]));
  return {
    prometheus: forPrometheus.prometheus,
    prometheusHash: forPrometheus.prometheusHash,
    alertmanager: forAlertmanager.alertmanager,
    alertmanagerHash: forAlertmanager.alertmanagerHash,
    digests: { prometheus: forPrometheus.digests.prometheus, alertmanager: forAlertmanager.digests.alertmanager },
    included: [...included.values()].sort(byRef),
    ...(forPrometheus.prometheusPartitions ? { prometheusPartitions: forPrometheus.prometheusPartitions } : {}),
  };
}
