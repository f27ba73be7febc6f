// Plots of the benchmark results (docs/benchmarks/*.json) as SVG next to them, drawn with
// Vega-Lite (compiled to Vega, rendered headless to SVG: no browser, no canvas).
// `tsx bench/plot.ts` redraws them all from their JSON; `make bench-scale` runs it, bench/real-node.ts calls plotRealNode.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

const DIR = 'docs/benchmarks';

/** Renders a Vega-Lite spec to an SVG file. */
export async function writeSvg(spec: TopLevelSpec, file: string): Promise<void> {
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  writeFileSync(file, await view.toSVG());
  view.finalize();
  console.log(`wrote ${file}`);
}

interface ScaleRow {
  services: number;
  fullWallMs: number;
  fullCpuMs: number;
  oneChangeWallMs: number;
  oneChangeCpuMs: number;
  /** Absent in results written before p95 was measured. */
  oneChangeCpuP95Ms?: number;
  peakRssMiB: number;
  liveHeapMiB?: number;
}

/** docs/benchmarks/scale.json → scale-time.svg (full and one-change reconcile, CPU and wall, targets as rules). */
export async function plotScale(): Promise<void> {
  const file = join(DIR, 'scale.json');
  if (!existsSync(file)) return;
  const { rows } = JSON.parse(readFileSync(file, 'utf8')) as { rows: ScaleRow[] };
  const values = rows.flatMap((r) => [
    { services: r.services, step: 'full (start): CPU', ms: r.fullCpuMs },
    { services: r.services, step: 'full (start): wall', ms: r.fullWallMs },
    { services: r.services, step: 'one change: CPU p50', ms: r.oneChangeCpuMs },
    ...(r.oneChangeCpuP95Ms !== undefined ? [{ services: r.services, step: 'one change: CPU p95', ms: r.oneChangeCpuP95Ms }] : []),
    { services: r.services, step: 'one change: wall p50', ms: r.oneChangeWallMs },
  ]);
  const targets = [
    { target: 'target full < 2 s', ms: 2000 },
    { target: 'target one change < 50 ms', ms: 50 },
  ];
  await writeSvg(
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: 'Vigil operator: one reconcile, without I/O (bench/render-scale.ts)',
      width: 520,
      height: 320,
      layer: [
        {
          data: { values },
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'services', type: 'quantitative', title: 'MonitoredServices' },
            y: { field: 'ms', type: 'quantitative', title: 'milliseconds (log)', scale: { type: 'log' } },
            color: { field: 'step', type: 'nominal', title: null },
          },
        },
        {
          data: { values: targets },
          mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
          encoding: { y: { field: 'ms', type: 'quantitative' } },
        },
        {
          data: { values: targets },
          mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: 'gray' },
          encoding: { y: { field: 'ms', type: 'quantitative' }, x: { datum: rows[0]?.services ?? 0, type: 'quantitative' }, text: { field: 'target' } },
        },
      ],
    },
    join(DIR, 'scale-time.svg'),
  );
  await writeSvg(
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: 'Memory of the benchmark process: peak RSS (VmHWM) and live V8 heap after a full GC',
      width: 520,
      height: 240,
      data: {
        values: rows.flatMap((r) => [
          { services: r.services, series: 'peak RSS', MiB: r.peakRssMiB },
          ...(r.liveHeapMiB !== undefined ? [{ services: r.services, series: 'live heap after GC', MiB: r.liveHeapMiB }] : []),
        ]),
      },
      layer: [
        {
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'services', type: 'quantitative', title: 'MonitoredServices' },
            y: { field: 'MiB', type: 'quantitative', title: 'MiB' },
            color: { field: 'series', type: 'nominal', title: null },
          },
        },
        { mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { y: { datum: 256 } } },
      ],
    },
    join(DIR, 'scale-memory.svg'),
  );
}

interface PartitionsRow {
  services: number;
  fullCpuMs: number;
  oneChangeCpuP50Ms: number;
  oneChangeCpuP95Ms: number;
}

