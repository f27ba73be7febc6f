// A partitioned Prometheus config (assemble/partitioned-config.ts) delivered by `vigil sync
// --partitions`, all real: etcd + kube-apiserver (RBAC on), the sidecar as its own process with the
// Prometheus ServiceAccount (plus PROMETHEUS_SYNC_PARTITION_RULES), and Prometheus 3.15 loading
// the partitions' files through scrape_config_files and rule_files. The test writes the objects as
// the operator is to write them: the changed partitions first, then the main object naming every
// partition and its hash. Checked: every service of at least 3 partitions is loaded; an edit
// rewrites one partition object and only its files on disk, with one reload; a deleted
// namespace's partition goes away from disk and from Prometheus. What Prometheus reports it runs
// (/api/v1/status/config, read by the operator's PrometheusConfigPoller) names each partition's
// scrape file, whose name carries its jobs' digest: it equals what Vigil wrote, and a config
// reloaded from other files does not.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoSettings } from '../fixtures/catalogue/index.js';
import { MonitoredServiceSchema, type MonitoredService } from '../../operator/api/schema.js';
import { configMapPayload, encodeFileSet } from '../../operator/assemble/config-bundle.js';
import { allFiles, assemblePartitionedPrometheus, partitionWrites, type PartitionedPrometheusConfig } from '../../operator/assemble/partitioned-config.js';
import { ANNOTATIONS, PARTITION_OF_LABEL, partitionObjectName } from '../../operator/contract.js';
import { OBJECT_NAMES, PROMETHEUS_SYNC_PARTITION_RULES } from '../../operator/rbac.js';
import { renderServicePieces } from '../../operator/render/index.js';
import { jobName } from '../../operator/render/names.js';
import type { GlobalSettings } from '../../operator/render/types.js';
import { readDirFiles } from '../../operator/sync/file-writer.js';
import { scrapeConfigFiles, scrapeJobNames } from '../../operator/sync/job-names.js';
import { describeScrapeDifference, PrometheusConfigPoller } from '../../operator/controller/prometheus-config.js';
import { createLogger } from '../../operator/observability/logger.js';
import { startCluster, type Cluster } from '../../hack/local-stack/cluster.js';
import { logTail } from '../../hack/local-stack/process.js';
import { installRbac, vigilKubeconfigs } from '../../hack/local-stack/rbac.js';
import { freePort, startPrometheus, startSyncSidecar, waitUntil, type ServerProcess } from './servers.js';

const NS = 'vigil-system';
const CM = OBJECT_NAMES.prometheusConfigMap;
const TIMEOUT = 240_000;
const NAMESPACES = ['team-a', 'team-b', 'team-c', 'team-d'];

let cluster: Cluster | undefined;
let prometheus: ServerProcess | undefined;
let dir: string;
let sidecarLog: string;
let settings: GlobalSettings;
let budget: number;
const cleanups: Array<() => Promise<void>> = [];

/** 8 services per namespace, each with a rule: a namespace of about 20 KB. */
function services(namespaces: string[], summary = 'Errors of {{ $labels.pod }}'): MonitoredService[] {
  return namespaces.flatMap((namespace) =>
    Array.from({ length: 8 }, (_, i) =>
      MonitoredServiceSchema.parse({
        apiVersion: 'vigil.dev/v1alpha1',
        kind: 'MonitoredService',
        metadata: { namespace, name: `svc-${i}` },
        spec: {
          selector: { matchLabels: { app: `svc-${i}` } },
          endpoints: [{ port: 'metrics' }],
          rules: [{ name: 'Errors', expr: 'rate(errors_total[5m]) > 1', for: '1m', summary: i === 0 && namespace === 'team-c' ? summary : 'Errors' }],
        },
      }),
    ),
  );
}

function assemble(list: MonitoredService[], previous?: PartitionedPrometheusConfig): PartitionedPrometheusConfig {
  return assemblePartitionedPrometheus(
    list.map((s) => renderServicePieces(s, settings)),
    settings,
    previous,
    budget,
  );
}

async function apply(object: object): Promise<void> {
  await cluster!.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=test-operator', '-f', '-'], { input: JSON.stringify(object) });
}

