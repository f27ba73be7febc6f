// `vigil sync` end to end, all real: etcd + kube-apiserver (RBAC on) from the harness, the sidecar
// as its own process authenticating as the Prometheus/Alertmanager ServiceAccount (so the
// resourceNames-limited RBAC is exercised), a real Prometheus 3.15 and Alertmanager 0.35.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { OBJECT_NAMES } from '../../operator/rbac.js';
import { readDirFiles } from '../../operator/sync/file-writer.js';
import { startCluster, type Cluster } from '../../hack/local-stack/cluster.js';
import { logTail, type ManagedProcess } from '../../hack/local-stack/process.js';
import { installRbac, vigilKubeconfigs } from '../../hack/local-stack/rbac.js';
import { freePort, loadedPrometheusJobs, startAlertmanager, startPrometheus, startSyncSidecar, waitUntil, type ServerProcess } from './servers.js';

const NS = 'vigil-system';
const CM = OBJECT_NAMES.prometheusConfigMap;
const SECRET = OBJECT_NAMES.alertmanagerSecret;
const TIMEOUT = 180_000;

const promConfig = (jobs: string[]) => ({
  global: { scrape_interval: '1m' },
  rule_files: ['*.rules.yaml'],
  scrape_configs: jobs.map((job) => ({ job_name: job, static_configs: [{ targets: ['127.0.0.1:9'] }] })),
});
const RULES_OK = 'groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n';
const RULES_BROKEN = 'groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == (\n';

let cluster: Cluster | undefined;
const cleanups: Array<() => Promise<void>> = [];
let sidecarLogs: string[] = [];

async function annotations(kind: 'configmap' | 'secret', name: string): Promise<Record<string, string>> {
  const out = await cluster!.kubectl(['get', kind, name, '-n', NS, '-o', 'json']);
  return (JSON.parse(out) as { metadata: { annotations?: Record<string, string> } }).metadata.annotations ?? {};
}

/** Admin writes the ConfigMap, as the operator would (kubectl server-side apply: a real client; keys left out are removed). */
async function applyConfigMap(hash: string, data: Record<string, string>): Promise<void> {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CM, namespace: NS, annotations: { 'vigil.dev/config-hash': hash } }, data };
  await cluster!.kubectl(['apply', '--server-side', '--field-manager=test-operator', '-f', '-'], { input: JSON.stringify(cm) });
}

async function applySecret(hash: string, data: Record<string, string>): Promise<void> {
  // `data`, not `stringData`: server-side apply would keep keys dropped from stringData.
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  const secret = { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: SECRET, namespace: NS, annotations: { 'vigil.dev/config-hash': hash } }, data: encoded };
  await cluster!.kubectl(['apply', '--server-side', '--field-manager=test-operator', '-f', '-'], { input: JSON.stringify(secret) });
}

async function waitAnnotation(kind: 'configmap' | 'secret', name: string, key: string, value: string | RegExp, timeoutMs = 30_000): Promise<Record<string, string>> {
  return waitUntil(
    `${kind}/${name} annotation ${key}=${String(value)}`,
    timeoutMs,
    async () => {
      const a = await annotations(kind, name);
      const v = a[key];
      return v !== undefined && (typeof value === 'string' ? v === value : value.test(v)) ? a : undefined;
    },
    100,
  );
}

async function startSidecar(args: string[], kubeconfig: string, dir: string): Promise<{ proc: ManagedProcess; listen: string }> {
  const listen = `127.0.0.1:${await freePort()}`;
  const logFile = join(dir, '..', `sync-${Date.now()}.log`);
  const proc = await startSyncSidecar([...args, '--namespace', NS, '--dir', dir, '--kubeconfig', kubeconfig, '--listen', listen, '--log-level', 'debug'], logFile);
  sidecarLogs.push(logFile);
  cleanups.push(() => proc.stop());
  return { proc, listen };
}

beforeAll(async () => {
  cluster = await startCluster({ crdDir: null });
  await installRbac(cluster, NS);
}, TIMEOUT);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await cluster?.stop();
}, TIMEOUT);

afterEach(() => {
  // On failure the sidecar's own log explains most things.
  const state = expect.getState();
  if (state.assertionCalls !== state.numPassingAsserts) for (const f of sidecarLogs) process.stderr.write(`--- ${f}\n${logTail(f, 60)}\n`);
});

