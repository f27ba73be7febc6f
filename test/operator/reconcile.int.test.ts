// The controller against a real kube-apiserver, running in-process (runOperator's startOperator)
// with the vigil-operator ServiceAccount's token, so every call goes through the real RBAC.
// The sync sidecars are not running here: where a test needs ConfigApplied, it writes the
// annotations the sidecar writes (the documented operator/sync contract) and says so in its name.
import { pollUntil } from '../../hack/local-stack/net.js';
import { OBJECT_NAMES } from '../../operator/rbac.js';
import { startOperator, type RunningOperator } from '../../operator/cli/operator-command.js';
import { createLogger } from '../../operator/observability/logger.js';
import {
  INSTALL_NS,
  applyObjects,
  condition,
  getConfigMap,
  getJson,
  getSecretData,
  monitoredService,
  recordConfigMapVersions,
  simulateSidecarApplied,
  simulateSidecarFailed,
  startOperatorEnv,
  vigilJobs,
  type OperatorEnv,
} from './helpers.js';

const NS = 'team-a';
const SMTP_PASSWORD = 'S3cret-smtp-pa55word';
const OTHER_NS = 'team-b';
let env: OperatorEnv | undefined;
let operator: RunningOperator | undefined;
const logLines: string[] = [];
let recorder: Awaited<ReturnType<typeof recordConfigMapVersions>> | undefined;

beforeAll(async () => {
  env = await startOperatorEnv([NS, OTHER_NS]);
  recorder = await recordConfigMapVersions(env.cluster);
  // SMTP credentials come from a Secret through the API; they must reach only the generated Secret.
  await env.cluster.kubectl(['create', 'secret', 'generic', 'vigil-smtp', '-n', INSTALL_NS, '--from-literal=username=vigil', `--from-literal=password=${SMTP_PASSWORD}`]);
  const log = createLogger('operator', 'debug', (line) => logLines.push(line));
  operator = await startOperator(
    {
      kubeconfig: env.operatorKubeconfig,
      namespace: INSTALL_NS,
      watchNamespaces: [],
      listen: '127.0.0.1:0',
      leaderElect: false,
      logLevel: 'debug',
      identity: 'test-operator',
      smtpSecret: 'vigil-smtp',
    },
    log,
  );
}, 180_000);

afterAll(async () => {
  recorder?.stop();
  try {
    await operator?.stop();
  } finally {
    await env?.cluster.stop();
  }
}, 60_000);

function dumpOnFailure(): string {
  return `operator log tail:\n${logLines.slice(-30).join('\n')}`;
}

async function getMs(ns: string, name: string): Promise<any> {
  return getJson(env!.cluster, ['monitoredservice', name, '-n', ns]);
}

test('apply: the ConfigMap gets the scrape job and rules, the Secret the email route; status says Valid and ApplyPending', async () => {
  const c = env!.cluster;
  await applyObjects(c, [monitoredService(NS, 'checkout')]);
  const cm = await pollUntil('ConfigMap with the checkout job', 30_000, async () => {
    const cm = await getConfigMap(c);
    return vigilJobs(cm).includes(`vigil/${NS}/checkout/metrics`) ? cm : undefined;
  }).catch((e) => {
    throw new Error(`${(e as Error).message}\n${dumpOnFailure()}`);
  });
  expect(cm.data?.[`${NS}__checkout.rules.yaml`]).toContain('HighErrorRate');
  expect(cm.metadata.annotations?.['vigil.dev/config-hash']).toMatch(/^[0-9a-f]{16}$/);

  const secret = await pollUntil('Secret with the checkout route', 30_000, async () => {
    const s = await getSecretData(c);
    return s?.data['alertmanager.yml']?.includes('checkout-team@example.com') ? s : undefined;
  });
  expect(secret.annotations['vigil.dev/config-hash']).toMatch(/^[0-9a-f]{16}$/);
  expect(secret.data['alertmanager.yml']).toContain('vigil_monitoredservice');
  expect(secret.data['alertmanager.yml']).toContain(SMTP_PASSWORD);
  expect(JSON.stringify(cm)).not.toContain(SMTP_PASSWORD);

  const ms = await pollUntil('status of checkout', 30_000, async () => {
    const ms = await getMs(NS, 'checkout');
    return condition(ms, 'ConfigApplied') ? ms : undefined;
  });
  expect(ms.status.observedGeneration).toBe(ms.metadata.generation);
  expect(condition(ms, 'Valid')).toMatchObject({ status: 'True' });
  expect(condition(ms, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'ApplyPending' });
  expect(condition(ms, 'Ready')).toMatchObject({ status: 'False' });
}, 60_000);

