// The generated CRD against a real kube-apiserver: it installs (structural, CEL cost accepted),
// defaults are applied, the CEL rules reject what they should with a message naming the field,
// and kubectl explain / get show the descriptions and printer columns.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { startCluster, type Cluster } from '../../hack/local-stack/cluster.js';
import { validateMonitoredService } from '../validate/index.js';

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
  // interval and scrapeTimeout have no schema default: the renderer composes them (#11).
  expect(got.spec.endpoints[0]).toEqual({ port: 'metrics', path: '/metrics', scheme: 'http' });
  expect(got.spec.downAlert).toEqual({ enabled: true, for: '1m', severity: 'critical' });
});

test.each([
  ['timeout', { endpoints: [{ port: 'metrics', interval: '10s', scrapeTimeout: '1m' }] }, /spec\.endpoints\[0\]\.scrapeTimeout: Invalid value: .*scrapeTimeout must not exceed interval/],
  ['port-name-64', { endpoints: [{ port: 'p'.repeat(64) }] }, /spec\.endpoints\[0\]\.port: Too long: may not be (longer|more) than 63/],
  ['port-name-upper-case', { endpoints: [{ port: 'Metrics' }] }, /spec\.endpoints\[0\]\.port: Invalid value: "Metrics"/],
  ['port-name-leading-hyphen', { endpoints: [{ port: '-metrics' }] }, /spec\.endpoints\[0\]\.port: Invalid value: "-metrics"/],
  ['label-key-name-64', { selector: { matchLabels: { ['example.com/' + 'k'.repeat(64)]: 'x' } } }, /spec\.selector\.matchLabels: Invalid value: .*label keys must be Kubernetes label keys/],
  ['label-key-prefix-254', { selector: { matchLabels: { ['a'.repeat(254) + '/k']: 'x' } } }, /spec\.selector\.matchLabels: Invalid value: .*label key prefixes/],
  [
    'expression-key-prefix-254',
    { selector: { matchExpressions: [{ key: 'a'.repeat(254) + '/k', operator: 'Exists' }] } },
    /spec\.selector\.matchExpressions\[0\]\.key: Invalid value: .*label key prefixes/,
  ],
  ['rule-label-name', { rules: [{ name: 'A', expr: 'up == 0', labels: { 'team-name': 'x' } }] }, /spec\.rules\[0\]\.labels: Invalid value: .*label names must be Prometheus label names/],
  ['zero-interval', { endpoints: [{ port: 'metrics', interval: '0s', scrapeTimeout: '0s' }] }, /interval must be at least 1s/],
  ['interval-1ms', { endpoints: [{ port: 'metrics', interval: '1ms' }] }, /spec\.endpoints\[0\]\.interval: Invalid value: .*interval must be at least 1s/],
  ['timeout-999ms', { endpoints: [{ port: 'metrics', interval: '15s', scrapeTimeout: '999ms' }] }, /spec\.endpoints\[0\]\.scrapeTimeout: Invalid value: .*scrapeTimeout must be at least 1s/],
  ['day-interval', { endpoints: [{ port: 'metrics', interval: '1d' }] }, /spec\.endpoints\[0\]\.interval: Invalid value: "1d": spec\.endpoints\[0\]\.interval in body should match/],
  ['empty-selector', { selector: {} }, /spec\.selector: Invalid value: "object": selector must set matchLabels or matchExpressions/],
  [
    'exists-values',
    { selector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] } },
    /spec\.selector\.matchExpressions\[0\]\.values: Invalid value: .*values must be non-empty for operators In and NotIn, and empty for Exists/,
  ],
  ['in-no-values', { selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }, /values must be non-empty for operators In and NotIn/],
  [
    'duplicate-rules',
    {
      rules: [
        { name: 'A', expr: 'up == 0' },
        { name: 'A', expr: 'up == 1' },
      ],
    },
    /spec\.rules\[1\]: Duplicate value/,
  ],
  ['duplicate-ports', { endpoints: [{ port: 'metrics' }, { port: 'metrics' }] }, /spec\.endpoints\[1\]: Duplicate value/],
  ['email', { notify: { email: { to: ['a@example.com\r\nBcc: b@example.com'] } } }, /spec\.notify\.email\.to\[0\]: Invalid value: .*should match/],
  ['bad-severity', { downAlert: { severity: 'page' } }, /spec\.downAlert\.severity: Unsupported value: "page"/],
  // Prometheus would request /metrics%3Fformat=prometheus and get 404.
  ['interval-5m', { endpoints: [{ port: 'metrics', interval: '5m' }] }, /spec\.endpoints\[0\]\.interval: Invalid value: .*interval plus scrapeTimeout must not exceed 5m/],
  ['interval-4m-timeout-1m1s', { endpoints: [{ port: 'metrics', interval: '4m', scrapeTimeout: '1m1s' }] }, /interval plus scrapeTimeout must not exceed 5m/],
  ['timeout-only-2m31s', { endpoints: [{ port: 'metrics', scrapeTimeout: '2m31s' }] }, /spec\.endpoints\[0\]\.scrapeTimeout: Invalid value: .*must not exceed 5m/],
  ['path-query', { endpoints: [{ port: 'metrics', path: '/metrics?format=prometheus' }] }, /spec\.endpoints\[0\]\.path: Invalid value: .*path must not contain \?: .*put query parameters in params/],
  ['path-fragment', { endpoints: [{ port: 'metrics', path: '/metrics#x' }] }, /spec\.endpoints\[0\]\.path: Invalid value: .*path must not contain #/],
  ['path-percent', { endpoints: [{ port: 'metrics', path: '/a%20b' }] }, /spec\.endpoints\[0\]\.path: Invalid value: .*path must not contain %/],
  ['params-empty-list', { endpoints: [{ port: 'metrics', params: { format: [] } }] }, /spec\.endpoints\[0\]\.params\.format: Invalid value: .*should have at least 1 items/],
  ['params-empty-name', { endpoints: [{ port: 'metrics', params: { '': ['x'] } }] }, /spec\.endpoints\[0\]\.params: Invalid value: .*parameter names must be 1 to 256 characters long/],
  // Scrape TLS and authorization (api/scrape-auth.ts): what Prometheus refuses, and what would be inert.
  [
    'auth-and-basic',
    { endpoints: [{ port: 'metrics', authorization: { credentials: { name: 't', key: 'k' } }, basicAuth: { username: { name: 'a', key: 'u' }, password: { name: 'a', key: 'p' } } }] },
    /spec\.endpoints\[0\]\.basicAuth: Invalid value: .*authorization and basicAuth cannot be used together/,
  ],
  [
    'cert-no-key',
    { endpoints: [{ port: 'metrics', scheme: 'https', tlsConfig: { cert: { secret: { name: 'c', key: 'tls.crt' } } } }] },
    /spec\.endpoints\[0\]\.tlsConfig\.cert: Invalid value: .*cert needs keySecret/,
  ],
  [
    'key-no-cert',
    { endpoints: [{ port: 'metrics', scheme: 'https', tlsConfig: { keySecret: { name: 'c', key: 'tls.key' } } }] },
    /spec\.endpoints\[0\]\.tlsConfig\.keySecret: Invalid value: .*keySecret needs cert/,
  ],
  [
    'auth-type-basic',
    { endpoints: [{ port: 'metrics', authorization: { type: 'BASIC', credentials: { name: 't', key: 'k' } } }] },
    /spec\.endpoints\[0\]\.authorization\.type: Invalid value: .*use basicAuth/,
  ],
  [
    'tls-with-http',
    { endpoints: [{ port: 'metrics', tlsConfig: { serverName: 'a.b.svc' } }] },
    /spec\.endpoints\[0\]\.tlsConfig: Invalid value: .*has no effect with scheme http .*: set scheme: https/,
  ],
  [
    'ca-and-skip-verify',
    { endpoints: [{ port: 'metrics', scheme: 'https', tlsConfig: { ca: { secret: { name: 'c', key: 'ca.crt' } }, insecureSkipVerify: true } }] },
    /spec\.endpoints\[0\]\.tlsConfig\.ca: Invalid value: .*ca has no effect while insecureSkipVerify/,
  ],
  [
    'classic-without-native',
    { endpoints: [{ port: 'metrics', alwaysScrapeClassicHistograms: true }] },
    /spec\.endpoints\[0\]\.alwaysScrapeClassicHistograms: Invalid value: .*has no effect without nativeHistograms/,
  ],
  [
    'ca-both-sources',
    { endpoints: [{ port: 'metrics', scheme: 'https', tlsConfig: { ca: { secret: { name: 'c', key: 'k' }, configMap: { name: 'c', key: 'k' } } } }] },
    /spec\.endpoints\[0\]\.tlsConfig\.ca: Invalid value: .*exactly one of secret or configMap/,
  ],
])('the API server rejects %s', async (name, spec, expected) => {
  // Validation refuses it too (the operator and `vigil render` never see a different verdict).
  expect(validateMonitoredService(object(name, spec)).ok).toBe(false);
  const result = await create(object(name, spec));
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(expected);
});

