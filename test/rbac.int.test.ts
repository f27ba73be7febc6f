// Least privilege, proven against a real kube-apiserver: the RBAC objects the chart ships
// (operator/rbac-objects.ts) are applied, and `kubectl auth can-i --as=<ServiceAccount>` is asked
// about every verb/resource below. The expected answers are written by hand on purpose: a rule
// added to operator/rbac.ts must show up here as a deliberate change.
import { startCluster, type Cluster } from '../hack/local-stack/cluster.js';
import { installRbac, serviceAccountUser } from '../hack/local-stack/rbac.js';
import { OBJECT_NAMES, SCRAPE_CREDENTIALS_READER } from '../operator/rbac.js';
import { clusterRoleName } from '../operator/rbac-objects.js';

const NS = 'vigil-system';
const OTHER = 'team-a';
const ALL = '*';
const CM = OBJECT_NAMES.prometheusConfigMap;
const SECRET = OBJECT_NAMES.alertmanagerSecret;
const MS = 'monitoredservices.vigil.dev';
const LEASES = 'leases.coordination.k8s.io';

interface Check {
  verb: string;
  resource: string;
  /** Namespace, or ALL for every namespace (-A). */
  ns: string;
  subresource?: string;
  allowed: boolean;
}
const yes = (verb: string, resource: string, ns: string, subresource?: string): Check => ({ verb, resource, ns, subresource, allowed: true });
const no = (verb: string, resource: string, ns: string, subresource?: string): Check => ({ verb, resource, ns, subresource, allowed: false });

/** Nobody in Vigil reads Secrets outside its own namespace, nor escalates its own rights. */
const NOBODY: Check[] = [
  ...['get', 'list', 'watch'].flatMap((verb) => [no(verb, 'secrets', OTHER), no(verb, 'secrets', 'kube-system'), no(verb, 'secrets', 'default'), no(verb, 'secrets', ALL)]),
  no('delete', 'customresourcedefinitions.apiextensions.k8s.io', ALL),
  no('update', 'customresourcedefinitions.apiextensions.k8s.io', ALL),
  no('create', 'clusterroles.rbac.authorization.k8s.io', ALL),
  no('create', 'rolebindings.rbac.authorization.k8s.io', NS),
  no('bind', 'clusterroles.rbac.authorization.k8s.io', ALL),
  no('escalate', 'roles.rbac.authorization.k8s.io', NS),
  no('impersonate', 'serviceaccounts', NS),
  no('create', 'serviceaccounts', NS, 'token'),
  no('create', 'pods', NS),
  no('create', 'pods', OTHER, 'exec'),
  no('delete', 'pods', OTHER),
  no('delete', 'namespaces', ALL),
];