test('ConfigApplied (sidecar annotations simulated per the sync contract): True with the hash once both report it, plus a Normal event', async () => {
  const c = env!.cluster;
  const cm = (await getConfigMap(c))!;
  const promHash = cm.metadata.annotations!['vigil.dev/config-hash']!;
  const amHash = (await getSecretData(c))!.annotations['vigil.dev/config-hash']!;
  await simulateSidecarApplied(c, 'configmap', OBJECT_NAMES.prometheusConfigMap, promHash);
  // Only Prometheus reported: still pending on Alertmanager.
  await new Promise((r) => setTimeout(r, 1500));
  expect(condition(await getMs(NS, 'checkout'), 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'ApplyPending' });
  expect(condition(await getMs(NS, 'checkout'), 'ConfigApplied')?.message).toMatch(/Alertmanager/);

  await simulateSidecarApplied(c, 'secret', OBJECT_NAMES.alertmanagerSecret, amHash);
  const ms = await pollUntil('ConfigApplied=True', 30_000, async () => {
    const ms = await getMs(NS, 'checkout');
    return condition(ms, 'ConfigApplied')?.status === 'True' ? ms : undefined;
  });
  expect(ms.status.appliedConfigHash).toBe(promHash);
  // Applied, but no Service carries app=checkout here: not Ready, and it says why (issue #15).
  expect(condition(ms, 'TargetsHealthy')).toMatchObject({ status: 'False', reason: 'NoMatchingService' });
  expect(condition(ms, 'Ready')).toMatchObject({ status: 'False', reason: 'NoMatchingService' });
  expect(condition(ms, 'Ready')?.message).toBe(`spec.selector: no Service in namespace ${NS} has labels matching "app=checkout", so Prometheus discovers no target (namespace ${NS} has no Service)`);
  const events = await pollUntil('ConfigApplied event', 30_000, async () => {
    const list = await getJson<{ items: any[] }>(c, ['events', '-n', NS, '--field-selector', 'involvedObject.name=checkout']);
    return list?.items.some((e) => e.reason === 'ConfigApplied') ? list.items : undefined;
  });
  const ev = events.find((e) => e.reason === 'ConfigApplied');
  expect(ev).toMatchObject({ type: 'Normal', involvedObject: { kind: 'MonitoredService', name: 'checkout', namespace: NS } });
}, 60_000);

