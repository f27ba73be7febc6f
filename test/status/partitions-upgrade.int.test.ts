// The layout handshake of a partitioned Prometheus config (operator/controller/layout-gate.ts,
// docs/contract.md) as a `helm upgrade` from a chart without partitions runs it, all real: etcd +
// kube-apiserver (RBAC on), `vigil operator --config-partitions`, and two Prometheus 3.15 "pods",
// each a Prometheus with its own `vigil sync`: the old one without --partitions (the chart before),
// the new one with it. The operator polls Prometheus through a TCP proxy standing for the Service,
// which routes to the old pod while it lives. Sampled every second: each running Prometheus's rule
// groups and scrape jobs, the layout the operator wrote, and every service's ConfigApplied.
// Checked: one object while the old sidecar runs (also well past the quiet period); partitions only
// after it is gone; every service's jobs and rules loaded in every running Prometheus throughout;
// ConfigApplied=True only at a hash every running sidecar reports.
import { readFile } from 'node:fs/promises';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { startPrometheus, startServerSync, type Prometheus } from '../../hack/local-stack/components.js';
import { freePorts, pollUntil } from '../../hack/local-stack/net.js';
import type { ManagedProcess } from '../../hack/local-stack/process.js';
import { vigilKubeconfigs } from '../../hack/local-stack/rbac.js';
import { ANNOTATIONS, OBJECT_NAMES, PARTITION_OF_LABEL } from '../../operator/contract.js';
import { jobName } from '../../operator/render/names.js';
import { scrapeConfigFiles, scrapeJobNames } from '../../operator/sync/job-names.js';
import { applyObjects, generatedAnnotations, INSTALL_NS, printLogsOnFailure, startHostileStack, type HostileStack } from '../hostile/stack.js';

const NS = 'upgrade';
const NAMES = ['api', 'web', 'worker'];
const QUIET_MS = 30_000; // layout-gate.ts LAYOUT_QUIET_MS, the operator's default
let stack: HostileStack | undefined;
let proxy: Server | undefined;
let upstreamPort = 0;
let newPrometheus: Prometheus | undefined;
let newSync: ManagedProcess | undefined;

/** A TCP proxy to 127.0.0.1:upstreamPort, read at each connection: the Service in front of the Prometheus pods. */
function startProxy(port: number): Promise<Server> {
  const server = createServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  const [proxyPort] = (await freePorts(1)) as [number];
  proxy = await startProxy(proxyPort);
  // The old pod: the stack's Prometheus with a sidecar without --partitions; the operator is the new one.
  stack = await startHostileStack({ namespaces: [NS], configPartitions: true, prometheusSyncPartitions: false, operatorPrometheusUrl: `http://127.0.0.1:${proxyPort}` });
  upstreamPort = Number(new URL(stack.prometheus.url).port);
}, 240_000);

afterAll(async () => {
  await newSync?.stop(5000);
  await newPrometheus?.process.stop(5000);
  await stack?.stop();
  proxy?.close();
}, 60_000);

printLogsOnFailure(() => stack);

function s(): HostileStack {
  if (!stack) throw new Error('the stack did not start (see beforeAll)');
  return stack;
}

const monitored = (name: string) => ({
  apiVersion: 'vigil.dev/v1alpha1',
  kind: 'MonitoredService',
  metadata: { namespace: NS, name },
  spec: { selector: { matchLabels: { app: name } }, endpoints: [{ port: 'metrics' }], rules: [{ name: 'Busy', expr: 'vector(0) > 1' }] },
});

/** What one Prometheus runs: its rule groups and scrape jobs (those of its scrape config files too, read from its dir). */
async function loaded(p: Prometheus): Promise<{ groups: string[]; jobs: string[] }> {
  const rules = (await (await fetch(`${p.url}/api/v1/rules`)).json()) as { data: { groups: { name: string }[] } };
  const config = (await (await fetch(`${p.url}/api/v1/status/config`)).json()) as { data: { yaml: string } };
  const texts = await Promise.all(scrapeConfigFiles(config.data.yaml).map((f) => readFile(join(p.configDir, f), 'utf8').catch(() => '')));
  return { groups: rules.data.groups.map((g) => g.name), jobs: [...scrapeJobNames(config.data.yaml), ...texts.flatMap((t) => scrapeJobNames(t))] };
}

