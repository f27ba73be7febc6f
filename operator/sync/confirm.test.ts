import {
  alertmanagerConfigHashValue,
  confirmAlertmanagerMetrics,
  confirmPrometheusJobs,
  confirmPrometheusMetrics,
  inferServerKind,
  parseUnlabelledSamples,
  scrapeJobNames,
  siblingUrl,
} from './confirm.js';

// Excerpt of a real Prometheus 2.42 /metrics response (format as served).
const PROMETHEUS_METRICS = `# HELP prometheus_config_last_reload_success_timestamp_seconds Timestamp of the last successful configuration reload.
# TYPE prometheus_config_last_reload_success_timestamp_seconds gauge
prometheus_config_last_reload_success_timestamp_seconds 1.7956366563576856e+09
# HELP prometheus_config_last_reload_successful Whether the last configuration reload attempt was successful.
# TYPE prometheus_config_last_reload_successful gauge
prometheus_config_last_reload_successful 1
prometheus_http_requests_total{code="200",handler="/metrics"} 3
`;

describe('parseUnlabelledSamples', () => {
  it('reads unlabelled gauges in Go float formatting and skips labelled samples and comments', () => {
    const s = parseUnlabelledSamples(PROMETHEUS_METRICS);
    expect(s.get('prometheus_config_last_reload_successful')).toBe(1);
    expect(s.get('prometheus_config_last_reload_success_timestamp_seconds')).toBeCloseTo(1795636656.3576856, 6);
    expect(s.has('prometheus_http_requests_total')).toBe(false);
    expect(parseUnlabelledSamples('x 1 1700000000000\n').get('x')).toBe(1);
  });
});

describe('confirmPrometheusMetrics', () => {
  const samples = parseUnlabelledSamples(PROMETHEUS_METRICS);
  it('accepts a successful reload that finished after the trigger', () => {
    expect(confirmPrometheusMetrics(samples, 1795636656.3)).toEqual({ ok: true });
  });
  it('rejects a success older than our trigger (someone else reloaded before)', () => {
    const r = confirmPrometheusMetrics(samples, 1795636660);
    expect(r.ok).toBe(false);
  });
  it('rejects a failed last reload and missing metrics', () => {
    const failed = new Map(samples);
    failed.set('prometheus_config_last_reload_successful', 0);
    expect(confirmPrometheusMetrics(failed, 0)).toEqual({ ok: false, reason: expect.stringContaining('successful 0') });
    expect(confirmPrometheusMetrics(new Map(), 0).ok).toBe(false);
  });
});

describe('confirmPrometheusJobs', () => {
  const written = 'scrape_configs:\n- job_name: vigil/ns/a/http\n- job_name: prometheus\n';
  it('matches the job set of the written file with the loaded config', () => {
    expect(scrapeJobNames(written)).toEqual(['prometheus', 'vigil/ns/a/http']);
    const loaded = 'global: {}\nscrape_configs:\n- job_name: prometheus\n  honor_timestamps: true\n- job_name: vigil/ns/a/http\n';
    expect(confirmPrometheusJobs(written, loaded)).toEqual({ ok: true });
  });
  it('names missing and unexpected jobs', () => {
    const r = confirmPrometheusJobs(written, 'scrape_configs:\n- job_name: prometheus\n- job_name: old\n');
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/missing jobs vigil\/ns\/a\/http; unexpected jobs old/) });
  });
  it('handles a config without scrape jobs', () => {
    expect(confirmPrometheusJobs('global: {}\n', 'global: {}\n')).toEqual({ ok: true });
  });
  it('compares the scrape_config_files by base name: a partition written at other jobs is not confirmed', () => {
    const main = 'scrape_config_files:\n  - ./partition-a-1111111111111111.scrape.yaml\nscrape_configs:\n  - job_name: prometheus\n';
    const loaded = (file: string) => `scrape_config_files:\n- /etc/prometheus/${file}\nscrape_configs:\n- job_name: prometheus\n`;
    expect(confirmPrometheusJobs(main, loaded('partition-a-1111111111111111.scrape.yaml'))).toEqual({ ok: true });
    expect(confirmPrometheusJobs(main, loaded('partition-a-2222222222222222.scrape.yaml'))).toEqual({
      ok: false,
      reason: expect.stringMatching(/missing scrape_config_files partition-a-1111111111111111\.scrape\.yaml; unexpected scrape_config_files partition-a-2222222222222222\.scrape\.yaml/),
    });
    expect(confirmPrometheusJobs(main, 'scrape_configs:\n- job_name: prometheus\n').ok).toBe(false);
  });
});

describe('Alertmanager confirmation', () => {
  // Checked against a real Alertmanager 0.25: this file made it export alertmanager_config_hash 2.28094098964141e+14.
  const config = 'route: {receiver: r}\nreceivers: [{name: r}]\n';
  it('computes the hash Alertmanager exports', () => {
    expect(alertmanagerConfigHashValue(config)).toBe(228094098964141);
  });
  it('accepts only the hash of exactly the written bytes', () => {
    const samples = parseUnlabelledSamples('alertmanager_config_hash 2.28094098964141e+14\nalertmanager_config_last_reload_successful 1\n');
    expect(confirmAlertmanagerMetrics(samples, config)).toEqual({ ok: true });
    expect(confirmAlertmanagerMetrics(samples, config + '\n').ok).toBe(false);
    const failed = parseUnlabelledSamples('alertmanager_config_hash 2.28094098964141e+14\nalertmanager_config_last_reload_successful 0\n');
    expect(confirmAlertmanagerMetrics(failed, config).ok).toBe(false);
  });
});

describe('helpers', () => {
  it('infers the server from the main config file', () => {
    expect(inferServerKind({ 'prometheus.yml': '', 'a.rules.yaml': '' })).toBe('prometheus');
    expect(inferServerKind({ 'alertmanager.yml': '', 'vigil-email.tmpl': '' })).toBe('alertmanager');
    expect(inferServerKind({})).toBeUndefined();
    expect(inferServerKind({ 'prometheus.yml': '', 'alertmanager.yml': '' })).toBeUndefined();
  });
  it('derives /metrics and the config endpoint next to /-/reload, keeping a route prefix', () => {
    expect(siblingUrl('http://127.0.0.1:9090/-/reload', 'metrics')).toBe('http://127.0.0.1:9090/metrics');
    expect(siblingUrl('http://h:9090/prom/-/reload', 'api/v1/status/config')).toBe('http://h:9090/prom/api/v1/status/config');
  });
});
