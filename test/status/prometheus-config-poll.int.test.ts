// The operator's view of the config Prometheus runs (PrometheusConfigPoller, issues #15 and #13),
// against a real Prometheus 3.15 process: a poll reads /api/v1/status/runtimeinfo and downloads the
// whole /api/v1/status/config only after a reload or restart moved lastConfigTime, and a reload that
// lands in the same second as the previous one is still seen once that second is over.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusConfigPoller } from '../../operator/controller/prometheus-config.js';
import { createLogger } from '../../operator/observability/logger.js';
import { type ServerProcess, sleep, startPrometheus } from '../sync/servers.js';

const configWithJobs = (jobs: string[]) => `global: {}\nscrape_configs:\n${jobs.map((j) => `  - job_name: ${j}\n    static_configs:\n      - targets: ['127.0.0.1:1']\n`).join('')}`;

describe('PrometheusConfigPoller against a real Prometheus', () => {
  let dir: string;
  let prometheus: ServerProcess;
  let poller: PrometheusConfigPoller;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-config-poll-'));
    await writeFile(join(dir, 'prometheus.yml'), configWithJobs(['a']));
    prometheus = await startPrometheus(dir);
    poller = new PrometheusConfigPoller(prometheus.url, 60_000, () => {}, createLogger('test', 'error'));
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const reloadInto = async (jobs: string[]) => {
    await writeFile(join(dir, 'prometheus.yml'), configWithJobs(jobs));
    const res = await fetch(`${prometheus.url}/-/reload`, { method: 'POST' });
    expect(res.status).toBe(200);
  };

  it('downloads the config once per loaded config, not on every poll', async () => {
    await sleep(1_100); // the start's lastConfigTime second is over: the first download settles it
    await poller.pollOnce();
    expect(poller.running?.jobNames).toEqual(['a']);
    const downloads = poller.configDownloads;
    for (let i = 0; i < 5; i++) await poller.pollOnce();
    expect(poller.running?.jobNames).toEqual(['a']);
    expect(poller.configDownloads).toBe(downloads);

    await reloadInto(['b', 'c']);
    await poller.pollOnce();
    expect(poller.running?.jobNames).toEqual(['b', 'c']);
    expect(poller.configDownloads).toBeGreaterThan(downloads);
  }, 60_000);

  it('sees a second reload in the same second as the first once that second is over', async () => {
    await sleep(1_100);
    await reloadInto(['d']);
    await poller.pollOnce(); // most likely within the second of the reload: not settled yet
    await reloadInto(['e']); // lastConfigTime usually unchanged (whole seconds)
    await sleep(1_100);
    await poller.pollOnce();
    expect(poller.running?.jobNames).toEqual(['e']);
    const downloads = poller.configDownloads;
    await poller.pollOnce();
    await poller.pollOnce();
    expect(poller.configDownloads).toBe(downloads);
    expect(poller.running?.jobNames).toEqual(['e']);
  }, 60_000);

  it('downloads again after a restart with a different file', async () => {
    await prometheus.stop();
    await writeFile(join(dir, 'prometheus.yml'), configWithJobs(['f']));
    prometheus = await startPrometheus(dir, Number(new URL(prometheus.url).port));
    await poller.pollOnce();
    expect(poller.running?.jobNames).toEqual(['f']);
  }, 90_000);
});