describe('vigil sync with Prometheus (ConfigMap)', () => {
  let prometheus: ServerProcess;
  let dir: string;
  let sidecar: { proc: ManagedProcess; listen: string };

  it(
    'delivers the ConfigMap at start, using only the Prometheus ServiceAccount',
    async () => {
      const work = await mkdtemp(join(tmpdir(), 'vigil-sync-prom-'));
      cleanups.push(() => rm(work, { recursive: true, force: true }));
      dir = join(work, 'config');
      const kubeconfigs = await vigilKubeconfigs(cluster!, NS);
      await applyConfigMap('h1', { 'prometheus.yml': stringify(promConfig(['initial'])), 'svc.rules.yaml': RULES_OK });

      // As in the pod: the sidecar writes the files first; Prometheus starts once they exist.
      const promPort = await freePort();
      const url = `http://127.0.0.1:${promPort}`;
      sidecar = await startSidecar(['--configmap', CM, '--reload-url', `${url}/-/reload`, '--ready-url', `${url}/-/ready`], kubeconfigs.prometheus, dir);
      await waitUntil('prometheus.yml written by the sidecar', 30_000, async () => (existsSync(join(dir, 'prometheus.yml')) ? true : undefined));
      prometheus = await startPrometheus(dir, promPort);
      cleanups.push(() => prometheus.stop());

      const a = await waitAnnotation('configmap', CM, 'vigil.dev/applied-hash', 'h1');
      expect(a['vigil.dev/applied-at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(await loadedPrometheusJobs(prometheus.url)).toEqual(['initial']);
      expect(await readDirFiles(dir)).toEqual({ 'prometheus.yml': stringify(promConfig(['initial'])), 'svc.rules.yaml': RULES_OK });

      const health = await fetch(`http://${sidecar.listen}/healthz`);
      expect(health.status).toBe(200);
      const metrics = await (await fetch(`http://${sidecar.listen}/metrics`)).text();
      expect(metrics).toMatch(/^vigil_sync_reloads_total\{result="success"\} [1-9]/m);
      expect(metrics).toMatch(/^vigil_sync_last_success_timestamp_seconds [1-9]/m);
    },
    TIMEOUT,
  );

  it(
    'delivers an update to the running Prometheus within seconds (no kubelet lag)',
    async () => {
      const started = Date.now();
      await applyConfigMap('h2', { 'prometheus.yml': stringify(promConfig(['initial', 'updated'])), 'svc.rules.yaml': RULES_OK });
      await waitUntil('Prometheus to run job "updated"', 30_000, async () => ((await loadedPrometheusJobs(prometheus.url)).includes('updated') ? true : undefined), 20);
      const elapsed = Date.now() - started;
      process.stderr.write(`[sync.int] ConfigMap update -> loaded by Prometheus in ${elapsed} ms (includes the kubectl apply)\n`);
      expect(elapsed).toBeLessThan(10_000); // generous; measured well under a second on this machine
      await waitAnnotation('configmap', CM, 'vigil.dev/applied-hash', 'h2');
    },
    TIMEOUT,
  );

  it(
    'keeps the last good config when Prometheus rejects a broken rule file, and says so',
    async () => {
      const goodFiles = await readDirFiles(dir);
      await applyConfigMap('h3', { 'prometheus.yml': stringify(promConfig(['initial', 'updated', 'broken'])), 'svc.rules.yaml': RULES_BROKEN });
      const a = await waitAnnotation('configmap', CM, 'vigil.dev/failed-hash', 'h3');
      expect(a['vigil.dev/reload-error']).toMatch(/prometheus rejected the new config \(HTTP 500\)/);
      expect(a['vigil.dev/applied-hash']).toBe('h2');
      // Prometheus runs the last good config (its failed reload had applied the new jobs: the sidecar
      // reloaded the restored files), and the disk holds it for a restart.
      expect(await loadedPrometheusJobs(prometheus.url)).toEqual(['initial', 'updated']);
      const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ query: string }> }> } };
      expect(rules.data.groups[0]?.rules[0]?.query).toBe('up == 0');
      expect(await readDirFiles(dir)).toEqual(goodFiles);

      const events = JSON.parse(await cluster!.kubectl(['get', 'events', '-n', NS, '--field-selector', `involvedObject.name=${CM},reason=ReloadFailed`, '-o', 'json'])) as {
        items: Array<{ type: string; message: string; involvedObject: { kind: string } }>;
      };
      expect(events.items.length).toBeGreaterThanOrEqual(1);
      expect(events.items[0]).toMatchObject({ type: 'Warning', involvedObject: { kind: 'ConfigMap' } });
      expect(events.items[0]?.message).toMatch(/config h3 was not applied/);
    },
    TIMEOUT,
  );

  it(
    'applies the next good update right away and clears the error',
    async () => {
      await applyConfigMap('h4', { 'prometheus.yml': stringify(promConfig(['initial', 'fixed'])), 'svc.rules.yaml': RULES_OK });
      const a = await waitAnnotation('configmap', CM, 'vigil.dev/applied-hash', 'h4');
      expect(a['vigil.dev/reload-error']).toBeUndefined();
      expect(a['vigil.dev/failed-hash']).toBeUndefined();
      expect(await loadedPrometheusJobs(prometheus.url)).toEqual(['initial', 'fixed']);
    },
    TIMEOUT,
  );

  it(
    'survives an API server restart and applies a change made after it',
    async () => {
      // As in the issue: the API server is gone for 20 s (the sidecar's watch and list keep failing).
      await cluster!.stopApiServer();
      await new Promise((r) => setTimeout(r, 20_000));
      const restartAt = Date.now();
      await cluster!.startApiServer();
      const upAt = Date.now();
      expect(sidecar.proc.isRunning()).toBe(true);
      await applyConfigMap('h5', { 'prometheus.yml': stringify(promConfig(['after-restart'])) });
      await waitAnnotation('configmap', CM, 'vigil.dev/applied-hash', 'h5', 60_000);
      process.stderr.write(`[sync.int] API server start took ${upAt - restartAt} ms; change after it applied ${Date.now() - upAt} ms later\n`);
      expect(await loadedPrometheusJobs(prometheus.url)).toEqual(['after-restart']);
      // The rule file of the key that disappeared is removed.
      expect(Object.keys(await readDirFiles(dir))).toEqual(['prometheus.yml']);
    },
    TIMEOUT,
  );

  it(
    'stops cleanly on SIGTERM',
    async () => {
      await sidecar.proc.stop(5000);
      expect(await sidecar.proc.exited).toEqual({ code: 0, signal: null });
    },
    TIMEOUT,
  );
});

