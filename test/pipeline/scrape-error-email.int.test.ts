// The down email of a misconfigured service quotes Prometheus's own scrape error (issue 21): the real
// local stack (API server, operator, Prometheus, Alertmanager, stunnel, Mailpit) with three loopback
// targets registered as `make local-target` does. tls-app serves HTTPS with a certificate of a CA
// Prometheus does not trust (x509); wrong-path answers 404 on /metrics, its reason phrase holding a
// template action that must reach the email as text; steady is healthy. The operator exports what
// its targets poll read (vigil_monitoredservice_scrape_error_info), Prometheus scrapes the operator,
// and ServiceDown's description reads it with `query` at evaluation: no rule file change, no reload.
// A deleted service's series goes away.
// Needs root (Prometheus runs in a private mount namespace); every listener is a free loopback port.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addLoopbackHost, localTargetHost, localTargetObjects } from '../../hack/local-stack/local-target.js';
import { waitForAlertEmail } from '../../hack/local-stack/mailpit.js';
import { getJson, pollUntil } from '../../hack/local-stack/net.js';
import { generateServingPki } from '../../hack/local-stack/pki.js';
import { useStack } from '../../hack/local-stack/fixture.js';
import type { Stack } from '../../hack/local-stack/stack.js';

const NAMESPACE = 'team-errors';
/** Long enough for the operator's targets poll (10 s) and Prometheus's scrape of the operator (5 s) to come first. */
const FOR = '30s';
const NOT_FOUND_PHRASE = 'Not Found {{ $labels.job }}';

const servers: Server[] = [];
let pkiDir = '';
const ports: Record<'tls' | 'notFound' | 'steady', number> = { tls: 0, notFound: 0, steady: 0 };

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return (server.address() as AddressInfo).port;
}

const METRICS = '# TYPE app_ready gauge\napp_ready 1\n';

beforeAll(async () => {
  pkiDir = await mkdtemp(join(tmpdir(), 'vigil-scrape-error-email-'));
  const pki = await generateServingPki(pkiDir, [localTargetHost('tls-app')]);
  ports.tls = await listen(
    createHttpsServer({ cert: await readFile(pki.cert), key: await readFile(pki.key) }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(METRICS);
    }),
  );
  ports.notFound = await listen(
    createHttpServer((_req, res) => {
      res.writeHead(404, NOT_FOUND_PHRASE, { 'content-type': 'text/plain' });
      res.end('no metrics here\n');
    }),
  );
  ports.steady = await listen(
    createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(METRICS);
    }),
  );
});

afterAll(async () => {
  for (const server of servers) server.close();
  if (pkiDir) await rm(pkiDir, { recursive: true, force: true });
});

// Started before the tests, stopped after them (hack/local-stack/fixture.ts).
const theStack = useStack({ name: 'scrape-error-email', applyDemo: false });