// Issue #11: what Kubernetes accepts for the objects these fields name, and defaults that compose.
test.each([
  ['port-name-24', { endpoints: [{ port: 'http-web-service-metrics' }] }],
  ['port-name-63', { endpoints: [{ port: 'p'.repeat(63) }] }],
  ['interval-only-5s', { endpoints: [{ port: 'metrics', interval: '5s' }] }],
  ['timeout-only-20s', { endpoints: [{ port: 'metrics', scrapeTimeout: '20s' }] }],
  ['label-key-name-63', { selector: { matchLabels: { ['example.com/' + 'k'.repeat(63)]: 'x' } } }],
  ['label-key-prefix-253', { selector: { matchLabels: { ['a'.repeat(253) + '/k']: 'x' } } }],
  // The longest intervals with a ServiceDown for no Prometheus restart outlasts (render/restart-gap.ts; the CRD cannot know the install's evaluationInterval).
  ['interval-4m50s', { endpoints: [{ port: 'metrics', interval: '4m50s' }], downAlert: { for: '10m' } }],
  ['interval-1s', { endpoints: [{ port: 'metrics', interval: '1s' }] }],
  ['timeout-1s', { endpoints: [{ port: 'metrics', interval: '15s', scrapeTimeout: '1s' }] }],
  ['interval-4m-timeout-1m', { endpoints: [{ port: 'metrics', interval: '4m', scrapeTimeout: '1m' }], downAlert: { for: '10m' } }],
  ['timeout-only-2m30s', { endpoints: [{ port: 'metrics', scrapeTimeout: '2m30s' }], downAlert: { for: '10m' } }],
  ['params', { endpoints: [{ port: 'metrics', path: '/a+b;c=d', params: { format: ['prometheus'], 'collect[]': ['a', 'b'] } }] }],
  [
    'scrape-auth',
    {
      endpoints: [
        {
          port: 'https',
          scheme: 'https',
          tlsConfig: { ca: { configMap: { name: 'ca', key: 'ca.crt' } }, cert: { secret: { name: 'c', key: 'tls.crt' } }, keySecret: { name: 'c', key: 'tls.key' }, serverName: 'a.b.svc' },
          authorization: { credentials: { name: 't', key: 'token' } },
          nativeHistograms: true,
          alwaysScrapeClassicHistograms: true,
        },
        { port: 'admin', basicAuth: { username: { name: 'a', key: 'u' }, password: { name: 'a', key: 'p' } } },
      ],
    },
  ],
])('the API server accepts %s, and so does validation', async (name, spec) => {
  const o = object(name, spec);
  expect(validateMonitoredService(o)).toMatchObject({ ok: true });
  const result = await create(o);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
});

test('the name limit holds for names that would make invalid ConfigMap keys', async () => {
  const result = await create({ ...object('x', {}), metadata: { name: 'a'.repeat(178), namespace: 'crd' } });
  expect(result.stderr).toMatch(/metadata\.name: Too long: may not be (longer|more) than 177/);
});

test('kubectl explain shows the field descriptions', async () => {
  const out = await cluster!.kubectl(['explain', 'monitoredservice.spec.endpoints.scrapeTimeout']);
  expect(out).toMatch(/Timeout of one scrape; at least 1s/);
  const spec = await cluster!.kubectl(['explain', 'ms.spec']);
  expect(spec).toMatch(/What to scrape, which alerts to evaluate and who gets the emails/);
});

test('kubectl get prints the condition and target columns', async () => {
  const out = await cluster!.kubectl(['get', 'ms', '-n', 'crd']);
  expect(out.split('\n')[0]).toMatch(/^NAME\s+VALID\s+CONFIGAPPLIED\s+READY\s+REASON\s+HEALTHY\s+TARGETS\s+AGE$/);
});