describe('vigil sync with Alertmanager (Secret)', () => {
  it(
    'delivers the Secret at start and an update, confirmed by alertmanager_config_hash',
    async () => {
      const work = await mkdtemp(join(tmpdir(), 'vigil-sync-am-'));
      cleanups.push(() => rm(work, { recursive: true, force: true }));
      const dir = join(work, 'config');
      const kubeconfigs = await vigilKubeconfigs(cluster!, NS);
      const amConfig = (receiver: string) => stringify({ route: { receiver }, receivers: [{ name: receiver }] });
      await applySecret('a1', { 'alertmanager.yml': amConfig('first'), 'vigil-email.tmpl': '{{ define "x" }}x{{ end }}\n' });

      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      await startSidecar(['--secret', SECRET, '--reload-url', `${url}/-/reload`, '--ready-url', `${url}/-/ready`], kubeconfigs.alertmanager, dir);
      await waitUntil('alertmanager.yml written by the sidecar', 30_000, async () => (existsSync(join(dir, 'alertmanager.yml')) ? true : undefined));
      const am = await startAlertmanager(dir, port);
      cleanups.push(() => am.stop());
      await waitAnnotation('secret', SECRET, 'vigil.dev/applied-hash', 'a1');
      // Secret content: not world-readable on disk.
      expect((await stat(join(dir, 'alertmanager.yml'))).mode & 0o777).toBe(0o640);

      const started = Date.now();
      await applySecret('a2', { 'alertmanager.yml': amConfig('second') });
      await waitAnnotation('secret', SECRET, 'vigil.dev/applied-hash', 'a2');
      process.stderr.write(`[sync.int] Secret update -> confirmed by Alertmanager in ${Date.now() - started} ms\n`);
      const status = (await (await fetch(`${am.url}/api/v2/status`)).json()) as { config: { original: string } };
      expect(status.config.original).toContain('receiver: second');
      expect(Object.keys(await readDirFiles(dir))).toEqual(['alertmanager.yml']);
    },
    TIMEOUT,
  );
});
