// The file writer, reloader and confirmation against a REAL Prometheus and Alertmanager (no API
// server: the reporter only records). Proves that the confirmation reads what these versions
// really export and that a rejected config leaves the server and the disk on the last good one.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../operator/observability/index.js';
import type { AnnotationChanges } from '../../operator/sync/annotations.js';
import { readDirFiles, syncDirectory } from '../../operator/sync/file-writer.js';
import type { FileSet } from '../../operator/sync/files.js';
import { createSyncMetrics } from '../../operator/sync/metrics.js';
import { freePorts } from '../../hack/local-stack/net.js';
import { createHttpReloader } from '../../operator/sync/reloader.js';
import { Syncer, type Reporter } from '../../operator/sync/syncer.js';
import { loadedPrometheusJobs, startAlertmanager, startPrometheus } from './servers.js';

const TIMEOUT = 90_000;

class RecordingReporter implements Reporter {
  annotations: Record<string, string> = {};
  events: string[] = [];
  async patchAnnotations(changes: AnnotationChanges) {
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete this.annotations[k];
      else this.annotations[k] = v;
    }
  }
  async event(type: string, reason: string) {
    this.events.push(`${type}/${reason}`);
  }
}

const promConfig = (jobs: string[]) =>
  `global: {scrape_interval: 1m}\nrule_files: ['*.rules.yaml']\nscrape_configs:\n${jobs.map((j) => `- job_name: ${j}\n  static_configs: [{targets: ['127.0.0.1:9']}]\n`).join('')}`;
const GOOD_RULES = 'groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n';
const BAD_RULES = 'groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up ==\n';

/**
 * A loopback HTTP proxy in front of the real server that forwards everything at once but answers
 * POST /-/reload only `holdMs` after the server did: the reload runs, its answer arrives too late
 * (what a busy node loading thousands of rule files looks like to the sidecar).
 */