const MATRIX: Record<string, Check[]> = {
  [OBJECT_NAMES.operatorServiceAccount]: [
    // Reads MonitoredServices everywhere; writes only their status.
    yes('list', MS, ALL),
    yes('watch', MS, ALL),
    yes('get', MS, OTHER),
    yes('patch', MS, OTHER, 'status'),
    yes('update', MS, OTHER, 'status'),
    no('create', MS, OTHER),
    no('patch', MS, OTHER),
    no('update', MS, OTHER),
    no('delete', MS, OTHER),
    // Events go where the MonitoredService lives.
    yes('create', 'events', OTHER),
    yes('patch', 'events', OTHER),
    no('delete', 'events', OTHER),
    // Its generated ConfigMap and Secret (and the SMTP credentials) in the install namespace only.
    yes('get', `configmaps/${CM}`, NS),
    yes('update', `configmaps/${CM}`, NS),
    yes('create', 'configmaps', NS),
    yes('list', 'configmaps', NS),
    // Partition objects it no longer names (docs/contract.md): any name, in the install namespace only.
    yes('delete', 'configmaps', NS),
    no('delete', 'configmaps', OTHER),
    no('get', 'configmaps', OTHER),
    no('list', 'configmaps', ALL),
    yes('get', `secrets/${SECRET}`, NS),
    yes('update', `secrets/${SECRET}`, NS),
    yes('create', 'secrets', NS),
    no('delete', 'secrets', NS),
    // Leader election, in the install namespace only.
    yes('get', `${LEASES}/${OBJECT_NAMES.leaderLease}`, NS),
    yes('create', LEASES, NS),
    yes('update', `${LEASES}/${OBJECT_NAMES.leaderLease}`, NS),
    no('get', LEASES, 'kube-system'),
    no('update', LEASES, 'kube-node-lease'),
    // Another install's Lease, read by name only: is the install holding a claim still there?
    yes('get', `${LEASES}/${OBJECT_NAMES.leaderLease}`, OTHER),
    no('update', `${LEASES}/${OBJECT_NAMES.leaderLease}`, OTHER),
    no('delete', `${LEASES}/${OBJECT_NAMES.leaderLease}`, OTHER),
    no('get', `${LEASES}/kube-scheduler`, 'kube-system'),
    no('list', LEASES, ALL),
    no('watch', LEASES, OTHER),
    // Nothing about workloads.
    no('get', 'pods', OTHER),
    no('list', 'pods', ALL),
    // Services, read only: status names the ports and Services a selector finds (issue #15).
    yes('list', 'services', ALL),
    yes('watch', 'services', ALL),
    no('update', 'services', OTHER),
    no('list', 'endpoints', ALL),
    no('get', 'customresourcedefinitions.apiextensions.k8s.io', ALL),
    ...NOBODY,
  ],
  [OBJECT_NAMES.prometheusServiceAccount]: [
    // Service discovery, cluster-wide, read only.
    yes('list', 'services', ALL),
    yes('watch', 'services', ALL),
    yes('list', 'endpoints', ALL),
    yes('watch', 'endpoints', ALL),
    yes('list', 'pods', ALL),
    yes('watch', 'pods', ALL),
    yes('get', 'pods', OTHER),
    yes('list', 'endpointslices.discovery.k8s.io', ALL),
    yes('watch', 'endpointslices.discovery.k8s.io', ALL),
    no('delete', 'pods', NS),
    no('create', 'services', OTHER),
    no('update', 'endpoints', OTHER),
    no('list', 'nodes', ALL),
    // The sync sidecar: its one ConfigMap, read and annotate.
    yes('get', `configmaps/${CM}`, NS),
    yes('watch', `configmaps/${CM}`, NS),
    yes('list', `configmaps/${CM}`, NS),
    yes('patch', `configmaps/${CM}`, NS),
    no('update', `configmaps/${CM}`, NS),
    no('delete', `configmaps/${CM}`, NS),
    // The partition objects, found by label: list and watch of the install namespace's ConfigMaps, no get by name of others, no write.
    yes('list', 'configmaps', NS),
    yes('watch', 'configmaps', NS),
    no('list', 'configmaps', OTHER),
    no('patch', 'configmaps/some-other-config', NS),
    no('delete', 'configmaps/some-other-config', NS),
    no('get', 'configmaps/some-other-config', NS),
    no('get', `configmaps/${CM}`, OTHER),
    yes('create', 'events', NS),
    // The operator's scrape-credentials Secret, read only; no other Secret, not even Alertmanager's.
    yes('get', `secrets/${OBJECT_NAMES.scrapeCredentialsSecret}`, NS),
    yes('list', `secrets/${OBJECT_NAMES.scrapeCredentialsSecret}`, NS),
    yes('watch', `secrets/${OBJECT_NAMES.scrapeCredentialsSecret}`, NS),
    no('patch', `secrets/${OBJECT_NAMES.scrapeCredentialsSecret}`, NS),
    no('update', `secrets/${OBJECT_NAMES.scrapeCredentialsSecret}`, NS),
    no('get', `secrets/${SECRET}`, NS),
    no('list', 'secrets', NS),
    no('list', MS, ALL),
    ...NOBODY,
  ],
  [OBJECT_NAMES.alertmanagerServiceAccount]: [
    // The sync sidecar: its one Secret.
    yes('get', `secrets/${SECRET}`, NS),
    yes('watch', `secrets/${SECRET}`, NS),
    yes('list', `secrets/${SECRET}`, NS),
    yes('patch', `secrets/${SECRET}`, NS),
    no('update', `secrets/${SECRET}`, NS),
    no('delete', `secrets/${SECRET}`, NS),
    no('get', 'secrets/some-other-secret', NS),
    no('list', 'secrets', NS),
    no('watch', 'secrets', NS),
    yes('create', 'events', NS),
    no('get', `configmaps/${CM}`, NS),
    no('list', 'configmaps', NS),
    no('list', 'pods', ALL),
    no('list', MS, ALL),
    ...NOBODY,
  ],
  [OBJECT_NAMES.helmTestServiceAccount]: [
    // The helm test pod adopts itself: reads the settings ConfigMap's uid, patches only its own ownerReferences.
    yes('get', `configmaps/${OBJECT_NAMES.settingsConfigMap}`, NS),
    no('get', `configmaps/${CM}`, NS),
    no('list', 'configmaps', NS),
    no('update', `configmaps/${OBJECT_NAMES.settingsConfigMap}`, NS),
    yes('patch', `pods/${OBJECT_NAMES.helmTestPod}`, NS),
    no('patch', 'pods/vigil-operator-abc', NS),
    no('get', 'pods', NS),
    no('delete', `pods/${OBJECT_NAMES.helmTestPod}`, NS),
    no('patch', `pods/${OBJECT_NAMES.helmTestPod}`, OTHER),
    no('get', `secrets/${SECRET}`, NS),
    no('list', MS, ALL),
    ...NOBODY,
  ],
  // An unrelated ServiceAccount in the install namespace gets nothing from Vigil's bindings.
  default: [no('list', MS, ALL), no('get', `configmaps/${CM}`, NS), no('get', `secrets/${SECRET}`, NS), no('list', 'pods', ALL), ...NOBODY],
};

const describeCheck = (c: Check) => `${c.allowed ? 'may' : 'may not'} ${c.verb} ${c.resource}${c.subresource ? `/${c.subresource}` : ''} ${c.ns === ALL ? 'in all namespaces' : `in ${c.ns}`}`;

