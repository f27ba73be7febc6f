// `node --import tsx bench/partitions.ts` (about a minute): one change at N MonitoredServices (default 10,000; 20 namespaces, one
// endpoint and one rule each: test/operator/scale.ts), the one-object Prometheus config against the
// partitioned one (assemble/partitioned-config.ts), from rendered pieces (validation and the
// service's own rendering are the same in both and left out):
//   whole        assembleConfig + encodeFileSet of the whole file set with the operator's member
//                cache: the CPU of one change and the bytes of the one object rewritten;
//   partitioned  assemblePartitionedPrometheus with the previous result + encodeFileSet of the
//                changed partitions and the main object, with a member cache as well: the CPU and
//                the bytes of the objects rewritten.
// Also alertmanager.yml's size at N/10 and N with the same recipient sets (does it grow with services?).
// BENCH_PARTITIONS_SERVICES=10000, BENCH_PARTITIONS_CHANGES=20.
import { performance } from 'node:perf_hooks';
import { MonitoredServiceSchema, type MonitoredService } from '../operator/api/schema.js';
import { assembleConfig } from '../operator/assemble/config.js';
import { encodeFileSet } from '../operator/assemble/config-bundle.js';
import { assemblePartitionedPrometheus, type PartitionedPrometheusConfig } from '../operator/assemble/partitioned-config.js';
import { MemberCache } from '../operator/assemble/service-cache.js';
import { defaultSettings, renderServicePieces, type ServicePieces } from '../operator/render/index.js';
import { ALERTMANAGER_CONFIG_FILE } from '../operator/render/names.js';
import { scaleSet } from '../test/operator/scale.js';
import { percentile } from './stats.js';

const count = Number(process.env.BENCH_PARTITIONS_SERVICES ?? '10000');
const changes = Number(process.env.BENCH_PARTITIONS_CHANGES ?? '20');
const settings = defaultSettings({ defaultRecipients: ['oncall@example.com'] });

function cpuMs<T>(fn: () => T): { value: T; ms: number } {
  const start = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(start);
  return { value, ms: (used.user + used.system) / 1000 };
}

const services: MonitoredService[] = scaleSet(count).objects.map((o) => MonitoredServiceSchema.parse(o));
const started = performance.now();
const pieces: ServicePieces[] = services.map((s) => renderServicePieces(s, settings));
process.stdout.write(`rendered ${count} services' pieces in ${Math.round(performance.now() - started)} ms\n`);

/** The pieces after service `index` got a changed rule (change number c); changes accumulate. */
function changed(index: number, c: number): ServicePieces[] {
  const s = services[index]!;
  const edited = { ...s, spec: { ...s.spec, rules: [{ ...s.spec.rules[0]!, name: 'Changed', expr: `rate(http_requests_total[5m]) > ${c + 2}` }] } } as MonitoredService;
  pieces[index] = renderServicePieces(edited, settings);
  return pieces.slice();
}

// Whole: as the operator does today, with its member cache warm.
const members = new MemberCache();
members.nextReconcile();
let whole = assembleConfig(pieces, settings);
encodeFileSet(whole.prometheus, {}, members.compress);
const wholeCpu: number[] = [];
const wholeBytes: number[] = [];
// Partitioned: objects whose partition digest changed, plus the main object, are re-encoded and written.
let partitioned: PartitionedPrometheusConfig = assemblePartitionedPrometheus(pieces, settings);
// The same member cache as the operator's, for the partitions (a partition's bundle is deflated per member too).
const partitionMembers = new MemberCache();
partitionMembers.nextReconcile();
for (const p of partitioned.partitions) encodeFileSet(p.files, {}, partitionMembers.compress);
const partitionCpu: number[] = [];
const partitionBytes: number[] = [];
const objectsWritten: number[] = [];
for (let c = 0; c < changes; c++) {
  const next = changed((c * 7919) % count, c);
  const w = cpuMs(() => {
    members.nextReconcile();
    whole = assembleConfig(next, settings, whole);
    return encodeFileSet(whole.prometheus, {}, members.compress);
  });
  wholeCpu.push(w.ms);
  wholeBytes.push(w.value.ok ? w.value.bytes : (w.value.compressedBytes ?? w.value.plainBytes));
  if (c === 0 && !w.value.ok) process.stdout.write(`the whole config does not fit one object: ${w.value.message}\n`);
  const p = cpuMs(() => {
    const previous = partitioned;
    const config = assemblePartitionedPrometheus(next, settings, previous);
    const before = new Map(previous.partitions.map((q) => [q.id, q.digest]));
    partitionMembers.nextReconcile();
    const encoded = [config.main, ...config.partitions.filter((q) => before.get(q.id) !== q.digest).map((q) => q.files)].map((files) => encodeFileSet(files, {}, partitionMembers.compress));
    if (process.env.BENCH_PARTITIONS_DEBUG) {
      const touched = config.partitions.filter((q) => before.get(q.id) !== q.digest);
      process.stdout.write(`change ${c}: ${touched.map((q) => `${q.id} ${q.refs[0]!.namespace}/${q.refs[0]!.name}..${q.refs.at(-1)!.name} ${before.has(q.id) ? 'changed' : 'new'}`).join('; ')}\n`);
    }
    partitioned = config;
    return encoded;
  });
  partitionCpu.push(p.ms);
  partitionBytes.push(p.value.reduce((n, e) => n + (e.ok ? e.bytes : Number.NaN), 0));
  objectsWritten.push(p.value.length);
}
const fmt = (xs: number[]) => `p50 ${percentile(xs, 50).toFixed(1)}, p95 ${percentile(xs, 95).toFixed(1)}`;
process.stdout.write(
  [
    `services ${count}, partitions ${partitioned.partitions.length} (sizes ${Math.min(...partitioned.partitions.map((p) => p.refs.length))}-${Math.max(...partitioned.partitions.map((p) => p.refs.length))} services)`,
    `one change, whole config:       CPU ms ${fmt(wholeCpu)}; bytes rewritten ${fmt(wholeBytes)} (1 object)`,
    `one change, partitioned config: CPU ms ${fmt(partitionCpu)}; bytes rewritten ${fmt(partitionBytes)} (${fmt(objectsWritten)} objects, the main one included)`,
  ].join('\n') + '\n',
);
// Alertmanager: the same recipient sets at a tenth of the services and at all of them.
const tenth = assembleConfig(pieces.slice(0, Math.floor(count / 10)), settings);
process.stdout.write(
  `alertmanager.yml: ${Buffer.byteLength(tenth.alertmanager[ALERTMANAGER_CONFIG_FILE]!)} bytes at ${Math.floor(count / 10)} services, ${Buffer.byteLength(whole.alertmanager[ALERTMANAGER_CONFIG_FILE]!)} at ${count} (same recipient sets)\n`,
);