/** Every service's rule group and job, or what is missing. */
function missing(l: { groups: string[]; jobs: string[] }): string[] {
  return NAMES.flatMap((name) => [
    ...(l.groups.includes(`vigil/${NS}/${name}`) ? [] : [`rule group vigil/${NS}/${name}`]),
    ...(l.jobs.includes(jobName({ namespace: NS, name }, 'metrics')) ? [] : [`job of ${name}`]),
  ]);
}

async function partitionObjects(): Promise<number> {
  const out = await s().cluster.kubectl(['get', 'configmaps', '-n', INSTALL_NS, '-l', `${PARTITION_OF_LABEL}=${OBJECT_NAMES.prometheusConfigMap}`, '-o', 'name']);
  return out.trim() ? out.trim().split('\n').length : 0;
}

interface Sample {
  at: number;
  oldRunning: boolean;
  partitioned: boolean;
  problems: string[];
}

test('an old sidecar holds the one-object layout; partitions follow once it is gone; nothing is unloaded and ConfigApplied tells the truth throughout', async () => {
  await applyObjects(s().cluster, NAMES.map(monitored));
  await pollUntil('the old sidecar to apply every service (plain applied-hash)', 120_000, async () => {
    const a = await generatedAnnotations(s().cluster, 'configmap');
    return a[ANNOTATIONS.configHash] !== undefined && a[ANNOTATIONS.appliedHash] === a[ANNOTATIONS.configHash] && missing(await loaded(s().prometheus)).length === 0;
  });
  expect((await generatedAnnotations(s().cluster, 'configmap'))[ANNOTATIONS.partitionsOffered]).toBe('true');
  expect(await partitionObjects()).toBe(0);

  // The new pod starts beside the old one.
  const [newPort, newSyncPort] = (await freePorts(2)) as [number, number];
  const prom = await startPrometheus({ dir: join(s().dir, 'new-pod', 'prometheus'), port: newPort, extraHosts: [] });
  newPrometheus = prom;
  const kubeconfigs = await vigilKubeconfigs(s().cluster, INSTALL_NS);
  newSync = await startServerSync('prometheus', prom, { logDir: join(s().dir, 'new-pod'), namespace: INSTALL_NS, kubeconfig: kubeconfigs.prometheus, listenPort: newSyncPort, partitions: true });

  const samples: Sample[] = [];
  let oldRunning = true;
  let newLoaded = false;
  let sampling = true;
  const started = Date.now();
  const sample = async (wasRunning: boolean) => {
    const problems: string[] = [];
    const before = await generatedAnnotations(s().cluster, 'configmap');
    const running: Array<[string, Prometheus]> = [...(wasRunning ? [['old', s().prometheus] as [string, Prometheus]] : []), ['new', prom]];
    for (const [name, p] of running) {
      const gone = missing(await loaded(p));
      if (name === 'new' && !newLoaded) {
        newLoaded = gone.length === 0; // until its first apply it runs the bootstrap config
        continue;
      }
      for (const m of gone) problems.push(`${name} Prometheus lacks ${m}`);
    }
    const list = JSON.parse(await s().cluster.kubectl(['get', 'monitoredservices', '-n', NS, '-o', 'json'])) as {
      items: { metadata: { name: string }; status?: { appliedConfigHash?: string; conditions?: { type: string; status: string }[] } }[];
    };
    const after = await generatedAnnotations(s().cluster, 'configmap');
    const steady = ['appliedHash', 'readerAppliedHash', 'configHash'].every((k) => before[ANNOTATIONS[k as keyof typeof ANNOTATIONS]] === after[ANNOTATIONS[k as keyof typeof ANNOTATIONS]]);
    for (const item of list.items) {
      const applied = item.status?.conditions?.find((c) => c.type === 'ConfigApplied');
      if (applied?.status !== 'True' || !steady) continue;
      const hash = item.status?.appliedConfigHash;
      // The Prometheus part of ConfigApplied: every sidecar that reports runs the config it names.
      const reports = [after[ANNOTATIONS.readerAppliedHash], wasRunning ? after[ANNOTATIONS.appliedHash] : undefined].filter((h): h is string => h !== undefined);
      if (hash === after[ANNOTATIONS.configHash] && reports.some((h) => h !== hash)) problems.push(`${item.metadata.name} ConfigApplied=True at ${hash} while a sidecar reports ${reports.join(', ')}`);
    }
    const partitioned = (after[ANNOTATIONS.partitions] ?? '{}') !== '{}';
    samples.push({ at: Date.now() - started, oldRunning: wasRunning, partitioned, problems });
  };

  const sampler = (async () => {
    while (sampling) {
      const wasRunning: boolean = oldRunning;
      try {
        await sample(wasRunning);
      } catch (err) {
        // A read of the old Prometheus as it is being stopped is no finding; any other failed read is.
        if (wasRunning === oldRunning) samples.push({ at: Date.now() - started, oldRunning, partitioned: false, problems: [`sample failed: ${(err as Error).message}`] });
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();

  try {
    await pollUntil('the new sidecar to report as a partition reader', 60_000, async () => (await generatedAnnotations(s().cluster, 'configmap'))[ANNOTATIONS.readerAppliedHash] !== undefined);
    // Well past the quiet period: the old sidecar keeps reporting, so the layout stays one object.
    await new Promise((r) => setTimeout(r, QUIET_MS + 15_000));
    expect(await partitionObjects()).toBe(0);
    expect(newLoaded).toBe(true);

    // The old pod goes: its sidecar and its Prometheus; the Service routes to the new one.
    const stoppedAt = Date.now() - started;
    await s().prometheusSync.stop(5000);
    oldRunning = false;
    await s().prometheus.process.stop(5000);
    upstreamPort = newPort;

    await pollUntil('the operator to write the partitioned layout', QUIET_MS + 90_000, async () => (await partitionObjects()) > 0 && samples.at(-1)?.partitioned === true, { intervalMs: 1000 });
    await pollUntil('every service ConfigApplied=True at the partitioned hash', 90_000, async () => {
      const a = await generatedAnnotations(s().cluster, 'configmap');
      const list = JSON.parse(await s().cluster.kubectl(['get', 'monitoredservices', '-n', NS, '-o', 'json'])) as {
        items: { status?: { appliedConfigHash?: string; conditions?: { type: string; status: string }[] } }[];
      };
      return (
        a[ANNOTATIONS.readerAppliedHash] === a[ANNOTATIONS.configHash] &&
        list.items.every((i) => i.status?.appliedConfigHash === a[ANNOTATIONS.configHash] && i.status?.conditions?.some((c) => c.type === 'ConfigApplied' && c.status === 'True'))
      );
    });
    await new Promise((r) => setTimeout(r, 3000));
    sampling = false;
    await sampler;

    const firstPartitioned = samples.find((x) => x.partitioned);
    expect(firstPartitioned).toBeDefined();
    expect(firstPartitioned!.at).toBeGreaterThan(stoppedAt);
    expect(samples.filter((x) => x.oldRunning && x.partitioned)).toEqual([]);
    expect(samples.flatMap((x) => x.problems.map((p) => `${x.at} ms: ${p}`))).toEqual([]);
    expect(samples.length).toBeGreaterThan(40);
    expect(missing(await loaded(prom))).toEqual([]);
    process.stderr.write(
      `[partitions-upgrade.int] ${samples.length} samples; old sidecar stopped at ${stoppedAt} ms, first partitioned sample at ${firstPartitioned!.at} ms; ${await partitionObjects()} partition objects\n`,
    );
  } finally {
    sampling = false;
    await sampler.catch(() => undefined);
  }
}, 600_000);
