// Issue 23 item 3: one query view over shards and replicas, on real processes. Shard 0 runs as two
// Prometheus replicas (POD_NAME a and b, the replica external label the chart sets), shard 1 as a third
// Prometheus (c); each has a real Thanos sidecar, and a real Thanos Query deduplicates on the replica
// label. Then both replicas of shard 0 fire the same ServiceDown into one real Alertmanager, which must
// email its owner once: the generated alert_relabel_configs drop the replica label, so the replicas'
// alerts are one alert to Alertmanager.
//
// The configs are the operator's (renderConfig with the chart's replica label); only the service's
// Kubernetes discovery is replaced by a static target, as no API server runs here. Loopback ports
// only (freePorts); every process is stopped by PID in afterAll, also after a failure.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { BIN_DIR, startAlertmanager, type Alertmanager } from '../../hack/local-stack/components.js';
import { isAlertEmailFor, startMailpit, waitForAlertEmail, type Mailpit } from '../../hack/local-stack/mailpit.js';
import { freePorts, getJson, httpGet, pollUntil, sleep } from '../../hack/local-stack/net.js';
import { logTail, startProcess, type ManagedProcess } from '../../hack/local-stack/process.js';
import { MonitoredServiceSchema } from '../../operator/api/schema.js';
import { renderConfig } from '../../operator/assemble/config.js';
import { defaultSettings } from '../../operator/render/index.js';
import { jobName, refOf } from '../../operator/render/names.js';

/** The chart's replica label (cdk8s/settings.ts), valued from the pod name there and from POD_NAME here. */
const REPLICA_LABEL = 'prometheus_replica';
const NAMESPACE = 'shop';
const NAME = 'cart';
const OWNER = 'owner@example.com';

const service = MonitoredServiceSchema.parse({
  apiVersion: 'vigil.dev/v1alpha1',
  kind: 'MonitoredService',
  metadata: { namespace: NAMESPACE, name: NAME },
  spec: {
    selector: { matchLabels: { app: NAME } },
    endpoints: [{ port: 'metrics', interval: '1s' }],
    downAlert: { for: '5s' },
    notify: { email: { to: [OWNER] } },
  },
});
const SERVICE_JOB = jobName(refOf(service), 'metrics');

interface Stack {
  work: string;
  processes: ManagedProcess[];
  target?: Server;
  mailpit?: Mailpit;
  alertmanager?: Alertmanager;
  queryUrl?: string;
  /** host:port of each Prometheus by replica name. */
  prometheus: Record<string, string>;
  /** host:port of the failing target (shard 0) and of the healthy extra targets of each shard. */
  failingTarget?: string;
  /** When beforeAll began (ms since the epoch): no email of this run is older. */
  startedAt: number;
}

const stack: Stack = { work: '', processes: [], prometheus: {}, startedAt: 0 };

function started(proc: ManagedProcess): ManagedProcess {
  stack.processes.push(proc);
  return proc;
}

async function waitReady(what: string, url: string, proc: ManagedProcess): Promise<void> {
  await pollUntil(what, 60_000, async () => (await httpGet(url).catch(() => ({ status: 0 }))).status === 200, {
    intervalMs: 200,
    check: () => {
      if (!proc.isRunning()) throw new Error(`${what}: ${proc.name} exited; last log lines (${proc.logFile}):\n${logTail(proc.logFile)}`);
    },
  });
}

/**
 * prometheus.yml of one replica: the operator's file (global with the replica label, alerting with its
 * alert_relabel_configs, rule_files) with static targets instead of Kubernetes discovery.
 */
function prometheusYaml(rendered: string, jobs: { job: string; targets: string[] }[]): string {
  const doc = parse(rendered) as Record<string, unknown>;
  doc.scrape_configs = jobs.map(({ job, targets }) => ({ job_name: job, scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets }] }));
  return stringify(doc);
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function queryUp(dedup: boolean): Promise<Sample[]> {
  const body = await getJson<{ status: string; data: { result: Sample[] } }>(`${stack.queryUrl}/api/v1/query?query=up&dedup=${dedup}`);
  expect(body.status).toBe('success');
  return body.data.result;
}

const targetKey = (s: Sample) => `${s.metric.job} ${s.metric.instance}`;

