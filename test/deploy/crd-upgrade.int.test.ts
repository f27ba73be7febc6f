// The documented CRD upgrade (docs/deployment.md, "Upgrade"), against a real kube-apiserver and the real helm:
// an install whose CRD lacks a field (an older chart: kubectl refuses the field, a client that does not validate
// loses it silently), `helm upgrade` to this chart (Helm never touches crds/ on upgrade: still so), then `kubectl apply --server-side --force-conflicts -f charts/vigil/crds/`
// (the CRD Helm created is now this chart's: the field is kept), and `helm uninstall` leaving the CRD and the
// MonitoredServices in place.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { startCluster, type Cluster } from '../../hack/local-stack/cluster.js';
import { BIN, CHART } from './helm.js';
import { REAL_CLUSTER } from './value-sets.js';
import { runKubectl } from '../../hack/local-stack/kubectl.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const NS = 'vigil-system';
const CRD_FILE = 'vigil.dev_monitoredservices.yaml';
const SLOW = 180_000;

/** A MonitoredService using spec.notify, the field the "older" CRD lacks. */
const SERVICE = {
  apiVersion: 'vigil.dev/v1alpha1',
  kind: 'MonitoredService',
  metadata: { name: 'checkout', namespace: NS },
  spec: { selector: { matchLabels: { app: 'checkout' } }, endpoints: [{ port: 'metrics' }], notify: { email: { to: ['team@example.com'] } } },
};

describe('CRD upgrade: helm upgrade leaves the CRD alone, kubectl apply --server-side of crds/ upgrades it', () => {
  let cluster: Cluster;
  let dir: string;
  let oldChart: string;

  const helm = async (args: string[]) => {
    try {
      const { stdout } = await run(join(BIN, 'helm'), ['--kubeconfig', cluster.kubeconfigPath, ...args], { env: { ...process.env, KUBECONFIG: '' } });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`helm ${args.join(' ')}: ${e.stderr ?? e.message}`);
    }
  };
  const notifyInSchema = async () =>
    (await cluster.kubectl(['get', 'crd', 'monitoredservices.vigil.dev', '-o', 'jsonpath={.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.notify.type}'])).trim();
  /** The old CRD: kubectl's strict validation refuses the field; a client that does not validate loses it silently. */
  const expectFieldUnknown = async () => {
    const strict = await cluster.kubectlResult(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(SERVICE) });
    expect({ code: strict.code, stderr: strict.stderr }).toEqual({ code: 1, stderr: expect.stringContaining('.spec.notify: field not declared in schema') });
    await cluster.kubectl(['apply', '--validate=false', '-f', '-'], { input: JSON.stringify(SERVICE) });
    expect(await storedNotify()).toBe('');
  };
  const storedNotify = async () => (await cluster.kubectl(['get', 'monitoredservice', 'checkout', '-n', NS, '-o', 'jsonpath={.spec.notify.email.to[0]}'])).trim();

  beforeAll(async () => {
    cluster = await startCluster({ crdDir: null });
    dir = await mkdtemp(join(tmpdir(), 'vigil-crd-upgrade-'));
    try {
      // The "older" chart: this one with a CRD that has no spec.notify.
      oldChart = join(dir, 'vigil');
      await cp(CHART, oldChart, { recursive: true });
      const crd = parse(await readFile(join(CHART, 'crds', CRD_FILE), 'utf8')) as {
        spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, unknown> } } } } }[] };
      };
      for (const v of crd.spec.versions) delete v.schema.openAPIV3Schema.properties.spec.properties.notify;
      await writeFile(join(oldChart, 'crds', CRD_FILE), stringify(crd));
      await writeFile(join(dir, 'values.yaml'), stringify(REAL_CLUSTER));
      await cluster.ensureNamespace(NS);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }, SLOW);

  afterAll(async () => {
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  test(
    'helm install of the older chart: its CRD refuses or prunes the new field',
    async () => {
      await helm(['install', 'vigil', oldChart, '-n', NS, '-f', join(dir, 'values.yaml')]);
      expect(await notifyInSchema()).toBe('');
      await expectFieldUnknown();
    },
    SLOW,
  );

  test(
    'helm upgrade to this chart does not upgrade the CRD: the field is still refused or pruned',
    async () => {
      await helm(['upgrade', 'vigil', CHART, '-n', NS, '-f', join(dir, 'values.yaml')]);
      expect(await notifyInSchema()).toBe('');
      await expectFieldUnknown();
    },
    SLOW,
  );

  test(
    'kubectl apply --server-side --force-conflicts -f charts/vigil/crds/ upgrades it: the field is kept',
    async () => {
      // Without --force-conflicts server-side apply refuses: Helm created the CRD and owns its fields.
      const withoutForce = await runKubectl(join(BIN, 'kubectl'), cluster.kubeconfigPath, ['apply', '--server-side', '-f', join(CHART, 'crds')]);
      expect({ code: withoutForce.code, stderr: withoutForce.stderr }).toEqual({ code: 1, stderr: expect.stringContaining('conflict') });
      await cluster.kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(CHART, 'crds')]);
      await cluster.kubectl(['wait', '--for=condition=Established', 'crd/monitoredservices.vigil.dev', '--timeout=60s']);
      expect(await notifyInSchema()).toBe('object');
      await cluster.kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(SERVICE) });
      expect(await storedNotify()).toBe('team@example.com');
      // Helm still manages the release after the CRD changed hands.
      await helm(['upgrade', 'vigil', CHART, '-n', NS, '-f', join(dir, 'values.yaml')]);
    },
    SLOW,
  );

  test(
    'helm uninstall keeps the CRD and the MonitoredServices',
    async () => {
      // --no-hooks: no kubelet runs here, so the pre-delete Job (vigil uninstall) would never finish;
      // test/node/real-cluster-install.int.test.ts runs it on a real node.
      await helm(['uninstall', 'vigil', '-n', NS, '--no-hooks']);
      expect(await notifyInSchema()).toBe('object');
      expect(await storedNotify()).toBe('team@example.com');
      expect((await cluster.kubectl(['get', 'deployment,statefulset,configmap', '-n', NS, '-l', 'app.kubernetes.io/part-of=vigil', '-o', 'name'])).trim()).toBe('');
    },
    SLOW,
  );
});
