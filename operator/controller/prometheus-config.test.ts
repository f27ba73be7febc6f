// Reading scrape job names from Prometheus configs (issue #15): Vigil's rendered prometheus.yml and the
// re-serialised YAML of Prometheus's /api/v1/status/config (the shape below is what Prometheus 3.15
// returned for a config with these jobs: defaults filled in, names quoted only when YAML needs it).
import { describe, expect, it } from '@jest/globals';
import { defaultSettings } from '../render/index.js';
import { renderConfig } from '../assemble/config.js';
import { validateMonitoredService } from '../validate/index.js';
import { scrapeJobNames } from '../sync/job-names.js';
import { describeJobDifference, describeScrapeDifference, needsConfigDownload, runtimeTimes } from './prometheus-config.js';

const STATUS_CONFIG_YAML = [
  'global:',
  '  scrape_interval: 5s',
  '  scrape_timeout: 5s',
  'rule_files:',
  "- '*.rules.yaml'",
  'scrape_configs:',
  '- job_name: vigil/shop/checkout/http-metrics',
  '  honor_timestamps: true',
  '  metrics_path: /metrics',
  '  static_configs:',
  '  - targets:',
  '    - 127.0.0.1:1',
  '- job_name: prometheus',
  '  honor_timestamps: true',
  "- job_name: 'a: b #c'",
  '  honor_timestamps: true',
].join('\n');

describe('scrapeJobNames', () => {
  it("reads Prometheus's re-serialised config, unquoting quoted names", () => {
    expect(scrapeJobNames(STATUS_CONFIG_YAML)).toEqual(['a: b #c', 'prometheus', 'vigil/shop/checkout/http-metrics']);
  });

  it("reads Vigil's rendered prometheus.yml: the self-scrape jobs and one job per endpoint port", () => {
    const result = validateMonitoredService({
      apiVersion: 'vigil.dev/v1alpha1',
      kind: 'MonitoredService',
      metadata: { namespace: 'shop', name: 'checkout' },
      spec: { selector: { matchLabels: { app: 'checkout' } }, endpoints: [{ port: 'web' }, { port: 'admin' }] },
    });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const rendered = renderConfig([result.service], { ...defaultSettings(), selfScrapeJobs: [{ job_name: 'prometheus', static_configs: [{ targets: ['localhost:9090'] }] }] });
    expect(scrapeJobNames(rendered.prometheus['prometheus.yml']!)).toEqual(['prometheus', 'vigil/shop/checkout/admin', 'vigil/shop/checkout/web']);
  });

  it('finds none in a config without scrape jobs', () => {
    expect(scrapeJobNames('global: {}\n')).toEqual([]);
  });
});

describe('describeJobDifference', () => {
  it('is undefined for equal sets, whatever the order', () => {
    expect(describeJobDifference(['a', 'b'], ['b', 'a'])).toBeUndefined();
  });

  it('names the missing and the foreign jobs, at most `show` of each', () => {
    expect(describeJobDifference(['p', 'v/1', 'v/2', 'v/3', 'v/4'], ['p', 'x'], 2)).toBe("missing 4 of Vigil's 5 scrape jobs (v/1, v/2, and 2 more); 1 scrape job Vigil did not write (x)");
    expect(describeJobDifference(['p'], ['p', 'x', 'y'])).toBe('2 scrape jobs Vigil did not write (x, y)');
  });
});

describe('needsConfigDownload', () => {
  const t = Date.parse('2026-11-30T19:00:09Z');
  const loaded = (settled: boolean) => ({ loadedAt: t, jobNames: ['a'], scrapeFiles: [], settled });

  it('downloads when nothing was read yet, or the answer has no lastConfigTime', () => {
    expect(needsConfigDownload(undefined, t)).toBe(true);
    expect(needsConfigDownload(loaded(true), undefined)).toBe(true);
  });

  it('downloads when lastConfigTime moved (a reload or a restart)', () => {
    expect(needsConfigDownload(loaded(true), t + 1000)).toBe(true);
  });

  it('downloads again while the second of the last reload was not over at the download', () => {
    expect(needsConfigDownload(loaded(false), t)).toBe(true);
  });

  it('keeps the names of a settled download while lastConfigTime stays', () => {
    expect(needsConfigDownload(loaded(true), t)).toBe(false);
  });
});

describe('runtimeTimes', () => {
  it("reads lastConfigTime and serverTime of Prometheus's runtimeinfo (3.15.1 shape)", () => {
    const data = { startTime: '2026-11-30T19:00:08.891097052Z', serverTime: '2026-11-30T19:00:17.052868146Z', reloadConfigSuccess: true, lastConfigTime: '2026-11-30T19:00:09Z' };
    expect(runtimeTimes(data)).toEqual({ loadedAt: Date.parse('2026-11-30T19:00:09Z'), serverAt: Date.parse('2026-11-30T19:00:17.052Z') });
  });

  it('gives undefined for absent or unreadable fields', () => {
    expect(runtimeTimes(undefined)).toEqual({ loadedAt: undefined, serverAt: undefined });
    expect(runtimeTimes({ lastConfigTime: 7, serverTime: 'soon' })).toEqual({ loadedAt: undefined, serverAt: undefined });
  });
});

describe('describeScrapeDifference', () => {
  const vigil = { jobNames: ['prometheus'], scrapeFiles: ['partition-a-1111111111111111.scrape.yaml', 'partition-b-1111111111111111.scrape.yaml'] };
  it('is undefined for the same jobs and scrape config files', () => {
    expect(describeScrapeDifference(vigil, { ...vigil })).toBeUndefined();
  });
  it('names a scrape file of other jobs and a foreign job', () => {
    expect(describeScrapeDifference(vigil, { jobNames: ['prometheus', 'other'], scrapeFiles: ['partition-a-1111111111111111.scrape.yaml', 'partition-b-2222222222222222.scrape.yaml'] })).toBe(
      "1 scrape job Vigil did not write (other); missing 1 of Vigil's 2 scrape config files (partition-b-1111111111111111.scrape.yaml); 1 scrape config file Vigil did not write (partition-b-2222222222222222.scrape.yaml)",
    );
  });
  it('says that every scrape config file is missing when Prometheus runs a config without them', () => {
    expect(describeScrapeDifference(vigil, { jobNames: ['prometheus'], scrapeFiles: [] })).toMatch(/^missing 2 of Vigil's 2 scrape config files/);
  });
});
