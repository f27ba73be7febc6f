// `node --max-old-space-size=8192 --import tsx bench/partitions.ts` (minutes; 100,000 services need
// several GB of heap): the operator's reconcile computation with the Prometheus config in
// partitions (`--config-partitions`), through the code the controller runs (planReconcile +
// ServiceCache), without I/O, at 1,000 / 10,000 / 100,000 MonitoredServices (20 namespaces, one
// endpoint and one rule each: test/operator/scale.ts):
//   full        a start: every object validated and rendered, the config assembled, partitioned and
//               every object encoded; asserts that every service is in a partition and every
//               object fits (nothing left out), and reports the partition count and largest object;
//   one change  one object's generation moves (new rule): its validation, rendering, the assembly
//               and the encoding of what changed. BENCH_PARTITIONS_CHANGES (default 20) changes,
//               each to another object: p50 and p95 of the operator CPU, the objects and bytes rewritten.
// Writes docs/benchmarks/partitions.json and draws docs/benchmarks/partitions-time.svg (bench/plot.ts plotPartitions).
//   BENCH_PARTITIONS_SIZES=1000,10000,100000 (default)
//   BENCH_PARTITIONS_TEAM_SIZE=10 (default)  services per recipient set (spec.notify.email.to shared by
//                                   that many services): alertmanager.yml has one route and receiver per
//                                   set; 1 gives every service owners of its own (the worst case)
//   BENCH_PARTITIONS_PROFILE=<dir>  also write V8 CPU profiles of the full step and of the changes
//                                   there (read them with bench/profile-top.ts)
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { planReconcile, type RawMonitoredService, type ReconcilePlan } from '../operator/controller/plan.js';
import { ServiceCache } from '../operator/assemble/service-cache.js';
import { UnchangedStatuses } from '../operator/controller/status-memo.js';
import { ReconcileMemo } from '../operator/controller/plan-memo.js';
import { defaultSettings } from '../operator/render/index.js';
import { formatIssue } from '../operator/validate/index.js';
import { objectsOf, withNewGeneration } from './scale-objects.js';
import { withStatuses } from '../test/operator/informer-statuses.js';
import { plotPartitions } from './plot.js';
import { cpuProfiled } from './profile-top.js';
import { percentile } from './stats.js';

const sizes = (process.env.BENCH_PARTITIONS_SIZES ?? '1000,10000,100000').split(',').map(Number);
const changes = Number(process.env.BENCH_PARTITIONS_CHANGES ?? '20');
const profileDir = process.env.BENCH_PARTITIONS_PROFILE;
const teamSize = Number(process.env.BENCH_PARTITIONS_TEAM_SIZE ?? '10');

/** `objects` with their owners shared by teams of `teamSize` consecutive services (`team-<k>@example.com`). */
function withTeams(objects: RawMonitoredService[]): RawMonitoredService[] {
  return objects.map((o, i) => ({ ...o, spec: { ...(o.spec as object), notify: { email: { to: [`team-${Math.floor(i / teamSize)}@example.com`] } } } }));
}
const OUT = 'docs/benchmarks/partitions.json';
const settings = defaultSettings({ defaultRecipients: ['ops@example.com'] });

function cpuMs<T>(fn: () => T): { value: T; ms: number } {
  const start = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(start);
  return { value, ms: (used.user + used.system) / 1000 };
}

/** One reconcile as the controller runs it, partitioned, through its caches. */
function plan(cache: ServiceCache, statuses: UnchangedStatuses, objects: RawMonitoredService[], memo: ReconcileMemo, previous?: ReconcilePlan): ReconcilePlan {
  return planReconcile({
    objects,
    settings,
    ...cache.forReconcile(settings),
    statusMemo: statuses,
    memo,
    formatIssue,
    prometheus: { configHash: previous?.rendered.prometheusHash },
    alertmanager: { configHash: previous?.rendered.alertmanagerHash },
    targetsFor: () => undefined,
    now: '2026-01-01T00:00:00Z',
  });
}

/** Stored bytes of an encoded object (what counts against the object limit). */
const storedBytes = (e: { bytes: number }) => e.bytes;

export interface PartitionsRow {
  services: number;
  fullCpuMs: number;
  partitions: number;
  /** Largest stored object (main or partition), bytes counted against the 1 MiB limit. */
  largestObjectBytes: number;
  /** Sum of the stored objects' bytes. */
  storedBytes: number;
  /** Distinct recipient sets (BENCH_PARTITIONS_TEAM_SIZE services each) and the stored bytes of the Alertmanager Secret. */
  recipientSets: number;
  alertmanagerSecretBytes: number;
  oneChangeCpuP50Ms: number;
  oneChangeCpuP95Ms: number;
  changes: number;
  /** Per change (p50): objects rewritten (the main one included) and their bytes. */
  objectsWritten: number;
  bytesWritten: number;
  /** 1-minute load average of the machine when the size was measured. */
  loadAverage: number;
}

