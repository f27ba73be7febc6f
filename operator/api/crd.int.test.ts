// The generated CRD against a real kube-apiserver: it installs (structural, CEL cost accepted),
// defaults are applied, the CEL rules reject what they should with a message naming the field,
// and kubectl explain / get show the descriptions and printer columns.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { startCluster, type Cluster } from '../../test/harness/cluster.js';

let cluster: Cluster | undefined;

beforeAll(async () => {
  cluster = await startCluster();
  await cluster.ensureNamespace('crd');
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const object = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'vigil.dev/v1alpha1',
  kind: 'MonitoredService',
  metadata: { name, namespace: 'crd' },
  spec: { selector: { matchLabels: { app: name } }, endpoints: [{ port: 'metrics' }], ...spec },
});

async function create(o: object) {
  return cluster!.kubectlResult(['create', '-f', '-'], { input: JSON.stringify(o) });
}

test('the example is accepted and defaulted by the API server', async () => {
  const example = parse(readFileSync('examples/checkout.yaml', 'utf8')) as Record<string, any>;
  example.metadata.namespace = 'crd';
  const result = await create(example);
  expect(result.stderr).toBe('');
  const minimal = await create(object('minimal', {}));
  expect(minimal.code).toBe(0);
  const got = JSON.parse(await cluster!.kubectl(['get', 'ms', 'minimal', '-n', 'crd', '-o', 'json']));
  expect(got.spec.endpoints[0]).toEqual({ port: 'metrics', path: '/metrics', scheme: 'http', interval: '15s', scrapeTimeout: '10s' });
  expect(got.spec.downAlert).toEqual({ enabled: true, for: '1m', severity: 'critical' });
});

test.each([
  ['timeout', { endpoints: [{ port: 'metrics', interval: '10s', scrapeTimeout: '1m' }] }, /spec\.endpoints\[0\]\.scrapeTimeout: Invalid value: .*scrapeTimeout must not exceed interval/],
  ['timeout-default', { endpoints: [{ port: 'metrics', scrapeTimeout: '20s' }] }, /scrapeTimeout must not exceed interval/],
  ['zero-interval', { endpoints: [{ port: 'metrics', interval: '0s', scrapeTimeout: '0s' }] }, /interval must be greater than 0/],
  ['day-interval', { endpoints: [{ port: 'metrics', interval: '1d' }] }, /spec\.endpoints\[0\]\.interval: Invalid value: "1d": spec\.endpoints\[0\]\.interval in body should match/],
  ['empty-selector', { selector: {} }, /spec\.selector: Invalid value: "object": selector must set matchLabels or matchExpressions/],
  ['exists-values', { selector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] } }, /spec\.selector\.matchExpressions\[0\]\.values: Invalid value: .*values must be non-empty for operators In and NotIn, and empty for Exists/],
  ['in-no-values', { selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }, /values must be non-empty for operators In and NotIn/],
  ['duplicate-rules', { rules: [{ name: 'A', expr: 'up == 0' }, { name: 'A', expr: 'up == 1' }] }, /spec\.rules\[1\]: Duplicate value/],
  ['duplicate-ports', { endpoints: [{ port: 'metrics' }, { port: 'metrics' }] }, /spec\.endpoints\[1\]: Duplicate value/],
  ['email', { notify: { email: { to: ['a@example.com\r\nBcc: b@example.com'] } } }, /spec\.notify\.email\.to\[0\]: Invalid value: .*should match/],
  ['bad-severity', { downAlert: { severity: 'page' } }, /spec\.downAlert\.severity: Unsupported value: "page"/],
])('the API server rejects %s', async (name, spec, expected) => {
  const result = await create(object(name, spec));
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(expected);
});

test('the name limit holds for names that would make invalid ConfigMap keys', async () => {
  const result = await create({ ...object('x', {}), metadata: { name: 'a'.repeat(178), namespace: 'crd' } });
  expect(result.stderr).toMatch(/metadata\.name: Too long: may not be (longer|more) than 177/);
});

test('kubectl explain shows the field descriptions', async () => {
  const out = await cluster!.kubectl(['explain', 'monitoredservice.spec.endpoints.scrapeTimeout']);
  expect(out).toMatch(/Timeout of one scrape; must not exceed interval/);
  const spec = await cluster!.kubectl(['explain', 'ms.spec']);
  expect(spec).toMatch(/What to scrape, which alerts to evaluate and who gets the emails/);
});

test('kubectl get prints the condition and target columns', async () => {
  const out = await cluster!.kubectl(['get', 'ms', '-n', 'crd']);
  expect(out.split('\n')[0]).toMatch(/^NAME\s+VALID\s+CONFIGAPPLIED\s+READY\s+HEALTHY\s+TARGETS\s+AGE$/);
});
