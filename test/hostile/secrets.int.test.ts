// Secret hygiene (issue 4, item 4), all real: the operator and both sync sidecars at debug log
// level, with an SMTP Secret holding a known password. After reconciles of every kind (a valid
// service, an invalid one, an update that makes both servers reload, a deletion), the password
// must be in exactly two places in the cluster, the Secret it came from and the generated
// Alertmanager config Secret, and nowhere else: no log line, no ConfigMap, Event or status, no
// metrics endpoint, not in what Prometheus or Alertmanager show over HTTP.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pollUntil } from '../../hack/local-stack/net.js';
import { OBJECT_NAMES } from '../../operator/rbac.js';
import { generatedFiles, INSTALL_NS, startHostileStack, waitForConfigApplied, type HostileStack } from './stack.js';

const PASSWORD = 'hunter2-VIGIL-canary';
const SMTP_SECRET = 'vigil-smtp';
const NS = 'team-a';
const TIMEOUT = 240_000;

/** Every spelling the password could leak in: plain, base64 (Secret data), JSON-escaped, URL-encoded. */
const FORMS = [PASSWORD, Buffer.from(PASSWORD).toString('base64'), JSON.stringify(PASSWORD).slice(1, -1), encodeURIComponent(PASSWORD)];
const leaks = (text: string) => FORMS.some((f) => text.includes(f));

let stack: HostileStack | undefined;

function theStack(): HostileStack {
  if (!stack) throw new Error('the stack did not start (see beforeAll)');
  return stack;
}

function service(name: string, expr: string): object {
  return {
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace: NS, name },
    spec: {
      selector: { matchLabels: { app: name } },
      endpoints: [{ port: 'metrics' }],
      rules: [{ name: 'Canary', expr }],
      notify: { email: { to: [`${name}@example.com`] } },
    },
  };
}

async function apply(obj: object): Promise<void> {
  await theStack().cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(obj) });
}

async function condition(name: string, type: string): Promise<{ status: string; reason: string } | undefined> {
  const out = await theStack().cluster.kubectlResult(['get', 'monitoredservice', name, '-n', NS, '-o', 'json']);
  if (out.code !== 0) return undefined;
  const o = JSON.parse(out.stdout) as { status?: { conditions?: { type: string; status: string; reason: string }[] } };
  return o.status?.conditions?.find((c) => c.type === type);
}

async function waitCondition(name: string, type: string, status: string): Promise<void> {
  await pollUntil(`${NS}/${name} ${type}=${status}`, 90_000, async () => (await condition(name, type))?.status === status, { intervalMs: 500 });
}

