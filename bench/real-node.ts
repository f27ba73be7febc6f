// `make bench-node`: latencies of the user's flow on the real single-node cluster (hack/node/cluster.sh,
// issue #9). Records numbers and a plot; asserts nothing about time; not part of `make test`.
//
// 1. apply → target up: `kubectl apply` of a new MonitoredService (its Service and pod already run) until its
//    target is `up` in Prometheus's targets API, BENCH_APPLIES times (default 30), one apply every
//    BENCH_APPLY_GAP_S seconds (default 10). Measured at once on two Prometheus servers that load the same
//    operator-generated ConfigMap:
//    - sidecar: the chart's Prometheus, whose sync sidecar watches the ConfigMap through the API, writes the
//      files and POSTs /-/reload (Vigil's path);
//    - volume: a second Prometheus (same image, same ServiceAccount) that mounts that ConfigMap as a volume,
//      as prometheus-operator users have it: the kubelet refreshes the files at its next sync of the pod
//      (syncFrequency, KUBELET_SYNC_FREQUENCY below) and Prometheus's own --config.auto-reload (checksum of
//      the config and rule files every BENCH_AUTO_RELOAD_INTERVAL, default 1s) is the reload trigger.
// 2. delete pod → email: `kubectl delete pod` of the demo target until the FIRING email is in the mail catcher
//    (through the stunnel sidecar), BENCH_OUTAGES times (default 10); the pod is recreated as
//    `make demo-restore` does and the RESOLVED email awaited before the next outage.
//
// The kubelet syncs pods every KUBELET_SYNC_FREQUENCY: default here 1m, the kubelet's own default, so the volume
// path is what a default cluster has (`make cluster-up` itself uses 10s). Results: printed, and written to
// docs/benchmarks/real-node.json + real-node.svg (bench/plot.ts). Needs root; refuses to start while a node runs (another run's
// `vigil-node` network namespace): run it as `flock /tmp/vigil-node.lock make bench-node` on a shared machine.
// The cluster is torn down at the end (BENCH_KEEP_NODE=1 keeps it).
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { alertBoundSeconds } from '../hack/local-stack/demo.js';
import { MailpitClient, waitForAlertEmail } from '../hack/local-stack/mailpit.js';
import { getJson, pollUntil, sleep } from '../hack/local-stack/net.js';
import { REPO_ROOT } from '../hack/local-stack/cluster.js';
import { ALERTMANAGER_URL, KUBECONFIG, MAIL_URL, NODE_DIR, NODE_IP, PROMETHEUS_URL, clusterDown, clusterUp, helm, kubectl } from '../test/node/node.js';
import { RESTRICTED_CONTAINER_SECURITY, targetLabels, targetObjects } from '../test/node/target.js';
import { plotRealNode } from './plot.js';
import { summary } from './stats.js';

const run = promisify(execFile);

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

const APPLIES = intEnv('BENCH_APPLIES', 30, 1, 200);
const APPLY_GAP_S = intEnv('BENCH_APPLY_GAP_S', 10, 1, 600);
const OUTAGES = intEnv('BENCH_OUTAGES', 10, 0, 100);
const SCRAPE_INTERVAL = process.env.BENCH_SCRAPE_INTERVAL ?? '5s';
const AUTO_RELOAD_INTERVAL = process.env.BENCH_AUTO_RELOAD_INTERVAL ?? '1s';
// Passed on to hack/node/cluster.sh (clusterUp spreads process.env).
process.env.KUBELET_SYNC_FREQUENCY ??= '1m';
const KUBELET_SYNC = process.env.KUBELET_SYNC_FREQUENCY;

const NS = 'vigil-system';
const RELEASE = 'vigil';
const CHART = join(REPO_ROOT, 'charts', 'vigil');
const KIND_VALUES = join(CHART, 'values-kind.yaml');
const DEMO = 'vigil-demo-target';
const BENCH_NS = 'bench-node';
const BENCH_TARGET = 'bench-target';
const VOLUME_PROM = 'bench-prometheus-volume';
const VOLUME_PROM_NODE_PORT = 30091;
const VOLUME_PROM_URL = `http://${NODE_IP}:${VOLUME_PROM_NODE_PORT}`;
const LOG = join(NODE_DIR, 'logs', 'bench-node.log');
const OUT_DIR = join(REPO_ROOT, 'docs', 'benchmarks');

