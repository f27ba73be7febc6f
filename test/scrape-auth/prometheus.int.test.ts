// The scrape jobs render/scrape-auth.ts writes, run by the pinned Prometheus against loopback
// targets: an HTTPS target whose certificate names only the Service (orders.shop.svc, not the IP
// it is scraped at), trusted through the CA and serverName from the credentials directory, that
// checks a bearer token; the token rotated in its file while Prometheus runs (no reload); a target
// exposing a native histogram, with and without nativeHistograms. Also: promtool of the same
// version refuses the combinations validation refuses as "Prometheus refuses", and accepts the
// ones validation refuses as inert (so only Vigil can catch them).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { MonitoredServiceSchema, type MonitoredServiceInput } from '../../operator/api/schema.js';
import { defaultSettings } from '../../operator/render/index.js';
import { scrapeJobs } from '../../operator/render/prometheus.js';
import { credentialFileName } from '../../operator/render/scrape-auth.js';
import { generateServingPki } from '../../hack/local-stack/pki.js';
import { nativeHistogramExposition, PROTOBUF_CONTENT_TYPE } from '../fixtures/native-histogram.js';
import { startPrometheus, waitUntil, type ServerProcess } from '../sync/servers.js';

const PROMTOOL = resolve('bin/promtool');
const SERVICE_DNS_NAME = 'orders.shop.svc';

let dir: string;
let credentialsDir: string;
let prometheus: ServerProcess | undefined;
const servers: Server[] = [];
let httpsServer: HttpsServer;
let firstCa = '';
/** Tokens the HTTPS target accepts, and the ones it saw in scrapes. */
let acceptedTokens = new Set(['token-1']);
const seenTokens: string[] = [];

const service = (name: string, endpoints: MonitoredServiceInput['spec']['endpoints']) =>
  MonitoredServiceSchema.parse({ apiVersion: 'vigil.dev/v1alpha1', kind: 'MonitoredService', metadata: { namespace: 'shop', name }, spec: { selector: { matchLabels: { app: name } }, endpoints } });

/** A rendered job scraping `target` every second, its discovery swapped for a static target (no cluster here). */
function staticJob(job: Record<string, unknown>, target: string): Record<string, unknown> {
  const { kubernetes_sd_configs: _sd, relabel_configs: _relabel, keep_dropped_targets: _kept, ...rest } = job;
  return { ...rest, scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: [target] }] };
}

/** Writes a credential file as the sync sidecar does: a temp file renamed over the old one. */
function writeCredential(ref: { kind: 'Secret' | 'ConfigMap'; name: string; key: string }, content: string | Buffer): void {
  const file = join(credentialsDir, credentialFileName({ ...ref, namespace: 'shop' }));
  writeFileSync(`${file}.tmp`, content);
  renameSync(`${file}.tmp`, file);
}

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Target {
  labels: { job: string };
  health: string;
  lastError: string;
}
async function targets(): Promise<Target[]> {
  const r = await fetch(`${prometheus!.url}/api/v1/targets?state=active`);
  return ((await r.json()) as { data: { activeTargets: Target[] } }).data.activeTargets;
}
const target = async (job: string) => (await targets()).find((t) => t.labels.job === job);