const rows = Object.entries(MATRIX).flatMap(([sa, checks]) => checks.map((check) => ({ sa, check, title: `${sa} ${describeCheck(check)}` })));

let cluster: Cluster | undefined;
const answers = new Map<string, boolean | Error>();

beforeAll(async () => {
  cluster = await startCluster();
  await installRbac(cluster, NS);
  await cluster.ensureNamespace(OTHER);
  const c = cluster;
  // ~200 kubectl runs: a few at a time, so the suite takes seconds, not minutes, on 2 cores.
  const queue = [...rows];
  const worker = async () => {
    for (let row = queue.shift(); row; row = queue.shift()) {
      const { check } = row;
      try {
        answers.set(row.title, await c.canI(serviceAccountUser(NS, row.sa), check.verb, check.resource, { namespace: check.ns, subresource: check.subresource }));
      } catch (err) {
        answers.set(row.title, err as Error);
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

test('the RBAC objects are installed as expected', async () => {
  const roles = JSON.parse(await cluster!.kubectl(['get', 'roles,rolebindings,serviceaccounts', '-n', NS, '-l', 'app.kubernetes.io/part-of=vigil', '-o', 'json'])) as {
    items: { kind: string; metadata: { name: string } }[];
  };
  const names = roles.items.map((i) => `${i.kind}/${i.metadata.name}`).sort();
  expect(names).toEqual([
    'Role/vigil-alertmanager-sync',
    'Role/vigil-operator',
    'Role/vigil-operator-partitions',
    'Role/vigil-prometheus-sync',
    'Role/vigil-prometheus-sync-partitions',
    'Role/vigil-test',
    'RoleBinding/vigil-alertmanager-sync',
    'RoleBinding/vigil-operator',
    'RoleBinding/vigil-operator-partitions',
    'RoleBinding/vigil-prometheus-sync',
    'RoleBinding/vigil-prometheus-sync-partitions',
    'RoleBinding/vigil-test',
    'ServiceAccount/vigil-alertmanager',
    'ServiceAccount/vigil-operator',
    'ServiceAccount/vigil-prometheus',
    'ServiceAccount/vigil-test',
  ]);
});

test.each(rows.map((r) => [r.title, r.check.allowed] as const))('%s', (title, allowed) => {
  const answer = answers.get(title);
  if (answer instanceof Error) throw answer;
  expect(answer).toBe(allowed);
});

test("scrape credentials: the operator reads a team's Secrets only where the team bound the shipped ClusterRole", async () => {
  const c = cluster!;
  const operator = serviceAccountUser(NS, OBJECT_NAMES.operatorServiceAccount);
  const reader = clusterRoleName(SCRAPE_CREDENTIALS_READER, NS);
  const bindings = JSON.parse(await c.kubectl(['get', 'clusterrolebindings', '-o', 'json'])) as { items: { roleRef: { name: string } }[] };
  expect(bindings.items.filter((b) => b.roleRef.name === reader)).toEqual([]);
  await c.ensureNamespace('team-b');
  expect(await c.canI(operator, 'get', 'secrets', { namespace: 'team-b' })).toBe(false);
  await c.kubectl(['create', 'rolebinding', 'vigil-scrape-credentials', '-n', 'team-b', `--clusterrole=${reader}`, `--serviceaccount=${NS}:${OBJECT_NAMES.operatorServiceAccount}`]);
  for (const verb of ['get', 'list', 'watch']) {
    expect(await c.canI(operator, verb, 'secrets', { namespace: 'team-b' })).toBe(true);
    expect(await c.canI(operator, verb, 'configmaps', { namespace: 'team-b' })).toBe(true);
  }
  expect(await c.canI(operator, 'update', 'secrets', { namespace: 'team-b' })).toBe(false);
  expect(await c.canI(operator, 'get', 'secrets', { namespace: OTHER })).toBe(false);
  expect(await c.canI(operator, 'get', 'secrets', { namespace: 'kube-system' })).toBe(false);
  expect(await c.canI(serviceAccountUser(NS, OBJECT_NAMES.prometheusServiceAccount), 'get', 'secrets', { namespace: 'team-b' })).toBe(false);
});

test('a ServiceAccount token really is refused what can-i says no to', async () => {
  // can-i asks the authorizer; this makes the real request with a TokenRequest-issued token.
  const c = cluster!;
  await c.kubectl(['create', 'secret', 'generic', 'team-secret', '-n', OTHER, '--from-literal=password=hunter2']);
  await c.kubectl(['create', 'configmap', CM, '-n', NS, '--from-literal=prometheus.yml=global: {}']);
  const prometheus = await c.createServiceAccountKubeconfig(NS, OBJECT_NAMES.prometheusServiceAccount);
  const denied = await c.kubectlResult(['get', 'secret', 'team-secret', '-n', OTHER], { kubeconfig: prometheus });
  expect(denied.code).not.toBe(0);
  expect(denied.stderr).toContain('forbidden');
  const allowed = await c.kubectl(['get', 'configmap', CM, '-n', NS, '-o', 'jsonpath={.data.prometheus\\.yml}'], { kubeconfig: prometheus });
  expect(allowed).toBe('global: {}');
});