const log = (m: string) => console.log(`[bench-node ${new Date().toISOString().slice(11, 19)}] ${m}`);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');

/** Refuses to touch a node another run owns: `cluster.sh up` would tear it down first. */
async function assertNoNode(): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'list']);
  if (stdout.split('\n').some((l) => l.split(' ')[0] === 'vigil-node')) {
    throw new Error('network namespace vigil-node exists: another run (make test, make cluster-up) uses the node; wait for it (flock /tmp/vigil-node.lock) or `make cluster-down` if it is yours');
  }
}

function benchMonitoredService(name: string): unknown {
  return {
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { name, namespace: BENCH_NS },
    spec: {
      selector: { matchLabels: targetLabels(BENCH_TARGET) },
      endpoints: [{ port: 'metrics', interval: SCRAPE_INTERVAL }],
      downAlert: { enabled: false },
    },
  };
}

/**
 * The comparison Prometheus: the chart's image and ServiceAccount (its discovery RBAC), the operator's
 * ConfigMap mounted as a volume, --config.auto-reload as the reload trigger, a NodePort for the host.
 */
function volumePrometheusObjects(image: string): unknown[] {
  const labels = { 'app.kubernetes.io/name': VOLUME_PROM };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: VOLUME_PROM, namespace: NS, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'vigil-prometheus',
            securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'prometheus',
                image,
                imagePullPolicy: 'Never',
                args: [
                  '--config.file=/etc/prometheus/config/prometheus.yml',
                  '--config.auto-reload',
                  `--config.auto-reload-interval=${AUTO_RELOAD_INTERVAL}`,
                  '--storage.tsdb.path=/prometheus',
                  '--web.listen-address=0.0.0.0:9090',
                ],
                ports: [{ name: 'http-web', containerPort: 9090 }],
                readinessProbe: { httpGet: { path: '/-/ready', port: 'http-web' }, periodSeconds: 2 },
                volumeMounts: [
                  { name: 'config', mountPath: '/etc/prometheus/config', readOnly: true },
                  { name: 'data', mountPath: '/prometheus' },
                ],
                securityContext: RESTRICTED_CONTAINER_SECURITY,
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: 'vigil-prometheus-config' } },
              { name: 'data', emptyDir: {} },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: VOLUME_PROM, namespace: NS, labels },
      spec: { type: 'NodePort', selector: labels, ports: [{ name: 'http-web', port: 9090, targetPort: 9090, nodePort: VOLUME_PROM_NODE_PORT }] },
    },
  ];
}

/** Names of the benchmark services whose target is up in the Prometheus at `url`. */
async function upServices(url: string): Promise<Set<string>> {
  const r = await getJson<{ data: { activeTargets: { scrapePool: string; health: string }[] } }>(`${url}/api/v1/targets?state=active`);
  const up = new Set<string>();
  for (const t of r.data.activeTargets) {
    const m = new RegExp(`^vigil/${BENCH_NS}/([^/]+)/`).exec(t.scrapePool);
    if (m && t.health === 'up') up.add(m[1] as string);
  }
  return up;
}

const asJson = (objects: unknown[]) => objects.map((o) => JSON.stringify(o)).join('\n');

async function containerImage(kind: string, name: string, container: string): Promise<string> {
  return kubectl(['get', kind, name, '-n', NS, '-o', `jsonpath={.spec.template.spec.containers[?(@.name=="${container}")].image}`]);
}

interface ApplyResult {
  name: string;
  sidecarS: number;
  volumeS: number;
}