/** docs/benchmarks/partitions.json (bench/partitions.ts) → partitions-time.svg: one change and a full start, operator CPU, with the targets. */
export async function plotPartitions(): Promise<void> {
  const file = join(DIR, 'partitions.json');
  if (!existsSync(file)) return;
  const { rows } = JSON.parse(readFileSync(file, 'utf8')) as { rows: PartitionsRow[] };
  const values = rows.flatMap((r) => [
    { services: r.services, step: 'full validate + render + encode: CPU', ms: r.fullCpuMs },
    { services: r.services, step: 'one change: CPU p50', ms: r.oneChangeCpuP50Ms },
    { services: r.services, step: 'one change: CPU p95', ms: r.oneChangeCpuP95Ms },
  ]);
  const targets = [
    { target: 'target full at 10,000 ≤ 2 s', ms: 2000 },
    { target: 'target one change p95 ≤ 20 ms', ms: 20 },
  ];
  await writeSvg(
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: 'Vigil operator, partitioned Prometheus config: one reconcile without I/O (bench/partitions.ts)',
      width: 520,
      height: 320,
      layer: [
        {
          data: { values },
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'services', type: 'quantitative', title: 'MonitoredServices (log)', scale: { type: 'log' } },
            y: { field: 'ms', type: 'quantitative', title: 'milliseconds of CPU (log)', scale: { type: 'log' } },
            color: { field: 'step', type: 'nominal', title: null },
          },
        },
        {
          data: { values: targets },
          mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
          encoding: { y: { field: 'ms', type: 'quantitative' } },
        },
        {
          data: { values: targets },
          mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: 'gray' },
          encoding: { y: { field: 'ms', type: 'quantitative' }, x: { datum: rows[0]?.services ?? 0, type: 'quantitative' }, text: { field: 'target' } },
        },
      ],
    },
    join(DIR, 'partitions-time.svg'),
  );
}

interface RealNodeResult {
  settings: { kubeletSyncFrequency: string; scrapeInterval: string };
  applyToTargetUp: { runs: { sidecarS: number; volumeS: number }[] };
  outages?: { runs: { firingS: number; resolvedS: number }[] };
}

/** docs/benchmarks/real-node.json (bench/real-node.ts) → real-node.svg: every run as a tick, the median as a bar. */
export async function plotRealNode(): Promise<void> {
  const file = join(DIR, 'real-node.json');
  if (!existsSync(file)) return;
  const r = JSON.parse(readFileSync(file, 'utf8')) as RealNodeResult;
  const applies = r.applyToTargetUp.runs;
  const outages = r.outages?.runs ?? [];
  const values = [
    ...applies.map((a) => ({ series: 'apply → target up: Vigil sync sidecar', s: a.sidecarS })),
    ...applies.map((a) => ({ series: `apply → target up: ConfigMap volume (kubelet ${r.settings.kubeletSyncFrequency})`, s: a.volumeS })),
    ...outages.map((o) => ({ series: 'delete pod → FIRING email', s: o.firingS })),
    ...outages.map((o) => ({ series: 'recreate pod → RESOLVED email', s: o.resolvedS })),
  ];
  await writeSvg(
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: `Real node (bench/real-node.ts, scrape interval ${r.settings.scrapeInterval}): a tick per run, the bar the median`,
      width: 480,
      height: 200,
      data: { values },
      layer: [
        {
          mark: { type: 'tick', thickness: 1, size: 14, opacity: 0.7 },
          encoding: {
            y: { field: 'series', type: 'nominal', title: null, sort: null, axis: { labelLimit: 600 } },
            x: { field: 's', type: 'quantitative', title: 'seconds' },
          },
        },
        {
          mark: { type: 'tick', color: 'black', thickness: 3, size: 22 },
          encoding: { y: { field: 'series', type: 'nominal', sort: null }, x: { aggregate: 'median', field: 's', type: 'quantitative' } },
        },
      ],
    },
    join(DIR, 'real-node.svg'),
  );
}