async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await fetch(`${prometheus!.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return ((await r.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-scrape-auth-'));
  credentialsDir = join(dir, 'scrape-credentials');
  mkdirSync(credentialsDir);
  const pki = await generateServingPki(join(dir, 'pki'), [SERVICE_DNS_NAME]);

  firstCa = readFileSync(pki.caCert, 'utf8');
  httpsServer = createHttpsServer({ cert: readFileSync(pki.cert), key: readFileSync(pki.key) }, (req: IncomingMessage, res: ServerResponse) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (token) seenTokens.push(token);
    if (!token || !acceptedTokens.has(token)) return void res.writeHead(401).end('unauthorized\n');
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end('orders_up 1\n');
  });
  const https = await listen(httpsServer);
  // Protobuf to whoever asks for it (Prometheus does first once native histograms are on), else text without the histogram.
  const histograms = await listen(
    createHttpServer((req, res) => {
      if ((req.headers.accept ?? '').includes('application/vnd.google.protobuf')) {
        res.writeHead(200, { 'Content-Type': PROTOBUF_CONTENT_TYPE }).end(nativeHistogramExposition('orders_latency_seconds', [2, 4], 8, { classicBuckets: true }));
      } else res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end('orders_text_only 1\n');
    }),
  );

  writeCredential({ kind: 'Secret', name: 'orders-ca', key: 'ca.crt' }, readFileSync(pki.caCert));
  writeCredential({ kind: 'Secret', name: 'orders-token', key: 'token' }, 'token-1');
  const tls = { ca: { secret: { name: 'orders-ca', key: 'ca.crt' } } };
  const auth = { credentials: { name: 'orders-token', key: 'token' } };
  const services = [
    service('orders', [{ port: 'https', scheme: 'https', tlsConfig: { ...tls, serverName: SERVICE_DNS_NAME }, authorization: auth }]),
    // The same without serverName: Prometheus checks the certificate against the address it dials.
    service('no-server-name', [{ port: 'https', scheme: 'https', tlsConfig: tls, authorization: auth }]),
    service('native', [{ port: 'metrics', nativeHistograms: true }]),
    service('both', [{ port: 'metrics', nativeHistograms: true, alwaysScrapeClassicHistograms: true }]),
    service('classic', [{ port: 'metrics' }]),
  ];
  const settings = defaultSettings({ scrapeCredentialsDir: credentialsDir });
  const jobs = services.flatMap((s) => scrapeJobs(s, settings)).map((job) => staticJob(job, String(job.scheme) === 'https' ? https : histograms));
  const configDir = join(dir, 'config');
  mkdirSync(configDir);
  writeFileSync(join(configDir, 'prometheus.yml'), stringify({ global: { scrape_interval: '1s' }, scrape_configs: jobs }));
  prometheus = await startPrometheus(configDir);
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  rmSync(dir, { recursive: true, force: true });
});

test('HTTPS with the CA and serverName from the credentials files and a bearer token: up=1; without serverName: x509', async () => {
  const up = await waitUntil('the orders target up', 30_000, async () => ((await target('vigil/shop/orders/https'))?.health === 'up' ? true : undefined), 200);
  expect(up).toBe(true);
  expect(seenTokens).toContain('token-1');
  const failing = await waitUntil('the no-server-name target down', 30_000, async () => {
    const t = await target('vigil/shop/no-server-name/https');
    return t?.health === 'down' ? t : undefined;
  });
  expect(failing.lastError).toMatch(/x509: certificate is valid for orders\.shop\.svc, not 127\.0\.0\.1|x509.*127\.0\.0\.1/);
}, 60_000);

test('a rotated token file is used from the next scrapes on, without a reload', async () => {
  const reloads = async () => Number((await query('prometheus_config_last_reload_success_timestamp_seconds'))[0]?.value[1]);
  const before = await reloads();
  acceptedTokens = new Set(['token-1', 'token-2']);
  writeCredential({ kind: 'Secret', name: 'orders-token', key: 'token' }, 'token-2');
  await waitUntil('a scrape with token-2', 30_000, async () => (seenTokens.includes('token-2') ? true : undefined), 100);
  // The old token no longer works: scrapes keep succeeding only because the new one is read.
  acceptedTokens = new Set(['token-2']);
  const seenAt = seenTokens.length;
  await waitUntil('three more scrapes', 30_000, async () => (seenTokens.length >= seenAt + 3 ? true : undefined), 100);
  expect(seenTokens.slice(seenAt).every((t) => t === 'token-2')).toBe(true);
  expect((await target('vigil/shop/orders/https'))?.health).toBe('up');
  expect(await reloads()).toBe(before);
}, 60_000);

test('a rotated CA and serving certificate: the target stays up through the change, without a reload', async () => {
  const reloads = async () => Number((await query('prometheus_config_last_reload_success_timestamp_seconds'))[0]?.value[1]);
  const before = await reloads();
  const next = await generateServingPki(join(dir, 'pki-2'), [SERVICE_DNS_NAME]);
  const ca = { kind: 'Secret' as const, name: 'orders-ca', key: 'ca.crt' };
  const upAfterScrapes = async (what: string) => {
    const from = seenTokens.length;
    await waitUntil(`three scrapes ${what}`, 30_000, async () => (seenTokens.length >= from + 3 ? true : undefined), 100);
    expect((await target('vigil/shop/orders/https'))?.health).toBe('up');
  };
  // As a Secret is rotated in practice: both CAs, then the new certificate, then the new CA alone.
  writeCredential(ca, `${firstCa}${readFileSync(next.caCert, 'utf8')}`);
  await upAfterScrapes('with both CAs');
  httpsServer.setSecureContext({ cert: readFileSync(next.cert), key: readFileSync(next.key) });
  await upAfterScrapes('with the new certificate');
  writeCredential(ca, readFileSync(next.caCert));
  await upAfterScrapes('with the new CA alone');
  expect(await reloads()).toBe(before);
}, 90_000);

test('nativeHistograms: the native histogram is queryable; without it, it is lost', async () => {
  const count = await waitUntil('histogram_count of the native job', 30_000, async () => {
    const r = await query('histogram_count(orders_latency_seconds{job="vigil/shop/native/metrics"})');
    return r.length > 0 ? r : undefined;
  });
  expect(count[0]!.value[1]).toBe('6');
  expect((await query('histogram_sum(orders_latency_seconds{job="vigil/shop/native/metrics"})'))[0]!.value[1]).toBe('8');
  await waitUntil('the classic job scraped', 30_000, async () => ((await query('orders_text_only{job="vigil/shop/classic/metrics"}')).length > 0 ? true : undefined));
  expect(await query('orders_latency_seconds{job="vigil/shop/classic/metrics"}')).toEqual([]);
}, 60_000);

test('alwaysScrapeClassicHistograms keeps the classic buckets of a histogram exposed in both kinds; without it they are dropped', async () => {
  const buckets = await waitUntil('classic buckets of the both job', 30_000, async () => {
    const r = await query('orders_latency_seconds_bucket{job="vigil/shop/both/metrics"}');
    return r.length > 0 ? r : undefined;
  });
  expect(Object.fromEntries(buckets.map((b) => [b.metric.le, b.value[1]]))).toEqual({ '1.0': '2', '2.0': '6', '+Inf': '6' });
  expect((await query('histogram_count(orders_latency_seconds{job="vigil/shop/both/metrics"})'))[0]?.value[1]).toBe('6');
  expect(await query('orders_latency_seconds_bucket{job="vigil/shop/native/metrics"}')).toEqual([]);
}, 60_000);

describe('promtool check config of the same version', () => {
  const run = promisify(execFile);
  async function check(job: Record<string, unknown>): Promise<string> {
    const file = join(dir, `promtool-${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(join(dir, 'f'), 'x\n');
    writeFileSync(file, stringify({ scrape_configs: [{ job_name: 'j', static_configs: [{ targets: ['x:1'] }], ...job }] }));
    try {
      const { stdout, stderr } = await run(PROMTOOL, ['check', 'config', file]);
      return `${stdout}${stderr}`;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return `${e.stdout ?? ''}${e.stderr ?? ''}`;
    }
  }
  const f = () => join(dir, 'f');

  test.each([
    ['authorization with basicAuth', () => ({ authorization: { credentials_file: f() }, basic_auth: { username_file: f(), password_file: f() } }), /at most one of basic_auth, oauth2 & authorization/],
    ['cert without key', () => ({ tls_config: { cert_file: f() } }), /exactly one of key or key_file must be configured/],
    ['key without cert', () => ({ tls_config: { key_file: f() } }), /exactly one of cert or cert_file must be configured/],
    ['authorization type basic', () => ({ authorization: { type: 'basic', credentials_file: f() } }), /authorization type cannot be set to "basic"/],
  ])('refuses %s, as validation does', async (_name, job, expected) => {
    const out = await check(job());
    expect(out).toContain('FAILED');
    expect(out).toMatch(expected);
  });

  test.each([
    ['tls_config with scheme http', () => ({ scheme: 'http', tls_config: { ca_file: f() } })],
    ['ca_file with insecure_skip_verify', () => ({ scheme: 'https', tls_config: { ca_file: f(), insecure_skip_verify: true } })],
  ])('accepts %s, which validation refuses as inert', async (_name, job) => {
    expect(await check(job())).toContain('SUCCESS');
  });
});