/** Registers a loopback target as `make local-target` does, its endpoint changed by `endpoint`. */
async function register(s: Stack, name: string, port: number, endpoint: Record<string, unknown>): Promise<void> {
  await addLoopbackHost(join(s.stateDir, 'prometheus', 'hosts'), localTargetHost(name));
  const objects = localTargetObjects({ name, namespace: NAMESPACE, port, to: [`${name}@example.com`], interval: '5s' }).map((o) => {
    if (o.kind !== 'MonitoredService') return o;
    const spec = o.spec as { endpoints: Record<string, unknown>[] };
    return { ...o, spec: { ...spec, endpoints: spec.endpoints.map((e) => ({ ...e, ...endpoint })), downAlert: { enabled: true, for: FOR, severity: 'critical' } } };
  });
  await s.kubectl(['apply', '-f', '-'], objects.map((o) => JSON.stringify(o)).join('\n'));
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
async function targetsHealthy(s: Stack, name: string): Promise<Condition | undefined> {
  const out = await s.kubectl(['get', 'monitoredservice', name, '-n', NAMESPACE, '-o', 'jsonpath={.status.conditions}']);
  return (out.trim() ? (JSON.parse(out) as Condition[]) : []).find((c) => c.type === 'TargetsHealthy');
}

async function instantQuery(s: Stack, expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await getJson<{ data: { result: { metric: Record<string, string>; value: [number, string] }[] } }>(`${s.prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return r.data.result;
}

/** The firing ServiceDown email of `name`, its text part with whitespace runs made one space. */
async function firingEmailText(s: Stack, name: string, since: number): Promise<{ subject: string; text: string; html: string }> {
  const { mail } = await waitForAlertEmail(s.mailpit.client, { state: 'firing', namespace: NAMESPACE, name, since, timeoutMs: 180_000 });
  const full = await s.mailpit.client.message(mail.ID);
  return { subject: mail.Subject, text: full.Text.replace(/\s+/g, ' '), html: full.HTML };
}

test('an x509 and a 404 scrape error are quoted in their ServiceDown emails with the kubectl describe line; a healthy service has no error series', async () => {
  const s = theStack();
  const since = Date.now();
  await register(s, 'tls-app', ports.tls, { scheme: 'https' });
  await register(s, 'wrong-path', ports.notFound, {});
  await register(s, 'steady', ports.steady, {});

  const tls = await pollUntil('tls-app TargetsHealthy=False TLSError', 120_000, async () => ((await targetsHealthy(s, 'tls-app'))?.reason === 'TLSError' ? targetsHealthy(s, 'tls-app') : undefined), {
    intervalMs: 1000,
  });
  expect(tls?.message).toContain('x509: certificate signed by unknown authority');
  const notFound = await pollUntil(
    'wrong-path TargetsHealthy=False HTTPErrorStatus',
    120_000,
    async () => ((await targetsHealthy(s, 'wrong-path'))?.reason === 'HTTPErrorStatus' ? targetsHealthy(s, 'wrong-path') : undefined),
    { intervalMs: 1000 },
  );
  expect(notFound?.message).toContain(`server returned HTTP status 404 ${NOT_FOUND_PHRASE}`);

  // What the operator exports, as Prometheus scraped it: one series per failing service, none for steady.
  // Waits for the reasons the status shows: a scrape of the operator taken before a target's first
  // error turned into its lasting one still holds the earlier error (e.g. a lookup before the host was known).
  const series = await pollUntil(
    'both errors scraped from the operator, with the reasons the status shows',
    60_000,
    async () => {
      const r = await instantQuery(s, `vigil_monitoredservice_scrape_error_info{job="vigil-operator", vigil_namespace="${NAMESPACE}"}`);
      const reasons = Object.fromEntries(r.map((x) => [x.metric.vigil_monitoredservice, x.metric.reason]));
      return r.length === 2 && reasons['tls-app'] === 'TLSError' && reasons['wrong-path'] === 'HTTPErrorStatus' ? r : undefined;
    },
    { intervalMs: 1000 },
  );
  const byService = Object.fromEntries(series.map((r) => [r.metric.vigil_monitoredservice, r.metric]));
  expect(Object.keys(byService).sort()).toEqual(['tls-app', 'wrong-path']);
  expect(byService['tls-app']?.reason).toBe('TLSError');
  expect(byService['tls-app']?.error).toMatch(/^Get "https:\/\/tls-app\.vigil\.localhost:\d+\/metrics": .*x509: certificate signed by unknown authority$/);
  expect(byService['wrong-path']).toMatchObject({ reason: 'HTTPErrorStatus', error: `server returned HTTP status 404 ${NOT_FOUND_PHRASE}` });
  // From here on only the operator's series changes: the emails must carry the errors without a reload.
  const lastReload = async () => (await instantQuery(s, 'prometheus_config_last_reload_success_timestamp_seconds')).map((r) => r.value[1]);
  const reloadWithErrorsKnown = await lastReload();
  expect(reloadWithErrorsKnown).toHaveLength(1);

  const tlsMail = await firingEmailText(s, 'tls-app', since);
  expect(tlsMail.subject).toContain('ServiceDown');
  expect(tlsMail.text).toContain(`Prometheus's scrape error (TLSError): ${byService['tls-app']?.error}. `);
  expect(tlsMail.text).toContain(`kubectl describe monitoredservice -n ${NAMESPACE} tls-app`);

  const notFoundMail = await firingEmailText(s, 'wrong-path', since);
  expect(notFoundMail.subject).toContain('ServiceDown');
  // The reason phrase's template action reaches the email as text, in both parts.
  expect(notFoundMail.text).toContain(`Prometheus's scrape error (HTTPErrorStatus): server returned HTTP status 404 ${NOT_FOUND_PHRASE}. `);
  expect(notFoundMail.html).toContain('{{ $labels.job }}');
  expect(notFoundMail.text).toContain(`kubectl describe monitoredservice -n ${NAMESPACE} wrong-path`);

  // The healthy service: up, Ready, no email; and no reload happened for the errors.
  await pollUntil('steady TargetsHealthy=True', 60_000, async () => (await targetsHealthy(s, 'steady'))?.status === 'True', { intervalMs: 1000 });
  const firingSteady = (await s.mailpit.client.list()).filter((m) => m.Subject.split(' ').includes(`${NAMESPACE}/steady`));
  expect(firingSteady).toEqual([]);
  expect(await lastReload()).toEqual(reloadWithErrorsKnown);

  // A deleted service's series goes; the other stays.
  await s.kubectl(['delete', 'monitoredservice', 'wrong-path', '-n', NAMESPACE]);
  await pollUntil(
    "wrong-path's error series gone, tls-app's still there",
    60_000,
    async () => {
      const r = await instantQuery(s, `vigil_monitoredservice_scrape_error_info{job="vigil-operator", vigil_namespace="${NAMESPACE}"}`);
      return r.length === 1 && r[0]?.metric.vigil_monitoredservice === 'tls-app';
    },
    { intervalMs: 1000 },
  );
}, 300_000);