interface DiscoveryRow {
  name: string;
  services: number;
  applyToAllUpSeconds: number;
  start: { cpuSeconds: number };
  discovery: { cpuSeconds: number; targetSyncSeconds: number };
  steady: { cpuSeconds: number; rssMiB: number };
  churn?: { cpuSeconds: number; targetSyncSeconds: number };
  apiServerWatches: { total: number };
}

/** docs/benchmarks/discovery-layout.json (bench/discovery-layout.ts) → discovery-layout-cpu.svg and discovery-layout-watches.svg. */
export async function plotDiscoveryLayout(): Promise<void> {
  const file = join(DIR, 'discovery-layout.json');
  if (!existsSync(file)) return;
  const { rows } = JSON.parse(readFileSync(file, 'utf8')) as { rows: DiscoveryRow[] };
  const cpu = rows.flatMap((r) => [
    { services: r.services, layout: r.name, phase: 'start (initial lists, Pods)', seconds: r.start.cpuSeconds },
    { services: r.services, layout: r.name, phase: 'discovery (apply → all up)', seconds: r.discovery.cpuSeconds },
    { services: r.services, layout: r.name, phase: 'steady', seconds: r.steady.cpuSeconds },
    ...(r.churn ? [{ services: r.services, layout: r.name, phase: 'churn (EndpointSlice updates)', seconds: r.churn.cpuSeconds }] : []),
    { services: r.services, layout: r.name, phase: 'time in target sync, wall (discovery + churn)', seconds: r.discovery.targetSyncSeconds + (r.churn?.targetSyncSeconds ?? 0) },
  ]);
  await writeSvg(
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: 'Prometheus CPU seconds per phase (and time in target sync), by discovery layout (bench/discovery-layout.ts)',
      data: { values: cpu },
      facet: { column: { field: 'phase', type: 'nominal', title: null, sort: null } },
      spec: {
        width: 150,
        height: 220,
        mark: 'bar',
        encoding: {
          x: { field: 'services', type: 'ordinal', title: 'services' },
          xOffset: { field: 'layout' },
          y: { field: 'seconds', type: 'quantitative', title: 'seconds' },
          color: { field: 'layout', type: 'nominal' },
        },
      },
      resolve: { scale: { y: 'independent' } },
    },
    join(DIR, 'discovery-layout-cpu.svg'),
  );
  const other = rows.flatMap((r) => [
    { services: r.services, layout: r.name, figure: 'API server watches', value: r.apiServerWatches.total },
    { services: r.services, layout: r.name, figure: 'apply → all targets up (s)', value: r.applyToAllUpSeconds },
    { services: r.services, layout: r.name, figure: 'steady RSS (MiB)', value: r.steady.rssMiB },
  ]);
  await writeSvg(
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: 'Watches, time to targets up and memory, by discovery layout',
      data: { values: other },
      facet: { column: { field: 'figure', type: 'nominal', title: null, sort: null } },
      spec: {
        width: 180,
        height: 220,
        mark: 'bar',
        encoding: {
          x: { field: 'services', type: 'ordinal', title: 'services' },
          xOffset: { field: 'layout' },
          y: { field: 'value', type: 'quantitative', title: null },
          color: { field: 'layout', type: 'nominal' },
        },
      },
      resolve: { scale: { y: 'independent' } },
    },
    join(DIR, 'discovery-layout-watches.svg'),
  );
}

interface CompareResultRow {
  tool: string;
  services: number;
  writtenS: { all: number };
  operatorCpuS: { toWritten: number };
  operatorPeakRssMiB: number;
  sizes: { prometheusUncompressed: number; prometheusStored: number };
  allUpS: number;
  prometheus: { cpuToAllUpS: number; peakRssMiB: number; apiServerWatches: number };
}

/** One small-multiples chart: a panel per measure, services on a log x axis, a line per operator. */
async function writePanels(title: string, values: Array<{ tool: string; services: number; measure: string; value: number }>, file: string): Promise<void> {
  await writeSvg(
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title,
      data: { values },
      facet: { field: 'measure', type: 'nominal', title: null, sort: null },
      columns: 2,
      spec: {
        width: 260,
        height: 170,
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'services', type: 'quantitative', title: 'services (N)', scale: { type: 'log' } },
          y: { field: 'value', type: 'quantitative', title: null },
          color: { field: 'tool', type: 'nominal', title: null },
        },
      },
      resolve: { scale: { y: 'independent' } },
    },
    file,
  );
}