function configMap(name: string, files: Record<string, string>, annotations: Record<string, string>, labels: Record<string, string> = {}): object {
  const encoded = encodeFileSet(files);
  if (!encoded.ok) throw new Error(encoded.message);
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS, annotations, labels }, ...configMapPayload(encoded) };
}

/** Writes as the operator is to (partitionWrites): changed partitions, the main object, then removes partitions no longer named. Returns the partition ids written. */
async function write(config: PartitionedPrometheusConfig): Promise<string[]> {
  const writes = partitionWrites(config, CM, await partitionHashes());
  for (const w of writes.partitions) await apply(configMap(w.name, w.partition.files, { [ANNOTATIONS.configHash]: w.hash }, { [PARTITION_OF_LABEL]: CM }));
  await apply(configMap(CM, config.main, { [ANNOTATIONS.configHash]: writes.mainAnnotations.configHash, [ANNOTATIONS.partitions]: writes.mainAnnotations.partitions }));
  for (const name of writes.remove) await cluster!.kubectl(['delete', 'configmap', name, '-n', NS]);
  return writes.partitions.map((w) => w.partition.id);
}

/** The config hash of every partition object there now, by name. */
async function partitionHashes(): Promise<Map<string, string | undefined>> {
  const out = await cluster!.kubectl(['get', 'configmaps', '-n', NS, '-l', PARTITION_OF_LABEL, '-o', 'json']);
  const items = (JSON.parse(out) as { items: { metadata: { name: string; annotations?: Record<string, string> } }[] }).items;
  return new Map(items.map((i) => [i.metadata.name, i.metadata.annotations?.[ANNOTATIONS.configHash]]));
}

async function annotation(key: string): Promise<string | undefined> {
  const out = await cluster!.kubectl(['get', 'configmap', CM, '-n', NS, '-o', 'json']);
  return (JSON.parse(out) as { metadata: { annotations?: Record<string, string> } }).metadata.annotations?.[key];
}

async function resourceVersions(): Promise<Map<string, string>> {
  const out = await cluster!.kubectl(['get', 'configmaps', '-n', NS, '-l', PARTITION_OF_LABEL, '-o', 'json']);
  const items = (JSON.parse(out) as { items: { metadata: { name: string; resourceVersion: string } }[] }).items;
  return new Map(items.map((i) => [i.metadata.name, i.metadata.resourceVersion]));
}

async function ruleGroups(): Promise<string[]> {
  const r = (await (await fetch(`${prometheus!.url}/api/v1/rules`)).json()) as { data: { groups: { file: string }[] } };
  return [...new Set(r.data.groups.map((g) => g.file.split('/').pop()!))].sort();
}

async function scrapePools(): Promise<string[]> {
  const r = (await (await fetch(`${prometheus!.url}/api/v1/scrape_pools`)).json()) as { data: { scrapePools: string[] } };
  return [...r.data.scrapePools].sort();
}

async function reloads(listen: string): Promise<number> {
  const text = await (await fetch(`http://${listen}/metrics`)).text();
  return Number(/^vigil_sync_reloads_total\{result="success"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

const expectedRuleFiles = (config: PartitionedPrometheusConfig) =>
  Object.keys(allFiles(config))
    .filter((f) => f.endsWith('.rules.yaml'))
    .sort();
const expectedJobs = (list: MonitoredService[]) => list.map((s) => jobName(s.metadata, 'metrics')).sort();

/** What the operator compares with what Prometheus reports (controller/plan.ts prometheusProblem). */
const written = (config: PartitionedPrometheusConfig) => ({ jobNames: scrapeJobNames(config.main['prometheus.yml']!), scrapeFiles: scrapeConfigFiles(config.main['prometheus.yml']!) });

/** What Prometheus reports it runs, as the operator polls it. */
async function running(): Promise<{ jobNames: string[]; scrapeFiles: string[] }> {
  const poller = new PrometheusConfigPoller(prometheus!.url, 60_000, () => {}, createLogger('test', 'error'));
  await poller.pollOnce();
  return poller.running!;
}

beforeAll(async () => {
  cluster = await startCluster({ crdDir: null });
  await installRbac(cluster, NS);
  // The partition read access the sidecar needs with --partitions, bound to the Prometheus ServiceAccount.
  await apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'vigil-prometheus-sync-partitions', namespace: NS }, rules: PROMETHEUS_SYNC_PARTITION_RULES });
  await apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'vigil-prometheus-sync-partitions', namespace: NS },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'vigil-prometheus-sync-partitions' },
    subjects: [{ kind: 'ServiceAccount', name: OBJECT_NAMES.prometheusServiceAccount, namespace: NS }],
  });
  const work = await mkdtemp(join(tmpdir(), 'vigil-sync-partitions-'));
  cleanups.push(() => rm(work, { recursive: true, force: true }));
  dir = join(work, 'config');
  sidecarLog = join(work, 'sync.log');
  // Prometheus discovers through the test API server (nothing to find: the scrape pools exist all the same).
  settings = { ...demoSettings, rulesDir: dir, selfScrapeJobs: [], kubernetesSd: { apiServer: 'https://127.0.0.1:1', kubeconfigFile: cluster.kubeconfigPath } };
  // Each namespace fits a partition alone, no two together: one partition per namespace.
  const sizes = NAMESPACES.map(
    (ns) =>
      assemblePartitionedPrometheus(
        services([ns]).map((s) => renderServicePieces(s, settings)),
        settings,
      ).partitions[0]!,
  );
  budget = Math.max(...sizes.map((p) => Object.entries(p.files).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0))) + 500;
}, TIMEOUT);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await cluster?.stop();
}, TIMEOUT);