beforeAll(async () => {
  stack = await startHostileStack({
    namespaces: [NS],
    logLevel: 'debug',
    smtpSecret: { name: SMTP_SECRET, username: 'vigil-mailer', password: PASSWORD },
  });
  const s = stack;
  try {
    // A valid service: config written, both servers reload, status ConfigApplied.
    await apply(service('checkout', 'up == 0'));
    await waitCondition('checkout', 'ConfigApplied', 'True');
    // An invalid one: Valid=False, a Warning Event, nothing rendered.
    await apply(service('broken', 'up =='));
    await waitCondition('broken', 'Valid', 'False');
    // An update: new config, both sidecars reload again.
    const first = await waitForConfigApplied(s);
    await apply(service('checkout', 'up == 0 or absent(up)'));
    await pollUntil(
      'the updated config to be applied',
      90_000,
      async () => {
        const now = await waitForConfigApplied(s, 5000).catch(() => undefined);
        return now !== undefined && now.prometheus !== first.prometheus;
      },
      { intervalMs: 500 },
    );
    // A deletion.
    await apply(service('payments', 'up == 0'));
    await waitCondition('payments', 'ConfigApplied', 'True');
    await s.cluster.kubectl(['delete', 'monitoredservice', 'payments', '-n', NS]);
    await pollUntil(
      'payments to leave the applied config',
      90_000,
      async () => {
        await waitForConfigApplied(s, 5000);
        const files = await generatedFiles(s.cluster, 'configmap');
        return files[`${NS}__payments.rules.yaml`] === undefined;
      },
      { intervalMs: 500 },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${s.logs(40)}`);
  }
}, TIMEOUT);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

test('the password reaches the generated Alertmanager config Secret (else this test proves nothing)', async () => {
  const secret = await generatedFiles(theStack().cluster, 'secret');
  expect(secret['alertmanager.yml']).toContain(PASSWORD);
  // ... and, through the sidecar, Alertmanager's config file on its volume.
  expect(await readFile(join(theStack().alertmanager.configDir, 'alertmanager.yml'), 'utf8')).toContain(PASSWORD);
});

test('no log line of the operator or the sidecars holds it, at debug level', async () => {
  const s = theStack();
  for (const file of Object.values(s.vigilLogs)) {
    const text = await readFile(file, 'utf8');
    expect({ file, lines: text.split('\n').length > 3 }).toEqual({ file, lines: true });
    const offending = text.split('\n').filter(leaks);
    expect({ file, offending }).toEqual({ file, offending: [] });
  }
  // The reconciles above really were logged (the processes ran with --log-level=debug; the
  // operator logs few debug lines, so their presence is not required).
  const operatorLog = await readFile(s.vigilLogs.operator, 'utf8');
  expect(operatorLog).toMatch(/"msg":"MonitoredService rejected"/);
  expect(operatorLog).toMatch(/"msg":"wrote Alertmanager config"/);
});

test('only the source Secret and the generated Secret hold it; no ConfigMap, Event or status does', async () => {
  const c = theStack().cluster;
  const holders: string[] = [];
  for (const resource of ['secrets', 'configmaps', 'events', 'events.events.k8s.io', 'monitoredservices.vigil.dev', 'leases.coordination.k8s.io', 'serviceaccounts']) {
    const list = JSON.parse(await c.kubectl(['get', resource, '-A', '-o', 'json'])) as {
      items: { metadata: { namespace?: string; name: string }; data?: Record<string, string> }[];
    };
    for (const item of list.items) {
      // Secret values are base64 of whole files: decode them, the password's own base64 would not show.
      const decoded = resource === 'secrets' ? Object.values(item.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8')) : [];
      if ([JSON.stringify(item), ...decoded].some(leaks)) holders.push(`${resource}/${item.metadata.namespace}/${item.metadata.name}`);
    }
  }
  expect(holders.sort()).toEqual([`secrets/${INSTALL_NS}/${OBJECT_NAMES.alertmanagerSecret}`, `secrets/${INSTALL_NS}/${SMTP_SECRET}`].sort());

  // The objects the checks above would have caught it in do exist (an empty list proves nothing).
  const events = JSON.parse(await c.kubectl(['get', 'events', '-n', NS, '-o', 'json'])) as { items: { reason: string }[] };
  expect(events.items.map((e) => e.reason)).toContain('InvalidSpec');
  const cm = JSON.parse(await c.kubectl(['get', 'configmap', OBJECT_NAMES.prometheusConfigMap, '-n', INSTALL_NS, '-o', 'json'])) as { data: object };
  expect(Object.keys(cm.data)).toContain('prometheus.yml');
});

test("neither metrics endpoints nor the servers' HTTP APIs show it", async () => {
  const s = theStack();
  for (const url of s.metricsUrls) {
    const text = await (await fetch(url)).text();
    expect({ url, leaks: leaks(text) }).toEqual({ url, leaks: false });
  }
  const amStatus = await (await fetch(`${s.alertmanager.url}/api/v2/status`)).text();
  expect(amStatus).toContain('smtp_auth_password');
  expect(leaks(amStatus)).toBe(false);
  const promConfig = await (await fetch(`${s.prometheus.url}/api/v1/status/config`)).text();
  expect(leaks(promConfig)).toBe(false);
  expect(leaks(await readFile(join(s.prometheus.configDir, 'prometheus.yml'), 'utf8'))).toBe(false);
  // Alertmanager itself must not print it either (it reloaded the config several times).
  expect(leaks(await readFile(s.alertmanager.process.logFile, 'utf8'))).toBe(false);
});