async function lateReloadAnswerProxy(upstream: string, holdMs: number): Promise<{ url: string; reloads: number; close(): Promise<void> }> {
  const state = { reloads: 0 };
  const holds = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const isReload = req.method === 'POST' && req.url === '/-/reload';
      const upstreamRes = await fetch(`${upstream}${req.url}`, { method: req.method, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
      const body = Buffer.from(await upstreamRes.arrayBuffer());
      if (isReload) {
        state.reloads++;
        await new Promise<void>((r) => {
          const t = setTimeout(() => {
            holds.delete(t);
            r();
          }, holdMs);
          holds.add(t);
        });
      }
      if (res.destroyed) return;
      res.writeHead(upstreamRes.status, { 'content-type': upstreamRes.headers.get('content-type') ?? 'text/plain' });
      res.end(body);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get reloads() {
      return state.reloads;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const t of holds) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function setup(kind: 'prometheus' | 'alertmanager', initial: FileSet, reloaderOptions: { viaUrl?: (serverUrl: string) => Promise<string>; requestTimeoutMs?: number } = {}) {
  const dir = await mkdtemp(join(tmpdir(), `vigil-sync-${kind}-`));
  await syncDirectory(dir, initial);
  const server = kind === 'prometheus' ? await startPrometheus(dir) : await startAlertmanager(dir);
  const reporter = new RecordingReporter();
  const log = createLogger('sync-int', 'error');
  const base = reloaderOptions.viaUrl ? await reloaderOptions.viaUrl(server.url) : server.url;
  const syncer = new Syncer({
    dir,
    reloader: createHttpReloader({
      reloadUrl: `${base}/-/reload`,
      readyUrl: `${base}/-/ready`,
      log,
      ...(reloaderOptions.requestTimeoutMs ? { requestTimeoutMs: reloaderOptions.requestTimeoutMs, unansweredSettleMs: 60_000, settlePollMs: 200 } : {}),
    }),
    reporter,
    metrics: createSyncMetrics({ defaultMetrics: false }),
    log,
    retryDelay: () => 60_000,
  });
  await syncer.init();
  return { dir, server, reporter, syncer };
}

/** Stops the syncer, then the proxy in front of the server (if any), then the server; removes the dir. */
async function teardown(env: Awaited<ReturnType<typeof setup>> | undefined, proxy?: { close(): Promise<void> }): Promise<void> {
  await env?.syncer.stop();
  await proxy?.close();
  await env?.server.stop();
  if (env) await rm(env.dir, { recursive: true, force: true });
}

describe('reload + confirmation against real Prometheus (hack/versions.env)', () => {
  let env: Awaited<ReturnType<typeof setup>> | undefined;
  afterAll(() => teardown(env));

  it(
    'applies a good config, refuses a bad rule file and keeps the last good one, then applies the next good one',
    async () => {
      env = await setup('prometheus', { 'prometheus.yml': promConfig(['boot']) });
      const { syncer, server, reporter, dir } = env;
      const good = { 'prometheus.yml': promConfig(['job-a']), 'svc.rules.yaml': GOOD_RULES };
      syncer.observe({ files: good, annotations: { 'vigil.dev/config-hash': 'h-good' } });
      await syncer.idle();
      expect(reporter.annotations['vigil.dev/applied-hash']).toBe('h-good');
      expect(await loadedPrometheusJobs(server.url)).toEqual(['job-a']);

      const bad = { 'prometheus.yml': promConfig(['job-b']), 'svc.rules.yaml': BAD_RULES };
      syncer.observe({ files: bad, annotations: { ...reporter.annotations, 'vigil.dev/config-hash': 'h-bad' } });
      await syncer.idle();
      expect(reporter.annotations['vigil.dev/reload-error']).toMatch(/prometheus rejected the new config \(HTTP 500\)/);
      expect(reporter.annotations['vigil.dev/failed-hash']).toBe('h-bad');
      expect(reporter.annotations['vigil.dev/applied-hash']).toBe('h-good');
      expect(await loadedPrometheusJobs(server.url)).toEqual(['job-a']);
      expect(await readDirFiles(dir)).toEqual(good);
      expect(reporter.events).toContain('Warning/ReloadFailed');

      const next = { 'prometheus.yml': promConfig(['job-a', 'job-c']) };
      syncer.observe({ files: next, annotations: { ...reporter.annotations, 'vigil.dev/config-hash': 'h-next' } });
      await syncer.idle();
      expect(reporter.annotations['vigil.dev/applied-hash']).toBe('h-next');
      expect(reporter.annotations['vigil.dev/reload-error']).toBeUndefined();
      expect(await loadedPrometheusJobs(server.url)).toEqual(['job-a', 'job-c']);
      // The rule file of a key that disappeared is gone from disk.
      expect(Object.keys(await readDirFiles(dir))).toEqual(['prometheus.yml']);
    },
    TIMEOUT,
  );
});

describe('reload + confirmation against real Alertmanager (hack/versions.env)', () => {
  let env: Awaited<ReturnType<typeof setup>> | undefined;
  afterAll(() => teardown(env));

  it(
    'confirms by alertmanager_config_hash and keeps the last good config on a rejected one',
    async () => {
      const boot = 'route: {receiver: boot}\nreceivers: [{name: boot}]\n';
      env = await setup('alertmanager', { 'alertmanager.yml': boot });
      const { syncer, server, reporter, dir } = env;
      const good = { 'alertmanager.yml': 'route: {receiver: team-a}\nreceivers: [{name: team-a}]\n' };
      syncer.observe({ files: good, annotations: {} });
      await syncer.idle();
      expect(reporter.annotations['vigil.dev/applied-hash']).toMatch(/^sha256:/);
      const status = (await (await fetch(`${server.url}/api/v2/status`)).json()) as { config: { original: string } };
      expect(status.config.original).toContain('team-a');

      const bad = { 'alertmanager.yml': 'route: {receiver: missing}\nreceivers: [{name: team-a}]\n' };
      syncer.observe({ files: bad, annotations: { ...reporter.annotations } });
      await syncer.idle();
      expect(reporter.annotations['vigil.dev/reload-error']).toMatch(/alertmanager rejected the new config \(HTTP 500\).*missing/);
      expect(await readDirFiles(dir)).toEqual(good);
      const after = (await (await fetch(`${server.url}/api/v2/status`)).json()) as { config: { original: string } };
      expect(after.config.original).toContain('team-a');
    },
    TIMEOUT,
  );
});

describe('a reload whose answer comes after the request timed out (real Prometheus behind a slow proxy)', () => {
  let env: Awaited<ReturnType<typeof setup>> | undefined;
  let proxy: Awaited<ReturnType<typeof lateReloadAnswerProxy>> | undefined;
  afterAll(() => teardown(env, proxy));

  it(
    'is confirmed from the server itself instead of rolled back; a refused one is still rolled back',
    async () => {
      env = await setup(
        'prometheus',
        { 'prometheus.yml': promConfig(['boot']) },
        {
          viaUrl: async (url) => {
            proxy = await lateReloadAnswerProxy(url, 3000);
            return proxy.url;
          },
          requestTimeoutMs: 500,
        },
      );
      const { syncer, server, reporter, dir } = env;

      const good = { 'prometheus.yml': promConfig(['job-a']), 'svc.rules.yaml': GOOD_RULES };
      syncer.observe({ files: good, annotations: { 'vigil.dev/config-hash': 'h-good' } });
      await syncer.idle();
      expect(proxy!.reloads).toBe(1);
      expect(reporter.annotations['vigil.dev/applied-hash']).toBe('h-good');
      expect(reporter.annotations['vigil.dev/reload-error']).toBeUndefined();
      expect(reporter.events).not.toContain('Warning/ReloadFailed');
      expect(await loadedPrometheusJobs(server.url)).toEqual(['job-a']);
      expect(await readDirFiles(dir)).toEqual(good);

      // Refused by Prometheus, answer too late again: the gauge going 1 -> 0 tells it, and the last
      // good config is restored and reloaded.
      const bad = { 'prometheus.yml': promConfig(['job-b']), 'svc.rules.yaml': BAD_RULES };
      syncer.observe({ files: bad, annotations: { ...reporter.annotations, 'vigil.dev/config-hash': 'h-bad' } });
      await syncer.idle();
      expect(reporter.annotations['vigil.dev/reload-error']).toMatch(/POST .* failed: .*prometheus reports a failed reload \(prometheus_config_last_reload_successful 0\)/);
      expect(reporter.annotations['vigil.dev/applied-hash']).toBe('h-good');
      expect(reporter.events).toContain('Warning/ReloadFailed');
      expect(await readDirFiles(dir)).toEqual(good);
      // The recovery reload of the last good config is itself answered late; wait for Prometheus.
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && JSON.stringify(await loadedPrometheusJobs(server.url)) !== '["job-a"]') await new Promise((r) => setTimeout(r, 200));
      expect(await loadedPrometheusJobs(server.url)).toEqual(['job-a']);
    },
    TIMEOUT,
  );
});

test('a refused connection fails at once: the request never reached a server, so there is no reload to wait for', async () => {
  const [port] = await freePorts(1);
  const reloader = createHttpReloader({ reloadUrl: `http://127.0.0.1:${port}/-/reload`, log: createLogger('sync-int', 'error') });
  const started = Date.now();
  const outcome = await reloader.reload('prometheus', { 'prometheus.yml': promConfig(['x']) });
  expect(outcome).toEqual({ ok: false, answered: false, message: expect.stringContaining('ECONNREFUSED') });
  // Far below the 5-minute wait for an unanswered request that did reach a server.
  expect(Date.now() - started).toBeLessThan(60_000);
}, 90_000);
