// The syncer's decisions with the real file writer on a temp dir and a scripted reloader/reporter
// (the real Prometheus/Alertmanager/API versions of these run in test/sync/*.int.test.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../observability/index.js';
import type { AnnotationChanges } from './annotations.js';
import { contentHash, type FileSet } from './files.js';
import { loadLastGood, readDirFiles } from './file-writer.js';
import { createSyncMetrics } from './metrics.js';
import type { ReloadOutcome, Reloader } from './reloader.js';
import { Syncer, type ObservedObject, type Reporter } from './syncer.js';

class FakeServer implements Reloader {
  reloads: FileSet[] = [];
  /** Files containing this text are "rejected" like a bad rule file. */
  rejectIfContains = 'BROKEN';
  async reload(_kind: string, files: FileSet): Promise<ReloadOutcome> {
    this.reloads.push({ ...files });
    if (Object.values(files).some((c) => c.includes(this.rejectIfContains))) return { ok: false, message: 'prometheus rejected the new config (HTTP 500): bad rule', answered: true };
    return { ok: true };
  }
}

class RecordingReporter implements Reporter {
  annotations: Record<string, string> = {};
  patches: AnnotationChanges[] = [];
  events: Array<{ type: string; reason: string; message: string }> = [];
  async patchAnnotations(changes: AnnotationChanges) {
    this.patches.push(changes);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete this.annotations[k];
      else this.annotations[k] = v;
    }
  }
  async event(type: 'Normal' | 'Warning', reason: string, message: string) {
    this.events.push({ type, reason, message });
  }
}

const obj = (files: FileSet, annotations: Record<string, string> = {}): ObservedObject => ({ files, annotations });
const GOOD = { 'prometheus.yml': 'scrape_configs: []\n', 'a.rules.yaml': 'groups: []\n' };
const GOOD2 = { 'prometheus.yml': 'scrape_configs: [{job_name: x}]\n' };
const BAD = { 'prometheus.yml': 'scrape_configs: []\n', 'a.rules.yaml': 'BROKEN\n' };