beforeAll(async () => {
  stack.startedAt = Date.now();
  stack.work = await mkdtemp(join(tmpdir(), 'vigil-thanos-'));
  const [promA, promB, promC, sideHttpA, sideGrpcA, sideHttpB, sideGrpcB, sideHttpC, sideGrpcC, queryHttp, queryGrpc, amPort, smtpPort, uiPort] = await freePorts(14);

  // The service's only target answers /metrics with 500: up is 0 on both replicas of shard 0.
  stack.target = createServer((_req, res) => {
    res.statusCode = 500;
    res.end('down on purpose\n');
  });
  await new Promise<void>((resolve) => stack.target!.listen(0, '127.0.0.1', () => resolve()));
  const address = stack.target.address();
  if (address === null || typeof address === 'string') throw new Error('unexpected target address');
  stack.failingTarget = `127.0.0.1:${address.port}`;

  stack.mailpit = await startMailpit({ bin: join(BIN_DIR, 'mailpit'), dir: stack.work, smtpPort: smtpPort!, uiPort: uiPort! });
  stack.processes.push(stack.mailpit.process);

  const settings = defaultSettings({
    profile: 'demo',
    scrapeInterval: '1s',
    evaluationInterval: '1s',
    externalLabels: { cluster: 'thanos-test' },
    replicaExternalLabel: { name: REPLICA_LABEL, value: '${POD_NAME}' },
    alertmanagerTargets: [`127.0.0.1:${amPort}`],
    smtp: { smarthost: `127.0.0.1:${smtpPort}`, requireTls: false },
    selfScrapeJobs: [],
  });
  const rendered = renderConfig([service], settings);

  const amConfig = join(stack.work, 'alertmanager-config');
  await mkdir(amConfig, { recursive: true });
  for (const [file, text] of Object.entries(rendered.alertmanager)) await writeFile(join(amConfig, file), text);
  stack.alertmanager = await startAlertmanager({ dir: join(stack.work, 'alertmanager'), configDir: amConfig, port: amPort! });
  stack.processes.push(stack.alertmanager.process);

  stack.prometheus = { a: `127.0.0.1:${promA}`, b: `127.0.0.1:${promB}`, c: `127.0.0.1:${promC}` };
  // Shard 0 (a, b): the service and two healthy targets; shard 1 (c): two other healthy targets.
  const shardJobs: Record<string, { job: string; targets: string[] }[]> = {
    a: [
      { job: SERVICE_JOB, targets: [stack.failingTarget] },
      { job: 'shard0-app', targets: [stack.prometheus.c!, `127.0.0.1:${amPort}`] },
    ],
    c: [{ job: 'shard1-app', targets: [stack.prometheus.a!, stack.prometheus.b!] }],
  };
  shardJobs.b = shardJobs.a!;
  const sidecars: Record<string, { http: number; grpc: number }> = {
    a: { http: sideHttpA!, grpc: sideGrpcA! },
    b: { http: sideHttpB!, grpc: sideGrpcB! },
    c: { http: sideHttpC!, grpc: sideGrpcC! },
  };
  for (const replica of ['a', 'b', 'c']) {
    const dir = join(stack.work, `prometheus-${replica}`);
    const configDir = join(dir, 'config');
    await mkdir(join(dir, 'data'), { recursive: true });
    await mkdir(configDir, { recursive: true });
    for (const [file, text] of Object.entries(rendered.prometheus)) await writeFile(join(configDir, file), text);
    await writeFile(join(configDir, 'prometheus.yml'), prometheusYaml(rendered.prometheus['prometheus.yml']!, shardJobs[replica]!));
    const url = `http://${stack.prometheus[replica]}`;
    const prometheus = started(
      startProcess(
        `prometheus-${replica}`,
        join(BIN_DIR, 'prometheus'),
        [
          `--config.file=${join(configDir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=${stack.prometheus[replica]}`,
          `--web.external-url=${url}`,
          '--web.enable-lifecycle',
        ],
        join(dir, 'prometheus.log'),
        { ...process.env, POD_NAME: replica },
      ),
    );
    await waitReady(`Prometheus ${replica}`, `${url}/-/ready`, prometheus);
    const sidecar = started(
      startProcess(
        `thanos-sidecar-${replica}`,
        join(BIN_DIR, 'thanos'),
        ['sidecar', `--prometheus.url=${url}`, `--tsdb.path=${join(dir, 'data')}`, `--http-address=127.0.0.1:${sidecars[replica]!.http}`, `--grpc-address=127.0.0.1:${sidecars[replica]!.grpc}`],
        join(dir, 'thanos-sidecar.log'),
      ),
    );
    await waitReady(`Thanos sidecar ${replica}`, `http://127.0.0.1:${sidecars[replica]!.http}/-/ready`, sidecar);
  }

  stack.queryUrl = `http://127.0.0.1:${queryHttp}`;
  const query = started(
    startProcess(
      'thanos-query',
      join(BIN_DIR, 'thanos'),
      [
        'query',
        `--http-address=127.0.0.1:${queryHttp}`,
        `--grpc-address=127.0.0.1:${queryGrpc}`,
        `--query.replica-label=${REPLICA_LABEL}`,
        ...Object.values(sidecars).map((s) => `--endpoint=127.0.0.1:${s.grpc}`),
      ],
      join(stack.work, 'thanos-query.log'),
    ),
  );
  await waitReady('Thanos Query', `${stack.queryUrl}/-/ready`, query);
}, 180_000);

