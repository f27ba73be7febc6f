// `make bench-scale`: the operator's reconcile computation at 1,000 / 5,000 / 10,000
// MonitoredServices (one endpoint and one custom rule each), without I/O, through the same code
// the controller runs (planReconcile + ServiceCache):
//   full       a start: every object validated, rendered, the whole config assembled and encoded
//              (gzip bundle) for the ConfigMap and the Secret;
//   one change one object's generation moves (new rule): it alone is validated and rendered, the
//              config assembled and encoded again (the write to the API server is not included:
//              bench/load.ts measures the real thing).
// Each step is run BENCH_SCALE_REPEAT times (default 3) in fresh caches; the table gives the
// median wall time and CPU time, the config size and the process's peak RSS. Writes
// docs/benchmarks/scale.json for bench/plot.ts. Profile with:
//   node --cpu-prof --import tsx bench/render-scale.ts
//
//   BENCH_SCALE_SIZES=1000,5000,10000 (default)
//   BENCH_SCALE_PROFILE=<dir>         also write a V8 CPU profile of each one-change step there
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { planReconcile, type RawMonitoredService, type ReconcilePlan } from '../operator/controller/plan.js';
import { ServiceCache } from '../operator/controller/service-cache.js';
import { defaultSettings } from '../operator/render/index.js';
import { formatIssue } from '../operator/validate/index.js';
import { scaleSet } from '../test/operator/scale.js';

const sizes = (process.env.BENCH_SCALE_SIZES ?? '1000,5000,10000').split(',').map(Number);
const repeat = Number(process.env.BENCH_SCALE_REPEAT ?? '3');
const OUT = 'docs/benchmarks/scale.json';

function objectsOf(count: number): RawMonitoredService[] {
  return scaleSet(count).objects.map((o, i) => {
    const raw = o as RawMonitoredService;
    return { ...raw, metadata: { ...raw.metadata, uid: `uid-${i}`, generation: 1, resourceVersion: String(i + 1) } };
  });
}

function withNewGeneration(objects: RawMonitoredService[], index: number): RawMonitoredService[] {
  const changed = objects.slice();
  const o = changed[index]!;
  changed[index] = {
    ...o,
    metadata: { ...o.metadata, generation: 2 },
    spec: { ...(o.spec as object), rules: [{ name: 'Changed', expr: 'rate(http_requests_total[1m]) > 2', for: '2m' }] },
  };
  return changed;
}

/** Wall and CPU milliseconds of fn. */
function timed<T>(fn: () => T): { value: T; wallMs: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const value = fn();
  const wallMs = performance.now() - t;
  const used = process.cpuUsage(cpu);
  return { value, wallMs, cpuMs: (used.user + used.system) / 1000 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const settings = defaultSettings({ defaultRecipients: ['ops@example.com'] });

function plan(cache: ServiceCache, objects: RawMonitoredService[], previous?: ReconcilePlan): ReconcilePlan {
  return planReconcile({
    objects,
    settings,
    ...cache.forReconcile(settings),
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
  oneChangeWallMs: number;
  oneChangeCpuMs: number;
  prometheusBytes: number;
  storedBytes: number;
  peakRssMiB: number;
}

const rows: ScaleRow[] = [];
for (const n of sizes) {
  const objects = objectsOf(n);
  const changed = withNewGeneration(objects, Math.floor(n / 2));
  const full: Array<{ wallMs: number; cpuMs: number }> = [];
  const one: Array<{ wallMs: number; cpuMs: number }> = [];
  let last: ReconcilePlan | undefined;
  for (let r = 0; r < repeat; r++) {
    const cache = new ServiceCache();
    const first = timed(() => plan(cache, objects));
    full.push(first);
    const session = process.env.BENCH_SCALE_PROFILE && r === 0 ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const second = timed(() => plan(cache, changed, first.value));
    if (session) {
      const { profile } = await session.post('Profiler.stop');
      mkdirSync(process.env.BENCH_SCALE_PROFILE!, { recursive: true });
      writeFileSync(join(process.env.BENCH_SCALE_PROFILE!, `one-change-${n}.cpuprofile`), JSON.stringify(profile));
      session.disconnect();
    }
    if (!second.value.writeConfigMap || second.value.valid !== n) throw new Error('the change did not reach the config');
    one.push(second);
    last = second.value;
  }
  const enc = last!.encoded.prometheus;
  rows.push({
    services: n,
    fullWallMs: median(full.map((x) => x.wallMs)),
    fullCpuMs: median(full.map((x) => x.cpuMs)),
    oneChangeWallMs: median(one.map((x) => x.wallMs)),
    oneChangeCpuMs: median(one.map((x) => x.cpuMs)),
    prometheusBytes: Object.values(last!.rendered.prometheus).reduce((s, v) => s + Buffer.byteLength(v), 0),
    storedBytes: enc?.ok ? enc.bytes : -1,
    peakRssMiB: Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024,
  });
}

const fmt = (x: number) => x.toFixed(0);
console.log(`operator reconcile computation, median of ${repeat}; ${cpus().length} CPUs (${cpus()[0]?.model}), Node ${process.version}`);
console.log('| services | full: wall ms | full: CPU ms | one change: wall ms | one change: CPU ms | config MB | stored KB | peak RSS MiB |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.services} | ${fmt(r.fullWallMs)} | ${fmt(r.fullCpuMs)} | ${fmt(r.oneChangeWallMs)} | ${fmt(r.oneChangeCpuMs)} | ${(r.prometheusBytes / 1e6).toFixed(1)} | ${(r.storedBytes / 1024).toFixed(0)} | ${fmt(r.peakRssMiB)} |`,
  );
}
mkdirSync('docs/benchmarks', { recursive: true });
writeFileSync(OUT, JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version }, repeat, rows }, null, 2) + '\n');
console.log(`wrote ${OUT}`);