/** <dir>/compare.json (bench/compare.ts) → compare-operator.svg and compare-prometheus.svg. */
export async function plotCompare(dir = DIR): Promise<void> {
  const file = join(dir, 'compare.json');
  if (!existsSync(file)) return;
  const { rows } = JSON.parse(readFileSync(file, 'utf8')) as { rows: CompareResultRow[] };
  const of = (measure: string, value: (r: CompareResultRow) => number) => rows.map((r) => ({ tool: r.tool, services: r.services, measure, value: value(r) }));
  await writePanels(
    'Operators side by side: one apply of N services (bench/compare.ts)',
    [
      ...of('apply → generated config holds all N (s, wall)', (r) => r.writtenS.all),
      ...of('operator CPU until written (s)', (r) => r.operatorCpuS.toWritten),
      ...of('operator peak RSS (MiB)', (r) => r.operatorPeakRssMiB),
      ...of('Prometheus config + rules, uncompressed (KiB)', (r) => r.sizes.prometheusUncompressed / 1024),
    ],
    join(dir, 'compare-operator.svg'),
  );
  await writePanels(
    'The same Prometheus running each generated config (bench/compare.ts)',
    [
      ...of('apply → all N targets up (s, wall, no kubelet delay)', (r) => r.allUpS),
      ...of('Prometheus CPU until all up (s)', (r) => r.prometheus.cpuToAllUpS),
      ...of('Prometheus peak RSS (MiB)', (r) => r.prometheus.peakRssMiB),
      ...of('API server watches opened by the config', (r) => r.prometheus.apiServerWatches),
    ],
    join(dir, 'compare-prometheus.svg'),
  );
}

interface CompareShardsRow {
  tool: string;
  shards: number;
  perShard: Array<{ shard: number; prometheusPeakRssMiB: number; configBytes: number; ruleBytes: number; falseServiceDown: { pending: number; firing: number } }>;
}

/** <dir>/compare-shards.json (bench/compare-shards.ts) → compare-shards.svg: a bar per shard, a panel per measure. */
export async function plotCompareShards(dir = DIR): Promise<void> {
  const file = join(dir, 'compare-shards.json');
  if (!existsSync(file)) return;
  const { rows } = JSON.parse(readFileSync(file, 'utf8')) as { rows: CompareShardsRow[] };
  const values = rows.flatMap((r) =>
    r.perShard.flatMap((s) => {
      const bar = { tool: r.tool, shard: `N=${r.shards} shard ${s.shard}` };
      return [
        { ...bar, measure: 'Prometheus peak RSS (MiB)', value: s.prometheusPeakRssMiB },
        { ...bar, measure: 'config loaded (KiB)', value: s.configBytes / 1024 },
        { ...bar, measure: 'rule files loaded (KiB)', value: s.ruleBytes / 1024 },
        { ...bar, measure: 'false ServiceDown (pending + firing), all healthy', value: s.falseServiceDown.pending + s.falseServiceDown.firing },
      ];
    }),
  );
  await writeSvg(
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: 'Shards side by side: per shard, every service healthy (bench/compare-shards.ts)',
      data: { values },
      facet: { field: 'measure', type: 'nominal', title: null, sort: null },
      columns: 2,
      spec: {
        width: 260,
        height: 170,
        mark: 'bar',
        encoding: {
          x: { field: 'shard', type: 'nominal', title: null },
          xOffset: { field: 'tool' },
          y: { field: 'value', type: 'quantitative', title: null },
          color: { field: 'tool', type: 'nominal', title: null },
        },
      },
      resolve: { scale: { y: 'independent' } },
    },
    join(dir, 'compare-shards.svg'),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await plotScale();
  await plotPartitions();
  await plotRealNode();
  await plotDiscoveryLayout();
  await plotCompare();
  await plotCompareShards();
}