describe('Syncer', () => {
  let dir: string;
  let server: FakeServer;
  let reporter: RecordingReporter;
  let syncer: Syncer;
  let retryScheduled: number[];
  const metrics = createSyncMetrics({ defaultMetrics: false });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-syncer-'));
    server = new FakeServer();
    reporter = new RecordingReporter();
    retryScheduled = [];
    syncer = new Syncer({
      dir,
      reloader: server,
      reporter,
      metrics,
      log: createLogger('sync-test', 'error'),
      retryDelay: (failures) => {
        retryScheduled.push(failures);
        return 60_000; // tests drive retries by new content, not by time
      },
    });
    await syncer.init();
  });
  afterEach(async () => {
    await syncer.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const observe = async (o: ObservedObject) => {
    syncer.observe(o);
    await syncer.idle();
  };

  it('writes, reloads and reports the operator hash (or the content hash without one)', async () => {
    await observe(obj(GOOD, { 'vigil.dev/config-hash': 'op-hash-1' }));
    expect(await readDirFiles(dir)).toEqual(GOOD);
    expect(server.reloads).toHaveLength(1);
    expect(reporter.annotations['vigil.dev/applied-hash']).toBe('op-hash-1');
    expect(reporter.annotations['vigil.dev/applied-at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(syncer.hasGoodConfig()).toBe(true);
    expect(await loadLastGood(dir)).toEqual(GOOD);
    await observe(obj(GOOD2));
    expect(reporter.annotations['vigil.dev/applied-hash']).toBe(contentHash(GOOD2));
    expect(await readDirFiles(dir)).toEqual(GOOD2);
  });

  it('does not reload again for an annotation-only change (the echo of its own patch)', async () => {
    await observe(obj(GOOD));
    const patches = reporter.patches.length;
    await observe(obj(GOOD, { ...reporter.annotations }));
    expect(server.reloads).toHaveLength(1);
    expect(reporter.patches).toHaveLength(patches);
  });

  it('re-patches when someone removed the applied-hash, without reloading', async () => {
    await observe(obj(GOOD));
    await observe(obj(GOOD, {}));
    expect(server.reloads).toHaveLength(1);
    expect(reporter.patches.at(-1)).toMatchObject({ 'vigil.dev/applied-hash': contentHash(GOOD) });
  });

  it('with partitionsReader, reports under the reader annotations on an object that offers partitions, and only there', async () => {
    await syncer.stop();
    syncer = new Syncer({ dir, reloader: server, reporter, metrics, log: createLogger('sync-test', 'error'), retryDelay: () => 60_000, partitionsReader: true });
    await syncer.init();
    await observe(obj(GOOD, { 'vigil.dev/config-hash': 'h1' }));
    expect(reporter.annotations['vigil.dev/applied-hash']).toBe('h1');
    expect(reporter.annotations['vigil.dev/reader-applied-hash']).toBeUndefined();
    // The operator offers partitions (and removes the plain reports): the same config, reported as a reader, no reload.
    await observe(obj(GOOD, { 'vigil.dev/config-hash': 'h1', 'vigil.dev/partitions-offered': 'true' }));
    expect(server.reloads).toHaveLength(1);
    expect(reporter.patches.at(-1)).toEqual({ 'vigil.dev/reader-applied-hash': 'h1', 'vigil.dev/reader-applied-at': expect.stringMatching(/Z$/) });
    const offer = { 'vigil.dev/partitions-offered': 'true' };
    await observe(obj(BAD, { ...reporter.annotations, ...offer, 'vigil.dev/config-hash': 'h2' }));
    expect(reporter.patches.at(-1)).toEqual({ 'vigil.dev/reader-reload-error': expect.stringContaining('bad rule'), 'vigil.dev/reader-failed-hash': 'h2' });
    await observe(obj(GOOD2, { ...reporter.annotations, ...offer, 'vigil.dev/config-hash': 'h3' }));
    expect(reporter.annotations).toMatchObject({ 'vigil.dev/reader-applied-hash': 'h3', 'vigil.dev/applied-hash': 'h1' });
    expect(reporter.annotations['vigil.dev/reader-failed-hash']).toBeUndefined();
  });

  it("as replica 1, reports under its own keys with its pod, beside replica 0's report, and a reader as replica 1 too", async () => {
    await syncer.stop();
    syncer = new Syncer({
      dir,
      reloader: server,
      reporter,
      metrics,
      log: createLogger('sync-test', 'error'),
      retryDelay: () => 60_000,
      partitionsReader: true,
      replica: 1,
      podName: 'vigil-prometheus-1',
    });
    await syncer.init();
    const replica0 = { 'vigil.dev/applied-hash': 'h0', 'vigil.dev/applied-at': '2026-01-01T00:00:00Z' };
    await observe(obj(GOOD, { 'vigil.dev/config-hash': 'h1', ...replica0 }));
    expect(reporter.patches.at(-1)).toEqual({
      'vigil.dev/applied-hash.replica-1': 'h1',
      'vigil.dev/applied-at.replica-1': expect.stringMatching(/Z$/),
      'vigil.dev/reporter-pod.replica-1': 'vigil-prometheus-1',
    });
    // Its echo (with replica 0's report, which it never touches) patches nothing.
    const patches = reporter.patches.length;
    await observe(obj(GOOD, { 'vigil.dev/config-hash': 'h1', ...replica0, ...reporter.annotations }));
    expect(reporter.patches).toHaveLength(patches);
    await observe(obj(BAD, { ...replica0, ...reporter.annotations, 'vigil.dev/config-hash': 'h2', 'vigil.dev/partitions-offered': 'true' }));
    expect(reporter.patches.at(-1)).toEqual({ 'vigil.dev/reader-reload-error.replica-1': expect.stringContaining('bad rule'), 'vigil.dev/reader-failed-hash.replica-1': 'h2' });
    expect(Object.keys(reporter.annotations).filter((key) => !key.endsWith('.replica-1'))).toEqual([]);
  });

  it('without partitionsReader, reports under the plain annotations also where partitions are offered (a sidecar from before partitions)', async () => {
    await observe(obj(GOOD, { 'vigil.dev/config-hash': 'h1', 'vigil.dev/partitions-offered': 'true' }));
    expect(reporter.annotations['vigil.dev/applied-hash']).toBe('h1');
    expect(reporter.annotations['vigil.dev/reader-applied-hash']).toBeUndefined();
  });

  it('on a rejected reload restores the last good files, reports the error once and schedules a retry', async () => {
    await observe(obj(GOOD));
    await observe(obj(BAD, { ...reporter.annotations, 'vigil.dev/config-hash': 'bad-hash' }));
    expect(await readDirFiles(dir)).toEqual(GOOD);
    expect(reporter.annotations['vigil.dev/reload-error']).toMatch(/bad rule/);
    expect(reporter.annotations['vigil.dev/failed-hash']).toBe('bad-hash');
    expect(reporter.annotations['vigil.dev/applied-hash']).toBe(contentHash(GOOD));
    expect(reporter.events.filter((e) => e.type === 'Warning')).toEqual([{ type: 'Warning', reason: 'ReloadFailed', message: expect.stringContaining('bad-hash was not applied') }]);
    expect(retryScheduled).toEqual([1]);
    // Good, bad, then the recovery reload of the last good files (a failed reload is not atomic).
    expect(server.reloads).toEqual([GOOD, BAD, GOOD]);
    // The echo of the failure patch does not trigger another reload before the retry is due.
    await observe(obj(BAD, { ...reporter.annotations, 'vigil.dev/config-hash': 'bad-hash' }));
    expect(server.reloads).toHaveLength(3);
    // A content change retries at once; success clears the error.
    await observe(obj(GOOD2, { ...reporter.annotations, 'vigil.dev/config-hash': 'good2-hash' }));
    expect(server.reloads).toHaveLength(4);
    expect(reporter.annotations['vigil.dev/applied-hash']).toBe('good2-hash');
    expect(reporter.annotations['vigil.dev/reload-error']).toBeUndefined();
    expect(reporter.annotations['vigil.dev/failed-hash']).toBeUndefined();
    expect(await readDirFiles(dir)).toEqual(GOOD2);
  });

  it('reverting to the running config needs no reload', async () => {
    await observe(obj(GOOD));
    await observe(obj(BAD));
    await observe(obj(GOOD, { ...reporter.annotations }));
    expect(server.reloads).toEqual([GOOD, BAD, GOOD]);
    expect(reporter.annotations['vigil.dev/reload-error']).toBeUndefined();
    expect(reporter.annotations['vigil.dev/applied-hash']).toBe(contentHash(GOOD));
  });

  it('reports undecodable objects without touching the files or the server', async () => {
    await observe(obj(GOOD));
    await observe(obj({ error: 'key "alertmanager.yml": data is not valid base64' }, { ...reporter.annotations }));
    expect(server.reloads).toHaveLength(1);
    expect(await readDirFiles(dir)).toEqual(GOOD);
    expect(reporter.annotations['vigil.dev/reload-error']).toMatch(/not valid base64/);
  });

  it('a new sidecar process picks up the last good copy and reloads once on start', async () => {
    await observe(obj(GOOD));
    await syncer.stop();
    const second = new Syncer({ dir, reloader: server, reporter, metrics, log: createLogger('sync-test', 'error') });
    await second.init();
    expect(second.hasGoodConfig()).toBe(true);
    second.observe(obj(GOOD, { ...reporter.annotations }));
    await second.idle();
    expect(server.reloads).toHaveLength(2); // level-triggered: one reload at start
    await second.stop();
  });

  it('during a burst of versions faster than the server reloads, reloads only the newest once they settle', async () => {
    await syncer.stop();
    /** A server whose first reload lasts until the test opens it (3 s, like a big rule set). */
    let open!: () => void;
    const firstReload = new Promise<void>((resolve) => (open = resolve));
    class SlowServer extends FakeServer {
      override async reload(kind: string, files: FileSet): Promise<ReloadOutcome> {
        if (this.reloads.length === 0) await firstReload;
        return super.reload(kind, files);
      }
    }
    server = new SlowServer();
    syncer = new Syncer({
      dir,
      reloader: server,
      reporter,
      metrics,
      log: createLogger('sync-test', 'error'),
      retryDelay: () => 60_000,
      coalesce: { minQuietMs: 250, maxQuietMs: 10_000, maxDeferMs: 30_000 },
    });
    await syncer.init();
    const version = (n: number) => obj({ 'prometheus.yml': `scrape_configs: [] # ${n}\n` }, { 'vigil.dev/config-hash': `h${n}` });
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    syncer.observe(version(1)); // comes alone: reloaded at once
    await sleep(2500);
    syncer.observe(version(2)); // comes while h1 reloads: a burst
    await sleep(500);
    open(); // h1's reload took ~3 s: h2 waits until it is ~1.5 s old, ~1 s more
    // The end of h1's pass (its Event is the last thing it does): the next pass has h2 as the newest.
    while (!reporter.events.some((e) => e.reason === 'ConfigReloaded')) await sleep(5);
    syncer.observe(version(3));
    syncer.observe(version(4));
    const deadline = Date.now() + 20_000;
    while (reporter.annotations['vigil.dev/applied-hash'] !== 'h4' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await syncer.idle();
    expect(reporter.annotations['vigil.dev/applied-hash']).toBe('h4');
    // Without holding back, h2 would have been reloaded as soon as h1's reload ended.
    expect(server.reloads.map((f) => f['prometheus.yml'])).toEqual(['scrape_configs: [] # 1\n', 'scrape_configs: [] # 4\n']);
  });

  it('leaves the last good copy to the next apply when a newer config is already waiting, and saves it then', async () => {
    await syncer.stop();
    const gates: Array<() => void> = [];
    const opened = [0, 1].map((i) => new Promise<void>((resolve) => (gates[i] = resolve)));
    class GatedServer extends FakeServer {
      override async reload(kind: string, files: FileSet): Promise<ReloadOutcome> {
        const gate = opened[this.reloads.length];
        this.reloads.push({ ...files });
        if (gate) await gate;
        this.reloads.pop();
        return super.reload(kind, files);
      }
    }
    server = new GatedServer();
    syncer = new Syncer({ dir, reloader: server, reporter, metrics, log: createLogger('sync-test', 'error'), retryDelay: () => 60_000 });
    await syncer.init();
    syncer.observe(obj(GOOD, { 'vigil.dev/config-hash': 'h1' }));
    while (server.reloads.length === 0) await new Promise((resolve) => setImmediate(resolve));
    syncer.observe(obj(GOOD2, { 'vigil.dev/config-hash': 'h2' })); // waiting while h1 reloads
    gates[0]!();
    // h1 is confirmed and reported; h2's reload is under way (held at its gate).
    while (server.reloads.length < 2) await new Promise((resolve) => setImmediate(resolve));
    expect(reporter.annotations['vigil.dev/applied-hash']).toBe('h1');
    expect(await loadLastGood(dir)).toBeUndefined();
    gates[1]!();
    await syncer.idle();
    expect(reporter.annotations['vigil.dev/applied-hash']).toBe('h2');
    expect(await loadLastGood(dir)).toEqual(GOOD2);
  });
});
