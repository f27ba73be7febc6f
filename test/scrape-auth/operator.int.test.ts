// tlsConfig and authorization from Secrets, end to end with the real programs (test/hostile/stack.ts:
// etcd + kube-apiserver with RBAC, `vigil operator` under its ServiceAccount, Prometheus 3.15.1 fed
// by its `vigil sync` sidecar): an HTTPS target whose certificate names only the Service
// (orders.shop.svc; Prometheus dials the EndpointSlice address) is scraped with the CA and
// serverName from a Secret and a bearer token from another; the ConfigMap holds neither; rotating
// the token Secret reaches the target within seconds while scrapes keep succeeding; a reference
// to a Secret that does not exist leaves that service out with a status naming it, the others
// unaffected; a Secret of the same name in another namespace is never what the target gets.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateServingPki } from '../../hack/local-stack/pki.js';
import { pollUntil } from '../../hack/local-stack/net.js';
import { OBJECT_NAMES, SCRAPE_CREDENTIALS_READER } from '../../operator/rbac.js';
import { clusterRoleName } from '../../operator/rbac-objects.js';
import { generatedFiles, INSTALL_NS, startHostileStack, type HostileStack } from '../hostile/stack.js';

const TARGET_HOST = 'orders-0.shop.vigil.localhost';
const JOB = 'vigil/shop/orders/https';
let stack: HostileStack | undefined;
let server: Server | undefined;
let caFile = '';
let accepted = new Set(['shop-token-1']);
const seen: string[] = [];

const secret = (namespace: string, name: string, data: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace },
  stringData: data,
});

function monitoredService(name: string, endpoint: Record<string, unknown>): object {
  return {
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { name, namespace: 'shop' },
    spec: { selector: { matchLabels: { app: name } }, endpoints: [{ port: 'https', scheme: 'https', interval: '2s', scrapeTimeout: '1s', ...endpoint }] },
  };
}

/** A selector-less Service and its EndpointSlice, as the endpoint controller would publish it (FQDN: the API server refuses loopback IPs). */
function serviceWithSlice(name: string, port: number): object[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop', labels: { app: name } }, spec: { ports: [{ name: 'https', port: 443, targetPort: port }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace: 'shop', labels: { app: name, 'kubernetes.io/service-name': name } },
      addressType: 'FQDN',
      endpoints: [{ addresses: [TARGET_HOST], conditions: { ready: true } }],
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    },
  ];
}