afterAll(async () => {
  for (const proc of [...stack.processes].reverse()) await proc.stop(5000);
  if (stack.target) await new Promise<void>((resolve) => stack.target!.close(() => resolve()));
  if (stack.work) await rm(stack.work, { recursive: true, force: true });
}, 60_000);

describe('Thanos Query over two replicas of one shard and a second shard', () => {
  // shard 0 (replicas a, b): the service's target and shard0-app's two; shard 1 (c): shard1-app's two.
  const expectedTargets = () =>
    [
      `${SERVICE_JOB} ${stack.failingTarget}`,
      `shard0-app ${stack.prometheus.c}`,
      `shard0-app 127.0.0.1:${stack.alertmanager!.url.split(':').pop()}`,
      `shard1-app ${stack.prometheus.a}`,
      `shard1-app ${stack.prometheus.b}`,
    ].sort();

  it('answers up once per target with deduplication, and twice per replicated target without it', async () => {
    const deduplicated = await pollUntil('every target through Thanos Query', 90_000, async () => {
      const result = await queryUp(true);
      return result.length === expectedTargets().length && result.every((s) => s.metric.job !== undefined) ? result : undefined;
    });
    expect(deduplicated.map(targetKey).sort()).toEqual(expectedTargets());
    for (const sample of deduplicated) {
      expect(sample.metric).not.toHaveProperty(REPLICA_LABEL);
      expect(sample.metric.cluster).toBe('thanos-test');
    }
    expect(deduplicated.find((s) => s.metric.job === SERVICE_JOB)!.value[1]).toBe('0');

    const raw = await queryUp(false);
    const replicasOf = new Map<string, string[]>();
    for (const sample of raw) replicasOf.set(targetKey(sample), [...(replicasOf.get(targetKey(sample)) ?? []), sample.metric[REPLICA_LABEL]!]);
    expect([...replicasOf.keys()].sort()).toEqual(expectedTargets());
    for (const [target, replicas] of replicasOf) {
      expect([target, replicas.sort()]).toEqual([target, target.startsWith('shard1-app') ? ['c'] : ['a', 'b']]);
    }
  }, 120_000);

  it('emails the owner once when both replicas fire the same alert, which reaches Alertmanager without the replica label', async () => {
    const { mail } = await waitForAlertEmail(stack.mailpit!.client, { state: 'firing', namespace: NAMESPACE, name: NAME, since: stack.startedAt, timeoutMs: Date.now() - stack.startedAt + 120_000 });
    expect((mail.To ?? []).map((a) => a.Address)).toEqual([OWNER]);

    // Both replicas fire it (each Prometheus's own view; the email may come from the first one to fire) ...
    const firingOn = async (replica: string) => {
      const alerts = await getJson<{ data: { alerts: { labels: Record<string, string>; state: string }[] } }>(`http://${stack.prometheus[replica]}/api/v1/alerts`);
      return alerts.data.alerts.filter((a) => a.labels.alertname === 'ServiceDown' && a.state === 'firing');
    };
    await pollUntil('ServiceDown firing on both replicas', 60_000, async () => (await firingOn('a')).length > 0 && (await firingOn('b')).length > 0);
    for (const replica of ['a', 'b']) expect(await firingOn(replica)).toHaveLength(1);
    // ... and Alertmanager holds one alert for them, without the replica label.
    const held = await pollUntil('ServiceDown from both replicas at Alertmanager', 30_000, async () => {
      const alerts = await getJson<{ labels: Record<string, string> }[]>(`${stack.alertmanager!.url}/api/v2/alerts?filter=alertname%3D%22ServiceDown%22`);
      return alerts.length > 0 ? alerts : undefined;
    });
    expect(held).toHaveLength(1);
    expect(held[0]!.labels).not.toHaveProperty(REPLICA_LABEL);
    expect(held[0]!.labels).toMatchObject({ vigil_namespace: NAMESPACE, vigil_monitoredservice: NAME, cluster: 'thanos-test' });

    // Both replicas keep re-sending it (every evaluation, resend delay 1m at most): past several of the
    // demo profile's group intervals (1s), a second alert would have made a second email.
    await sleep(10_000);
    const firing = (await stack.mailpit!.client.list()).filter((m) => isAlertEmailFor(m.Subject, 'firing', NAMESPACE, NAME));
    expect(firing).toHaveLength(1);
  }, 180_000);
});