afterEach(() => {
  const state = expect.getState();
  if (state.assertionCalls !== state.numPassingAsserts && sidecarLog) process.stderr.write(`--- ${sidecarLog}\n${logTail(sidecarLog, 80)}\n`);
});

describe('vigil sync --partitions with Prometheus', () => {
  let config: PartitionedPrometheusConfig;
  let listen: string;

  it(
    'delivers every partition: Prometheus loads every service of at least 3 partitions',
    async () => {
      const all = services(NAMESPACES);
      config = assemble(all);
      expect(config.partitions.length).toBeGreaterThanOrEqual(3);
      await write(config);
      const kubeconfigs = await vigilKubeconfigs(cluster!, NS);
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      listen = `127.0.0.1:${await freePort()}`;
      const proc = await startSyncSidecar(
        [
          '--configmap',
          CM,
          '--partitions',
          '--reload-url',
          `${url}/-/reload`,
          '--ready-url',
          `${url}/-/ready`,
          '--namespace',
          NS,
          '--dir',
          dir,
          '--kubeconfig',
          kubeconfigs.prometheus,
          '--listen',
          listen,
          '--log-level',
          'debug',
        ],
        sidecarLog,
      );
      cleanups.push(() => proc.stop());
      await waitUntil('prometheus.yml written by the sidecar', 60_000, async () => (existsSync(join(dir, 'prometheus.yml')) ? true : undefined));
      prometheus = await startPrometheus(dir, port);
      cleanups.push(() => prometheus!.stop());
      await waitUntil('the config applied', 60_000, async () => ((await annotation(ANNOTATIONS.appliedHash)) === config.hash ? true : undefined), 100);
      expect(await readDirFiles(dir)).toEqual(allFiles(config));
      expect(await ruleGroups()).toEqual(expectedRuleFiles(config));
      await waitUntil('every job a scrape pool', 60_000, async () => ((await scrapePools()).length === all.length ? true : undefined), 200);
      expect(await scrapePools()).toEqual(expectedJobs(all));
      // Prometheus reports every partition's scrape file by name, as written.
      expect((await running()).scrapeFiles).toHaveLength(config.partitions.length);
      expect(describeScrapeDifference(written(config), await running())).toBeUndefined();
    },
    TIMEOUT,
  );

  it(
    'applies an edit with one partition object and its files rewritten, and one reload',
    async () => {
      const edited = assemble(services(NAMESPACES, 'Edited summary'), config);
      const versions = await resourceVersions();
      const mtimes = new Map(await Promise.all(Object.keys(allFiles(config)).map(async (f) => [f, (await stat(join(dir, f))).mtimeMs] as const)));
      const reloadsBefore = await reloads(listen);
      const written = await write(edited);
      expect(written).toHaveLength(1);
      await waitUntil('the edit applied', 60_000, async () => ((await annotation(ANNOTATIONS.appliedHash)) === edited.hash ? true : undefined), 100);
      // Only the edited partition's object has a new resourceVersion.
      const after = await resourceVersions();
      const changedObjects = [...after].filter(([name, rv]) => versions.get(name) !== rv).map(([name]) => name);
      expect(changedObjects).toEqual([partitionObjectName(CM, written[0]!)]);
      // Only that service's rule file is rewritten on disk (the scrape file of its partition is unchanged: the rule is).
      const rewritten: string[] = [];
      for (const [f, mtime] of mtimes) if ((await stat(join(dir, f))).mtimeMs !== mtime) rewritten.push(f);
      expect(rewritten).toEqual(['team-c__svc-0.rules.yaml']);
      expect(await readDirFiles(dir)).toEqual(allFiles(edited));
      expect(await reloads(listen)).toBe(reloadsBefore + 1);
      const rules = (await (await fetch(`${prometheus!.url}/api/v1/rules`)).json()) as { data: { groups: { file: string; rules: { annotations?: Record<string, string> }[] }[] } };
      expect(rules.data.groups.find((g) => g.file.endsWith('team-c__svc-0.rules.yaml'))?.rules.some((r) => r.annotations?.summary === 'Edited summary')).toBe(true);
      config = edited;
    },
    TIMEOUT,
  );

  it(
    "removes a deleted namespace's partition from disk and from Prometheus",
    async () => {
      const remaining = services(
        NAMESPACES.filter((ns) => ns !== 'team-b'),
        'Edited summary',
      );
      const without = assemble(remaining, config);
      const gone = config.partitions.filter((p) => p.refs.every((r) => r.namespace === 'team-b'));
      expect(gone).toHaveLength(1);
      expect(without.partitions.map((p) => p.id)).not.toContain(gone[0]!.id);
      await write(without);
      await waitUntil('the deletion applied', 60_000, async () => ((await annotation(ANNOTATIONS.appliedHash)) === without.hash ? true : undefined), 100);
      expect(await readDirFiles(dir)).toEqual(allFiles(without));
      expect(Object.keys(await readDirFiles(dir)).some((f) => f.startsWith('team-b__') || f.includes(gone[0]!.id))).toBe(false);
      expect([...(await resourceVersions()).keys()]).not.toContain(partitionObjectName(CM, gone[0]!.id));
      expect(await ruleGroups()).toEqual(expectedRuleFiles(without));
      await waitUntil("team-b's scrape pools gone", 60_000, async () => ((await scrapePools()).length === remaining.length ? true : undefined), 200);
      expect(await scrapePools()).toEqual(expectedJobs(remaining));
      expect(describeScrapeDifference(written(without), await running())).toBeUndefined();
      config = without;
    },
    TIMEOUT,
  );

  it(
    'tells a config reloaded from other files apart: another scrape file of the same partition, or a glob',
    async () => {
      const main = config.main['prometheus.yml']!;
      const [first] = scrapeConfigFiles(main);
      // The same partition at other jobs: a name Vigil did not write (the file need not exist for Prometheus).
      const other = first!.replace(/-[0-9a-f]{16}\.scrape\.yaml$/, '-0000000000000000.scrape.yaml');
      for (const foreign of [main.replace(first!, other), main.replace(/scrape_config_files:\n(  - .*\n)+/, `scrape_config_files:\n  - ${dir}/*.scrape.yaml\n`)]) {
        expect(foreign).not.toBe(main);
        await writeFile(join(dir, 'prometheus.yml'), foreign);
        expect((await fetch(`${prometheus!.url}/-/reload`, { method: 'POST' })).status).toBe(200);
        await waitUntil('the foreign config loaded', 30_000, async () => (describeScrapeDifference(written(config), await running()) !== undefined ? true : undefined), 200);
        expect(describeScrapeDifference(written(config), await running())).toMatch(/scrape config files? Vigil did not write/);
      }
      // Vigil's own file again: equal.
      await writeFile(join(dir, 'prometheus.yml'), main);
      expect((await fetch(`${prometheus!.url}/-/reload`, { method: 'POST' })).status).toBe(200);
      await waitUntil("Vigil's config loaded again", 30_000, async () => (describeScrapeDifference(written(config), await running()) === undefined ? true : undefined), 200);
    },
    TIMEOUT,
  );
});
