// `make bench-scale`: the operator's reconcile computation at 1,000 / 5,000 / 10,000
// MonitoredServices (one endpoint and one custom rule each), without I/O, through the same code
// the controller runs (planReconcile + ServiceCache):
//   full       a start: every object validated, rendered, the whole config assembled and encoded
//              (gzip bundle) for the ConfigMap and the Secret;
//   one change one object's generation moves (new rule): it alone is validated and rendered, the
//              config assembled and encoded again (the write to the API server is not included:
//              bench/load.ts measures the real thing). BENCH_SCALE_CHANGES (default 50) changes
//              one after the other, each to another object: p50 and p95 of them.
// The full step is run BENCH_SCALE_REPEAT times (default 1) in fresh caches (median), the changes
// after the first; the table gives wall time and CPU time, the config size and the process's
// peak RSS (VmHWM; sizes run in increasing order, so the last row is the peak of the largest).
// Writes docs/benchmarks/scale.json for bench/plot.ts. Profile with:
//   node --cpu-prof --import tsx bench/render-scale.ts
//
//   BENCH_SCALE_SIZES=1000,5000,10000 (default)
//   BENCH_SCALE_PROFILE=<dir>         also write V8 CPU profiles of the first full step and of the one-change steps there
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { planReconcile, type RawMonitoredService, type ReconcilePlan } from '../operator/controller/plan.js';
import { ServiceCache } from '../operator/assemble/service-cache.js';
import { UnchangedStatuses } from '../operator/controller/status-memo.js';
import { ReconcileMemo } from '../operator/controller/plan-memo.js';
import { defaultSettings } from '../operator/render/index.js';
import { formatIssue } from '../operator/validate/index.js';
import { objectsOf, withNewGeneration } from './scale-objects.js';
import { cpuProfiled } from './profile-top.js';
import { percentile } from './stats.js';
import { withStatuses } from '../test/operator/informer-statuses.js';

const sizes = (process.env.BENCH_SCALE_SIZES ?? '1000,5000,10000').split(',').map(Number);
const repeat = Number(process.env.BENCH_SCALE_REPEAT ?? '1');
const changes = Number(process.env.BENCH_SCALE_CHANGES ?? '50');
const OUT = 'docs/benchmarks/scale.json';

/** Wall and CPU milliseconds of fn. */
function timed<T>(fn: () => T): { value: T; wallMs: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const value = fn();
  const wallMs = performance.now() - t;
  const used = process.cpuUsage(cpu);
  return { value, wallMs, cpuMs: (used.user + used.system) / 1000 };
}

// A full GC before reading the live heap: what the caches hold, apart from garbage V8 has not
// collected yet (the peak RSS includes that garbage: V8 grows the heap rather than collect often).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const settings = defaultSettings({ defaultRecipients: ['ops@example.com'] });

/** One reconcile as the controller runs it: through its caches (ServiceCache) and its status memo. */
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

export interface ScaleRow {
  services: number;
  fullWallMs: number;
  fullCpuMs: number;
  /** p50 and p95 over the changes. */
  oneChangeWallMs: number;
  oneChangeCpuMs: number;
  oneChangeWallP95Ms: number;
  oneChangeCpuP95Ms: number;
  changes: number;
  /** V8 heap in use after a full GC, after the changes (caches and objects: what must stay). */
  liveHeapMiB: number;
  /** Status writes per change (p50). */
  statusWrites: number;
  /** Bundle members deflated again per change (p50), of how many. */
  membersDeflated: number;
  members: number;
  prometheusBytes: number;
  storedBytes: number;
  peakRssMiB: number;
}

