// What the pinned Prometheus requests for a rendered job's path and params: a loopback HTTP server
// records the request line of each scrape. The catalogue's shop/inventory admin job as rendered,
// its discovery swapped for a static target (there is no cluster here) and its interval shortened;
// beside it the same job with the query string in metrics_path, which validation refuses because
// Prometheus sends the ? percent-encoded as part of the path.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { demoSettings, loadCatalogue } from '../../test/fixtures/catalogue/index.js';
import { scrapeJobs } from './prometheus.js';

const PROMETHEUS = resolve('bin/prometheus');

let dir: string;
let server: Server;
let prometheus: ReturnType<typeof spawn> | undefined;
const requests: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-params-'));
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end('demo_up 1\n');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
});

afterAll(async () => {
  if (prometheus?.pid !== undefined && prometheus.exitCode === null) prometheus.kill('SIGKILL');
  await new Promise((done) => server.close(done));
  rmSync(dir, { recursive: true, force: true });
});

/** A rendered job scraping `target` once a second, without Kubernetes discovery or relabelling. */
function staticJob(job: Record<string, unknown>, target: string, changes: Record<string, unknown>): Record<string, unknown> {
  const { kubernetes_sd_configs: _sd, relabel_configs: _relabel, keep_dropped_targets: _kept, ...rest } = job;
  return { ...rest, scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: [target] }], ...changes };
}

test('Prometheus requests path?params as rendered, and a ? in metrics_path as %3F in the path', async () => {
  const inventory = loadCatalogue().find((s) => s.metadata.namespace === 'shop' && s.metadata.name === 'inventory');
  const admin = scrapeJobs(inventory!, demoSettings).find((j) => j.job_name === 'vigil/shop/inventory/admin');
  expect(admin).toMatchObject({ metrics_path: '/admin/metrics', params: { 'collect[]': ['stock', 'sync'], format: ['prometheus'] } });
  const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = {
    scrape_configs: [staticJob(admin!, target, {}), staticJob(admin!, target, { job_name: 'query-in-path', metrics_path: '/metrics?format=prometheus', params: undefined })],
  };
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  prometheus = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, '--web.listen-address=127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  prometheus.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const wanted = ['/admin/metrics?collect%5B%5D=stock&collect%5B%5D=sync&format=prometheus', '/metrics%3Fformat=prometheus'];
  const deadline = Date.now() + 30_000;
  while (!wanted.every((w) => requests.includes(w)) && Date.now() < deadline && prometheus.exitCode === null) await new Promise((r) => setTimeout(r, 200));
  if (!wanted.every((w) => requests.includes(w))) throw new Error(`requests seen: ${JSON.stringify([...new Set(requests)])}\nprometheus log:\n${log.slice(-4000)}`);
  expect([...new Set(requests)].sort()).toEqual([...wanted].sort());
}, 60_000);