test('invalid spec (passes the CRD, bad PromQL): Valid=False with a readable message and a Warning event; others unaffected, never in the ConfigMap', async () => {
  const c = env!.cluster;
  await applyObjects(c, [monitoredService(OTHER_NS, 'broken', { expr: 'sum(rate(http_requests_total[5m])' }), monitoredService(OTHER_NS, 'fine')]);
  const broken = await pollUntil('broken rejected', 30_000, async () => {
    const ms = await getMs(OTHER_NS, 'broken');
    return condition(ms, 'Valid')?.status === 'False' ? ms : undefined;
  });
  const valid = condition(broken, 'Valid')!;
  expect(valid.reason).toBe('InvalidSpec');
  expect(valid.message).toMatch(new RegExp(`^${OTHER_NS}/broken: spec\\.rules\\[0\\]\\.expr: `));
  expect(condition(broken, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
  expect(condition(broken, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'NotIncluded' });

  const warning = await pollUntil('InvalidSpec event', 30_000, async () => {
    const list = await getJson<{ items: any[] }>(c, ['events', '-n', OTHER_NS, '--field-selector', 'involvedObject.name=broken']);
    return list?.items.find((e) => e.reason === 'InvalidSpec');
  });
  expect(warning.type).toBe('Warning');
  expect(warning.message).toContain('spec.rules[0].expr');
  // kubectl describe shows it: the user-facing point of the Event.
  const described = await c.kubectl(['describe', 'monitoredservice', 'broken', '-n', OTHER_NS]);
  expect(described).toMatch(/InvalidSpec/);

  const cm = await pollUntil('fine in the ConfigMap', 30_000, async () => {
    const cm = await getConfigMap(c);
    return vigilJobs(cm).includes(`vigil/${OTHER_NS}/fine/metrics`) ? cm : undefined;
  });
  expect(vigilJobs(cm)).toContain(`vigil/${NS}/checkout/metrics`);
  expect(condition(await getMs(OTHER_NS, 'fine'), 'Valid')?.status).toBe('True');

  // Another reconcile must not repeat the event for the same generation.
  await applyObjects(c, [monitoredService(OTHER_NS, 'another')]);
  await pollUntil('another in the ConfigMap', 30_000, async () => vigilJobs(await getConfigMap(c)).includes(`vigil/${OTHER_NS}/another/metrics`));
  const list = await getJson<{ items: any[] }>(c, ['events', '-n', OTHER_NS, '--field-selector', 'involvedObject.name=broken']);
  expect(list!.items.filter((e) => e.reason === 'InvalidSpec')).toHaveLength(1);

  // Not one version of the ConfigMap ever held the broken service.
  expect(recorder!.versions.length).toBeGreaterThan(0);
  for (const v of recorder!.versions) {
    expect(vigilJobs(v)).not.toContain(`vigil/${OTHER_NS}/broken/metrics`);
    expect(Object.keys(v.data ?? {})).not.toContain(`${OTHER_NS}__broken.rules.yaml`);
  }
}, 60_000);

test('fixing the invalid object brings it in; deleting an object takes its job out', async () => {
  const c = env!.cluster;
  await applyObjects(c, [monitoredService(OTHER_NS, 'broken')]);
  await pollUntil('broken fixed and rendered', 30_000, async () => vigilJobs(await getConfigMap(c)).includes(`vigil/${OTHER_NS}/broken/metrics`));
  const ms = await pollUntil('Valid=True for the new generation', 30_000, async () => {
    const ms = await getMs(OTHER_NS, 'broken');
    return condition(ms, 'Valid')?.status === 'True' && ms.status.observedGeneration === ms.metadata.generation ? ms : undefined;
  });
  expect(ms.metadata.generation).toBe(2);

  await c.kubectl(['delete', 'monitoredservice', 'another', '-n', OTHER_NS]);
  const cm = await pollUntil('another gone', 30_000, async () => {
    const cm = await getConfigMap(c);
    return !vigilJobs(cm).includes(`vigil/${OTHER_NS}/another/metrics`) ? cm : undefined;
  });
  expect(Object.keys(cm.data ?? {})).not.toContain(`${OTHER_NS}__another.rules.yaml`);
  const secret = await getSecretData(c);
  expect(secret!.data['alertmanager.yml']).not.toContain('another-team@example.com');
}, 60_000);

test('reload failure (sidecar annotations simulated per the sync contract): the service its error names is held back, ConfigApplied=False RejectedByPrometheus with the message, and a Warning event (issue 22)', async () => {
  const c = env!.cluster;
  await applyObjects(c, [monitoredService(NS, 'payments')]);
  const cm = await pollUntil('payments rendered', 30_000, async () => {
    const cm = await getConfigMap(c);
    return vigilJobs(cm).includes(`vigil/${NS}/payments/metrics`) ? cm : undefined;
  });
  const hash = cm.metadata.annotations!['vigil.dev/config-hash']!;
  // The error names payments' rule file, as Prometheus's log does: no bisection needed (operator/controller/isolation.ts).
  await simulateSidecarFailed(
    c,
    'configmap',
    OBJECT_NAMES.prometheusConfigMap,
    hash,
    `prometheus rejected the new config (HTTP 500): error loading config: ${NS}__payments.rules.yaml: rule group invalid`,
  );
  const ms = await pollUntil('RejectedByPrometheus', 30_000, async () => {
    const ms = await getMs(NS, 'payments');
    return condition(ms, 'ConfigApplied')?.reason === 'RejectedByPrometheus' ? ms : undefined;
  });
  expect(condition(ms, 'ConfigApplied')?.message).toContain(`error loading config: ${NS}__payments.rules.yaml: rule group invalid`);
  const ev = await pollUntil('RejectedByPrometheus event', 30_000, async () => {
    const list = await getJson<{ items: any[] }>(c, ['events', '-n', NS, '--field-selector', 'involvedObject.name=payments']);
    return list?.items.find((e) => e.reason === 'RejectedByPrometheus');
  });
  expect(ev.type).toBe('Warning');
  // checkout was applied at its generation before: the still-running config keeps it applied.
  expect(condition(await getMs(NS, 'checkout'), 'ConfigApplied')?.status).toBe('True');
  // The config written next leaves payments out (no generation of it ever ran).
  const without = await pollUntil('a config without payments', 30_000, async () => {
    const cm = await getConfigMap(c);
    return cm && cm.metadata.annotations?.['vigil.dev/config-hash'] !== hash ? cm : undefined;
  });
  expect(vigilJobs(without)).not.toContain(`vigil/${NS}/payments/metrics`);
}, 60_000);

test('/metrics, /healthz and /readyz are served; the gauges reflect the objects', async () => {
  const base = `http://127.0.0.1:${operator!.listen.port}`;
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  expect((await fetch(`${base}/readyz`)).status).toBe(200);
  const text = await (await fetch(`${base}/metrics`)).text();
  expect(text).toMatch(/^vigil_monitoredservices\{state="valid"\} [1-9]/m);
  expect(text).toMatch(/^vigil_monitoredservices\{state="invalid"\} 0$/m);
  expect(text).toMatch(/^vigil_config_writes_total\{object="configmap"\} [1-9]/m);
  expect(text).toMatch(/^vigil_reconcile_duration_seconds_count\{result="success"\} [1-9]/m);
  expect(text).toMatch(/^vigil_leader 1$/m);
  expect(text).toMatch(/^vigil_workqueue_depth \d+$/m);
  // Reload counts come from the simulated sidecar annotations of the earlier tests.
  expect(text).toMatch(/^vigil_reloads_total\{target="prometheus",result="success"\} [1-9]/m);
  expect(text).toMatch(/^vigil_reloads_total\{target="prometheus",result="failure"\} [1-9]/m);
});

test('logs are JSON lines with levels and never contain Secret data', () => {
  expect(logLines.length).toBeGreaterThan(0);
  for (const line of logLines) {
    const rec = JSON.parse(line) as { level: string; component: string; msg: string };
    expect(['debug', 'info', 'warn', 'error']).toContain(rec.level);
    expect(rec.component).toBe('operator');
  }
  expect(logLines.some((l) => l.includes('wrote Prometheus config'))).toBe(true);
  expect(logLines.join('\n')).not.toContain(SMTP_PASSWORD);
});
