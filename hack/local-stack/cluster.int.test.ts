// Self-test of the control-plane harness every integration test builds on.
import { existsSync } from 'node:fs';
import { startCluster, type Cluster } from './cluster.js';

let cluster: Cluster | undefined;

beforeAll(async () => {
  cluster = await startCluster();
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const monitoredService = (name: string) => ({
  apiVersion: 'vigil.dev/v1alpha1',
  kind: 'MonitoredService',
  metadata: { name, namespace: 'harness' },
  spec: { selector: { matchLabels: { app: name } }, endpoints: [{ port: 'http' }] },
});

test('kubectl applies a MonitoredService and reads it back', async () => {
  const c = cluster!;
  await c.ensureNamespace('harness');
  await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(monitoredService('web')) });
  const got = JSON.parse(await c.kubectl(['get', 'monitoredservice', 'web', '-n', 'harness', '-o', 'json'])) as {
    metadata: { name: string; uid: string };
    spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
  };
  expect(got.metadata.name).toBe('web');
  expect(got.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
  expect(got.spec.selector.matchLabels).toEqual({ app: 'web' });
  expect(got.spec.endpoints[0]?.port).toBe('http');
});

test('RBAC is enforced: a fresh ServiceAccount can do nothing, the admin everything', async () => {
  const c = cluster!;
  const kubeconfig = await c.createServiceAccountKubeconfig('harness', 'nobody');
  const whoami = await c.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig });
  expect(whoami).toBe('system:serviceaccount:harness:nobody');
  const denied = await c.kubectlResult(['get', 'monitoredservices', '-n', 'harness'], { kubeconfig });
  expect(denied.code).toBe(1);
  expect(denied.stderr).toMatch(/forbidden/);
  expect(await c.canI('system:serviceaccount:harness:nobody', 'list', 'monitoredservices.vigil.dev', { namespace: 'harness' })).toBe(false);
  expect((await c.kubectl(['auth', 'can-i', 'delete', 'customresourcedefinitions.apiextensions.k8s.io'])).trim()).toBe('yes');
  // A typo must not pass as "no".
  await expect(c.canI('system:serviceaccount:harness:nobody', 'get', 'monitoredservicez')).rejects.toThrow(/resource type/);
});

test('PodSecurity admission and server-side dry-run of pods work', async () => {
  const c = cluster!;
  await c.ensureNamespace('restricted');
  await c.kubectl(['label', 'namespace', 'restricted', 'pod-security.kubernetes.io/enforce=restricted', '--overwrite']);
  const pod = (securityContext: object) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'restricted' },
      spec: { containers: [{ name: 'c', image: 'example.invalid/app:1', securityContext }] },
    });
  const restricted = {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
  await c.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: pod(restricted) });
  const rejected = await c.kubectlResult(['apply', '--dry-run=server', '-f', '-'], { input: pod({ privileged: true }) });
  expect(rejected.code).not.toBe(0);
  expect(rejected.stderr).toMatch(/violates PodSecurity "restricted/);
});

test('the API server restarts on the same port with its data kept', async () => {
  const c = cluster!;
  const kubeconfig = await c.createServiceAccountKubeconfig('harness', 'nobody');
  await c.stopApiServer();
  expect(c.isApiServerRunning()).toBe(false);
  const down = await c.kubectlResult(['get', 'monitoredservices', '-A'], { timeoutMs: 20_000 });
  expect(down.code).not.toBe(0);
  expect(down.stderr).toMatch(/was refused|connection refused/i);
  await c.startApiServer();
  expect(c.isApiServerRunning()).toBe(true);
  const names = await c.kubectl(['get', 'monitoredservices', '-n', 'harness', '-o', 'name']);
  expect(names.trim()).toBe('monitoredservice.vigil.dev/web');
  // Writes work again and a token issued before the restart stays valid (same signing key).
  await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(monitoredService('api')) });
  expect(await c.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig })).toBe('system:serviceaccount:harness:nobody');
}, 120_000);

test('stop() ends both processes and removes the temp dir', async () => {
  const c = await startCluster({ crdDir: null });
  const dir = c.dir;
  expect(existsSync(dir)).toBe(true);
  await c.stop();
  expect(c.isApiServerRunning()).toBe(false);
  expect(existsSync(dir)).toBe(false);
  await c.stop(); // idempotent
}, 120_000);