/** BENCH_APPLIES applies, one every APPLY_GAP_S; both Prometheus servers polled every 200 ms. */
async function measureApplies(): Promise<ApplyResult[]> {
  const applied = new Map<string, number>();
  const sidecar = new Map<string, number>();
  const volume = new Map<string, number>();
  let stop = false;
  const poller = (async () => {
    while (!stop) {
      const now = Date.now();
      const [a, b] = await Promise.all([upServices(PROMETHEUS_URL).catch(() => new Set<string>()), upServices(VOLUME_PROM_URL).catch(() => new Set<string>())]);
      for (const [name, at] of applied) {
        if (!sidecar.has(name) && a.has(name)) sidecar.set(name, (now - at) / 1000);
        if (!volume.has(name) && b.has(name)) volume.set(name, (now - at) / 1000);
      }
      await sleep(200);
    }
  })();
  try {
    for (let i = 1; i <= APPLIES; i++) {
      const name = `apply-${String(i).padStart(3, '0')}`;
      const started = Date.now();
      applied.set(name, started);
      await kubectl(['apply', '-f', '-'], { input: JSON.stringify(benchMonitoredService(name)) });
      const waitUntil = started + APPLY_GAP_S * 1000;
      while (Date.now() < waitUntil) await sleep(100);
      log(`apply ${i}/${APPLIES} ${name}: sidecar ${sidecar.get(name)?.toFixed(1) ?? '-'} s, volume ${volume.get(name)?.toFixed(1) ?? '-'} s so far (load ${load()})`);
    }
    const pending = () => [...applied.keys()].filter((n) => !sidecar.has(n) || !volume.has(n));
    await pollUntil(`every benchmark target up in both Prometheus servers (pending: ${pending().join(', ')})`, 600_000, async () => pending().length === 0, { intervalMs: 500 });
  } finally {
    stop = true;
    await poller;
  }
  return [...applied.keys()].map((name) => ({ name, sidecarS: sidecar.get(name) as number, volumeS: volume.get(name) as number }));
}

interface OutageResult {
  firingS: number;
  resolvedS: number;
}

async function noActiveDemoAlerts(): Promise<void> {
  await pollUntil(
    'no active alert for the demo target',
    180_000,
    async () => {
      const alerts = await getJson<{ labels: Record<string, string> }[]>(`${ALERTMANAGER_URL}/api/v2/alerts?active=true`);
      return !alerts.some((a) => a.labels.vigil_namespace === NS && a.labels.vigil_monitoredservice === DEMO);
    },
    { intervalMs: 1000 },
  );
}

async function measureOutages(timeoutMs: number): Promise<OutageResult[]> {
  const mail = new MailpitClient(MAIL_URL);
  const results: OutageResult[] = [];
  for (let i = 1; i <= OUTAGES; i++) {
    await noActiveDemoAlerts();
    // At a random point of the scrape/evaluation cycle, as a real outage.
    await sleep(Math.random() * 5000);
    const deletedAt = Date.now();
    await kubectl(['delete', 'pod', DEMO, '-n', NS, '--wait=false']);
    const firing = await waitForAlertEmail(mail, { state: 'firing', namespace: NS, name: DEMO, since: deletedAt, timeoutMs });
    // Recreated as `make demo-restore` does.
    await kubectl(['wait', '--for=delete', `pod/${DEMO}`, '-n', NS, '--timeout=120s'], { timeoutMs: 130_000 });
    const restoredAt = Date.now();
    await run(join(REPO_ROOT, 'hack', 'demo-restore.sh'), [], { cwd: REPO_ROOT, env: { ...process.env, KUBECONFIG }, timeout: 180_000 });
    const resolved = await waitForAlertEmail(mail, { state: 'resolved', namespace: NS, name: DEMO, since: restoredAt, timeoutMs });
    results.push({ firingS: firing.elapsedS, resolvedS: resolved.elapsedS });
    log(`outage ${i}/${OUTAGES}: FIRING after ${firing.elapsedS.toFixed(1)} s, recreate → RESOLVED after ${resolved.elapsedS.toFixed(1)} s (load ${load()})`);
  }
  return results;
}