async function apply(objects: object[]): Promise<void> {
  await stack!.cluster.kubectl(['apply', '--validate=strict', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
}

interface Target {
  labels: Record<string, string>;
  health: string;
  lastError: string;
}
async function target(job: string): Promise<Target | undefined> {
  const body = (await (await fetch(`${stack!.prometheus.url}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: Target[] } };
  return body.data.activeTargets.find((t) => t.labels.job === job);
}

async function conditionOf(name: string, type: string): Promise<{ status: string; reason: string; message: string } | undefined> {
  const obj = JSON.parse(await stack!.cluster.kubectl(['get', 'monitoredservice', name, '-n', 'shop', '-o', 'json'])) as {
    status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
  };
  return obj.status?.conditions?.find((c) => c.type === type);
}

beforeAll(async () => {
  stack = await startHostileStack({ namespaces: ['shop', 'other'], extraHosts: [`127.0.0.1 ${TARGET_HOST}`] });
  const pki = await generateServingPki(join(stack.dir, 'target-pki'), ['orders.shop.svc']);
  caFile = pki.caCert;
  server = createServer({ cert: readFileSync(pki.cert), key: readFileSync(pki.key) }, (req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (token) seen.push(token);
    if (!token || !accepted.has(token)) return void res.writeHead(401).end('unauthorized\n');
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end('orders_up 1\n');
  });
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
  // shop's owners let the operator read their Secrets (the chart ships the ClusterRole unbound); other's do not.
  await stack.cluster.kubectl([
    'create',
    'rolebinding',
    'vigil-scrape-credentials',
    '-n',
    'shop',
    `--clusterrole=${clusterRoleName(SCRAPE_CREDENTIALS_READER, INSTALL_NS)}`,
    `--serviceaccount=${INSTALL_NS}:${OBJECT_NAMES.operatorServiceAccount}`,
  ]);
  const port = (server.address() as AddressInfo).port;
  await apply([
    secret('shop', 'orders-tls', { 'ca.crt': readFileSync(pki.caCert, 'utf8') }),
    secret('shop', 'orders-token', { token: 'shop-token-1' }),
    // Same name, another namespace: a reference in shop can never reach it.
    secret('other', 'orders-token', { token: 'other-namespace-token' }),
    ...serviceWithSlice('orders', port),
    monitoredService('orders', {
      tlsConfig: { ca: { secret: { name: 'orders-tls', key: 'ca.crt' } }, serverName: 'orders.shop.svc' },
      authorization: { credentials: { name: 'orders-token', key: 'token' } },
    }),
  ]);
}, 240_000);

afterAll(async () => {
  await new Promise((done) => (server ? server.close(done) : done(undefined)));
  await stack?.stop();
});

const failWith = (err: unknown) => {
  throw new Error(`${(err as Error).message}\n${stack?.logs(80) ?? ''}`);
};

test('the HTTPS target is up with the CA, serverName and token from Secrets; the ConfigMap holds none of them', async () => {
  await pollUntil('the orders target up', 90_000, async () => ((await target(JOB))?.health === 'up' ? true : undefined), { intervalMs: 500 }).catch(failWith);
  expect(seen).toContain('shop-token-1');
  expect(seen).not.toContain('other-namespace-token');
  const config = JSON.stringify(await generatedFiles(stack!.cluster, 'configmap'));
  expect(config).toContain('shop__secret__orders-token__token');
  expect(config).not.toContain('shop-token-1');
  expect(config).not.toContain('BEGIN CERTIFICATE');
  const credentials = JSON.parse(await stack!.cluster.kubectl(['get', 'secret', OBJECT_NAMES.scrapeCredentialsSecret, '-n', INSTALL_NS, '-o', 'json'])) as { data: Record<string, string> };
  expect(Object.keys(credentials.data).sort()).toEqual(['shop__secret__orders-tls__ca.crt', 'shop__secret__orders-token__token']);
}, 120_000);

test('a rotated token Secret reaches the target within seconds, scrapes keep succeeding', async () => {
  accepted = new Set(['shop-token-1', 'shop-token-2']);
  await stack!.cluster
    .kubectl(['create', 'secret', 'generic', 'orders-token', '-n', 'shop', '--from-literal=token=shop-token-2', '--dry-run=client', '-o', 'json'])
    .then((json) => stack!.cluster.kubectl(['apply', '-f', '-'], { input: json }));
  await pollUntil('a scrape with the rotated token', 60_000, async () => (seen.includes('shop-token-2') ? true : undefined), { intervalMs: 200 }).catch(failWith);
  accepted = new Set(['shop-token-2']);
  const from = seen.length;
  await pollUntil('three more scrapes', 30_000, async () => (seen.length >= from + 3 ? true : undefined), { intervalMs: 200 });
  expect(seen.slice(from).every((t) => t === 'shop-token-2')).toBe(true);
  expect((await target(JOB))?.health).toBe('up');
}, 120_000);

test('a Secret that does not exist: that service is left out with CredentialsNotFound naming it, the others run on', async () => {
  await apply([monitoredService('broken', { tlsConfig: { ca: { secret: { name: 'missing-ca', key: 'ca.crt' } }, serverName: 'orders.shop.svc' } })]);
  const applied = await pollUntil('ConfigApplied of broken', 60_000, async () => {
    const c = await conditionOf('broken', 'ConfigApplied');
    return c?.reason === 'CredentialsNotFound' ? c : undefined;
  }).catch(failWith);
  expect(applied.status).toBe('False');
  expect(applied.message).toMatch(/^Secret shop\/missing-ca does not exist: /);
  expect((await conditionOf('broken', 'Ready'))?.reason).toBe('CredentialsNotFound');
  // The rest of the config moved on without it: orders is still scraped and applied.
  await pollUntil('the orders target up', 90_000, async () => ((await target(JOB))?.health === 'up' ? true : undefined), { intervalMs: 500 }).catch(failWith);
  expect(await target('vigil/shop/broken/https')).toBeUndefined();
  // Its TargetsHealthy blames what ConfigApplied says, not the Service's endpoints.
  await pollUntil('TargetsHealthy of broken', 60_000, async () => {
    const c = await conditionOf('broken', 'TargetsHealthy');
    return c?.message === "Prometheus does not run this service's scrape jobs because of CredentialsNotFound (see ConfigApplied)" ? true : undefined;
  }).catch(failWith);
  await pollUntil('orders ConfigApplied', 60_000, async () => ((await conditionOf('orders', 'ConfigApplied'))?.status === 'True' ? true : undefined)).catch(failWith);
  // A Secret that is not a certificate would make Prometheus refuse the whole reload: still left out, saying why.
  await apply([secret('shop', 'missing-ca', { 'ca.crt': 'not a certificate' })]);
  await pollUntil('broken: no certificate', 60_000, async () => ((await conditionOf('broken', 'ConfigApplied'))?.message.includes('does not hold PEM certificates') ? true : undefined)).catch(
    failWith,
  );
  expect((await target(JOB))?.health).toBe('up');
  // A real certificate brings it in.
  await apply([secret('shop', 'missing-ca', { 'ca.crt': readFileSync(caFile, 'utf8') })]);
  await pollUntil('broken ConfigApplied', 60_000, async () => ((await conditionOf('broken', 'ConfigApplied'))?.reason !== 'CredentialsNotFound' ? true : undefined)).catch(failWith);
}, 180_000);

test('in a namespace whose owners granted nothing, the status says which RoleBinding would let the operator read', async () => {
  await stack!.cluster.kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'vigil.dev/v1alpha1',
      kind: 'MonitoredService',
      metadata: { name: 'ungranted', namespace: 'other' },
      spec: { selector: { matchLabels: { app: 'x' } }, endpoints: [{ port: 'https', scheme: 'https', authorization: { credentials: { name: 'orders-token', key: 'token' } } }] },
    }),
  });
  const applied = await pollUntil('ConfigApplied of other/ungranted', 90_000, async () => {
    const obj = JSON.parse(await stack!.cluster.kubectl(['get', 'monitoredservice', 'ungranted', '-n', 'other', '-o', 'json'])) as {
      status?: { conditions?: { type: string; reason: string; message: string }[] };
    };
    const c = obj.status?.conditions?.find((x) => x.type === 'ConfigApplied');
    return c?.reason === 'CredentialsNotFound' ? c : undefined;
  }).catch(failWith);
  expect(applied.message).toContain(`Secret other/orders-token cannot be read by the operator`);
  expect(applied.message).toContain(`kubectl create rolebinding vigil-scrape-credentials -n other --clusterrole=${clusterRoleName(SCRAPE_CREDENTIALS_READER, INSTALL_NS)}`);
  // Meanwhile the rest kept going: shop/orders is still scraped.
  expect((await target(JOB))?.health).toBe('up');
}, 120_000);

test('a reference cannot name another namespace: the API server refuses the field', async () => {
  const attempt = stack!.cluster.kubectl(['apply', '--validate=strict', '-f', '-'], {
    input: JSON.stringify(monitoredService('cross', { authorization: { credentials: { name: 'orders-token', key: 'token', namespace: 'other' } } })),
  });
  await expect(attempt).rejects.toThrow(/unknown field "spec\.endpoints\[0\]\.authorization\.credentials\.namespace"/);
}, 60_000);