const rows: PartitionsRow[] = [];
for (const n of sizes) {
  const objects = withTeams(objectsOf(n));
  const cache = new ServiceCache(undefined, undefined, undefined, true);
  const statuses = new UnchangedStatuses();
  const memo = new ReconcileMemo();
  const full = await cpuProfiled(profileDir, `full-${n}`, () => cpuMs(() => plan(cache, statuses, objects, memo)));
  const first = full.value;
  // Nothing left out: every service valid, in exactly one partition, and every object encoded.
  const config = first.rendered.prometheusPartitions;
  const inPartitions = config?.partitions.flatMap((p) => p.refs.map((r) => `${r.namespace}/${r.name}`)) ?? [];
  const alertmanagerSecret = first.encoded.alertmanager;
  if (
    first.valid !== n ||
    inPartitions.length !== n ||
    new Set(inPartitions).size !== n ||
    first.rendered.included.length !== n ||
    !first.encodedPartitions ||
    first.encodedPartitions.partitions.size !== config!.partitions.length ||
    !alertmanagerSecret?.ok
  ) {
    throw new Error(
      `${n} services: not every service is stored (valid ${first.valid}, in partitions ${inPartitions.length}, in alertmanager.yml ${first.rendered.included.length}, encoded ${first.encodedPartitions?.partitions.size ?? 0}, Alertmanager Secret ${alertmanagerSecret?.ok ? 'fits' : 'too large'})`,
    );
  }
  const encoded = [first.encodedPartitions.main, ...first.encodedPartitions.partitions.values()];
  const perChange: { ms: number; objects: number; bytes: number }[] = [];
  let current = withStatuses(objects, first);
  let last = first;
  await cpuProfiled(profileDir, `one-change-${n}`, () => {
    for (let c = 0; c < changes; c++) {
      current = withNewGeneration(current, (Math.floor(n / 2) + c * 7919) % n, c);
      const before = new Map(last.rendered.prometheusPartitions!.partitions.map((p) => [p.id, p.digest]));
      const step = cpuMs(() => plan(cache, statuses, current, memo, last));
      const p = step.value;
      if (!p.writeConfigMap || p.valid !== n || !p.encodedPartitions) throw new Error('the change did not reach the config');
      // What the controller writes (partitionWrites): partitions whose hash moved, and the main object.
      const written = p.rendered.prometheusPartitions!.partitions.filter((q) => before.get(q.id) !== q.digest);
      perChange.push({
        ms: step.ms,
        objects: written.length + 1,
        bytes: storedBytes(p.encodedPartitions.main) + written.reduce((s, q) => s + storedBytes(p.encodedPartitions!.partitions.get(q.digest)!), 0),
      });
      last = p;
      current = withStatuses(current, last);
    }
  });
  rows.push({
    services: n,
    fullCpuMs: full.ms,
    partitions: config!.partitions.length,
    largestObjectBytes: Math.max(...encoded.map(storedBytes)),
    storedBytes: encoded.reduce((s, e) => s + storedBytes(e), 0),
    recipientSets: Math.ceil(n / teamSize),
    alertmanagerSecretBytes: storedBytes(alertmanagerSecret),
    oneChangeCpuP50Ms: percentile(
      perChange.map((x) => x.ms),
      50,
    ),
    oneChangeCpuP95Ms: percentile(
      perChange.map((x) => x.ms),
      95,
    ),
    changes,
    objectsWritten: percentile(
      perChange.map((x) => x.objects),
      50,
    ),
    bytesWritten: percentile(
      perChange.map((x) => x.bytes),
      50,
    ),
    loadAverage: loadavg()[0]!,
  });
  const r = rows.at(-1)!;
  console.log(
    `${n} services: full ${(r.fullCpuMs / 1000).toFixed(1)} s CPU, ${r.partitions} partitions, largest object ${(r.largestObjectBytes / 1024).toFixed(0)} KiB, Alertmanager Secret ${(r.alertmanagerSecretBytes / 1024).toFixed(0)} KiB (${r.recipientSets} recipient sets); ` +
      `one change ${r.oneChangeCpuP50Ms.toFixed(1)} / ${r.oneChangeCpuP95Ms.toFixed(1)} ms CPU p50 / p95, ${r.objectsWritten} objects, ${(r.bytesWritten / 1024).toFixed(0)} KiB written (load ${r.loadAverage.toFixed(1)})`,
  );
}

console.log(`\noperator reconcile computation, partitioned: one change p50/p95 of ${changes}; ${cpus().length} CPUs (${cpus()[0]?.model}), Node ${process.version}`);
console.log(
  '| services | recipient sets | full: CPU s | partitions | largest object KiB | stored KiB | Alertmanager Secret KiB | one change: CPU ms p50 / p95 | objects written per change | KiB written per change | load average |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.services} | ${r.recipientSets} | ${(r.fullCpuMs / 1000).toFixed(1)} | ${r.partitions} | ${(r.largestObjectBytes / 1024).toFixed(0)} | ${(r.storedBytes / 1024).toFixed(0)} | ${(r.alertmanagerSecretBytes / 1024).toFixed(0)} | ${r.oneChangeCpuP50Ms.toFixed(1)} / ${r.oneChangeCpuP95Ms.toFixed(1)} | ${r.objectsWritten} | ${(r.bytesWritten / 1024).toFixed(0)} | ${r.loadAverage.toFixed(1)} |`,
  );
}
mkdirSync('docs/benchmarks', { recursive: true });
writeFileSync(OUT, JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, changes, teamSize, rows }, null, 2) + '\n');
console.log(`wrote ${OUT}`);
await plotPartitions();