const fmt = (s: { n: number; min: number; p50: number; p95: number; max: number }) =>
  `n ${s.n}  min ${s.min.toFixed(1)} s  p50 ${s.p50.toFixed(1)} s  p95 ${s.p95.toFixed(1)} s  max ${s.max.toFixed(1)} s`;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench-node needs root (network namespace, containerd, kubelet)');
  await assertNoNode();
  const startLoad = load();
  log(`starting the node (kubelet syncFrequency ${KUBELET_SYNC}; log ${LOG}); load average ${startLoad}`);
  const t0 = Date.now();
  let applies: ApplyResult[] = [];
  let outages: OutageResult[] = [];
  const loads: Record<string, string> = { start: startLoad };
  try {
    await clusterUp(LOG, 40 * 60_000);
    log(`node up after ${((Date.now() - t0) / 1000).toFixed(0)} s; helm install`);
    await kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } }) });
    const install = await helm(['install', RELEASE, CHART, '-n', NS, '-f', KIND_VALUES, '--wait', '--timeout', '600s'], 660_000);
    if (install.code !== 0) throw new Error(`helm install failed: ${install.stderr}`);
    await kubectl(['wait', '-n', NS, '--for=condition=Ready', 'pod', '--all', '--timeout=300s'], { timeoutMs: 320_000 });

    const targetImage = await kubectl(['get', 'pod', DEMO, '-n', NS, '-o', 'jsonpath={.spec.containers[0].image}']);
    const promImage = await containerImage('statefulset', 'vigil-prometheus', 'prometheus');
    // One Service + Deployment of the demo target image that every benchmark MonitoredService selects.
    const target = targetObjects({ namespace: BENCH_NS, app: BENCH_TARGET, image: targetImage, container: 'target', namespaceLabels: { 'pod-security.kubernetes.io/enforce': 'restricted' } });
    await kubectl(['apply', '-f', '-'], { input: asJson([...target, ...volumePrometheusObjects(promImage)]) });
    await kubectl(['rollout', 'status', `deployment/${VOLUME_PROM}`, '-n', NS, '--timeout=300s'], { timeoutMs: 320_000 });
    await kubectl(['rollout', 'status', `deployment/${BENCH_TARGET}`, '-n', BENCH_NS, '--timeout=300s'], { timeoutMs: 320_000 });
    await pollUntil('the volume Prometheus ready on its NodePort', 120_000, async () => (await fetch(`${VOLUME_PROM_URL}/-/ready`, { signal: AbortSignal.timeout(2000) })).ok);

    loads.applies = load();
    log(`${APPLIES} applies, one every ${APPLY_GAP_S} s (scrape interval ${SCRAPE_INTERVAL}); load average ${loads.applies}`);
    applies = await measureApplies();
    // Out of the way of the outages: a second Prometheus would send every alert to Alertmanager too.
    await kubectl(['delete', 'deployment,service', VOLUME_PROM, '-n', NS, '--wait=true', '--timeout=120s'], { timeoutMs: 150_000 });
    await kubectl(['delete', 'namespace', BENCH_NS, '--wait=true', '--timeout=180s'], { timeoutMs: 200_000 });

    if (OUTAGES > 0) {
      const kindScrape = '5s'; // values-kind.yaml scrapeInterval/evaluationInterval; the demo's for: 5s
      const bound = alertBoundSeconds(kindScrape, kindScrape, '5s');
      loads.outages = load();
      log(`${OUTAGES} outages of the demo target (pipeline bound ${bound} s); load average ${loads.outages}`);
      outages = await measureOutages((bound + 90) * 1000);
    }
    loads.end = load();
  } finally {
    if (process.env.BENCH_KEEP_NODE !== '1') {
      log('tearing the node down');
      await clusterDown(LOG).catch((err: Error) => console.error(`cluster-down failed: ${err.message}`));
    }
  }

  const sidecar = summary(applies.map((a) => a.sidecarS));
  const volume = summary(applies.map((a) => a.volumeS));
  console.log(`
real node, ${new Date().toISOString().slice(0, 16)}Z, load average (1/5/15 min) at start ${loads.start}, applies ${loads.applies}, outages ${loads.outages ?? '-'}, end ${loads.end}
apply → target up (scrape interval ${SCRAPE_INTERVAL}, one apply every ${APPLY_GAP_S} s):
  sync sidecar (Vigil):                                    ${fmt(sidecar)}
  ConfigMap volume (kubelet syncFrequency ${KUBELET_SYNC}, auto-reload ${AUTO_RELOAD_INTERVAL}): ${fmt(volume)}`);
  const result: Record<string, unknown> = {
    date: new Date().toISOString(),
    loadAverage: loads,
    settings: { applies: APPLIES, applyGapS: APPLY_GAP_S, scrapeInterval: SCRAPE_INTERVAL, kubeletSyncFrequency: KUBELET_SYNC, autoReloadInterval: AUTO_RELOAD_INTERVAL, outages: OUTAGES },
    applyToTargetUp: { sidecar, volume, runs: applies },
  };
  if (outages.length > 0) {
    const firing = summary(outages.map((o) => o.firingS));
    const resolved = summary(outages.map((o) => o.resolvedS));
    console.log(`delete pod → FIRING email:     ${fmt(firing)}\nrecreate pod → RESOLVED email: ${fmt(resolved)}`);
    result.outages = { firing, resolved, runs: outages };
  }
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, 'real-node.json'), `${JSON.stringify(result, null, 2)}\n`);
  await plotRealNode();
}

await main();