const rows: ScaleRow[] = [];
for (const n of sizes) {
  const objects = objectsOf(n);
  const full: Array<{ wallMs: number; cpuMs: number }> = [];
  let cache = new ServiceCache();
  let statuses = new UnchangedStatuses();
  let memo = new ReconcileMemo();
  let first: ReconcilePlan | undefined;
  for (let r = 0; r < repeat; r++) {
    cache = new ServiceCache();
    statuses = new UnchangedStatuses();
    memo = new ReconcileMemo();
    const step = await cpuProfiled(r === 0 ? process.env.BENCH_SCALE_PROFILE : undefined, `full-${n}`, () => timed(() => plan(cache, statuses, objects, memo)));
    full.push({ wallMs: step.wallMs, cpuMs: step.cpuMs }); // numbers only: a plan holds the whole config
    first = step.value;
  }
  const one: Array<{ wallMs: number; cpuMs: number; deflated: number; statusWrites: number }> = [];
  let current = withStatuses(objects, first!);
  let last = first!;
  await cpuProfiled(process.env.BENCH_SCALE_PROFILE, `one-change-${n}`, () => {
    for (let c = 0; c < changes; c++) {
      // Spread over the set (a prime stride): each change hits another object and another member.
      current = withNewGeneration(current, (Math.floor(n / 2) + c * 7919) % n, c);
      const before = cache.members.misses;
      const step = timed(() => plan(cache, statuses, current, memo, last));
      if (!step.value.writeConfigMap || step.value.valid !== n) throw new Error('the change did not reach the config');
      one.push({ wallMs: step.wallMs, cpuMs: step.cpuMs, deflated: cache.members.misses - before, statusWrites: step.value.statusUpdates.length });
      last = step.value;
      current = withStatuses(current, last);
    }
  });
  const enc = last.encoded.prometheus;
  gc();
  const liveHeapMiB = process.memoryUsage().heapUsed / 2 ** 20;
  rows.push({
    liveHeapMiB,
    services: n,
    fullWallMs: median(full.map((x) => x.wallMs)),
    fullCpuMs: median(full.map((x) => x.cpuMs)),
    oneChangeWallMs: percentile(
      one.map((x) => x.wallMs),
      50,
    ),
    oneChangeCpuMs: percentile(
      one.map((x) => x.cpuMs),
      50,
    ),
    oneChangeWallP95Ms: percentile(
      one.map((x) => x.wallMs),
      95,
    ),
    oneChangeCpuP95Ms: percentile(
      one.map((x) => x.cpuMs),
      95,
    ),
    changes,
    membersDeflated: percentile(
      one.map((x) => x.deflated),
      50,
    ),
    statusWrites: percentile(
      one.map((x) => x.statusWrites),
      50,
    ),
    members: cache.members.size,
    prometheusBytes: Object.values(last.rendered.prometheus).reduce((s, v) => s + Buffer.byteLength(v), 0),
    storedBytes: enc?.ok ? enc.bytes : -1,
    peakRssMiB: Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024,
  });
}

const fmt = (x: number) => x.toFixed(0);
console.log(`operator reconcile computation: full median of ${repeat}, one change p50/p95 of ${changes}; ${cpus().length} CPUs (${cpus()[0]?.model}), Node ${process.version}`);
console.log(
  '| services | full: CPU ms | full: wall ms | one change: CPU ms p50 / p95 | one change: wall ms p50 / p95 | members deflated per change | status writes per change | config MB | stored KB | peak RSS MiB | live heap after GC MiB |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.services} | ${fmt(r.fullCpuMs)} | ${fmt(r.fullWallMs)} | ${fmt(r.oneChangeCpuMs)} / ${fmt(r.oneChangeCpuP95Ms)} | ${fmt(r.oneChangeWallMs)} / ${fmt(r.oneChangeWallP95Ms)} | ${r.membersDeflated} of ${r.members} | ${r.statusWrites} | ${(r.prometheusBytes / 1e6).toFixed(1)} | ${(r.storedBytes / 1024).toFixed(0)} | ${fmt(r.peakRssMiB)} | ${fmt(r.liveHeapMiB)} |`,
  );
}
mkdirSync('docs/benchmarks', { recursive: true });
writeFileSync(
  OUT,
  JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version }, repeat, changes, rows }, null, 2) + '\n',
);
console.log(`wrote ${OUT}`);
