import { parse } from 'yaml';
import { MonitoredServiceSchema, type MonitoredService, type MonitoredServiceInput } from '../api/schema.js';
import { NOTIFICATION_TIMINGS } from './alertmanager.js';
import { EMAIL_TEMPLATE } from './email-template.js';
import { defaultSettings } from './index.js';
import { renderConfig } from '../assemble/config.js';
import { labelSelectorString } from './label-selector.js';
import { renderPrometheusConfig, renderAlertmanagerConfig, renderRuleFile } from './index.js';
import { hasScrapeHints, KEEP_DROPPED_TARGETS, scrapeJobs, selectorRelabelRules } from './prometheus.js';
import { recipientSetReceiver, sanitizedLabelName } from './names.js';
import { discoveryGraceMs, upSelector } from './rules.js';
import type { GlobalSettings } from './types.js';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function service(namespace: string, name: string, spec: Partial<MonitoredServiceInput['spec']> = {}): MonitoredService {
  return MonitoredServiceSchema.parse({
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace, name },
    spec: { selector: { matchLabels: { app: name } }, endpoints: [{ port: 'metrics' }], ...spec },
  });
}

const settings = defaultSettings({ defaultRecipients: ['ops@example.com'] });

describe('labelSelectorString', () => {
  it('renders matchLabels sorted by key, then every operator', () => {
    expect(
      labelSelectorString({
        matchLabels: { 'b.io/x': '1', a: 'y' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['web', 'api'] },
          { key: 'env', operator: 'NotIn', values: ['test'] },
          { key: 'monitored', operator: 'Exists' },
          { key: 'canary', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('a=y,b.io/x=1,tier in (api,web),env notin (test),monitored,!canary');
  });
  it('accepts an empty-valued label', () => {
    expect(labelSelectorString({ matchLabels: { a: '' } })).toBe('a=');
  });
});

describe('selectorRelabelRules', () => {
  it('keeps what matches every requirement, with Kubernetes semantics for each operator', () => {
    expect(
      selectorRelabelRules({
        matchLabels: { 'app.kubernetes.io/name': 'shop', tier: '' },
        matchExpressions: [
          { key: 'track', operator: 'In', values: ['stable', 'canary.1'] },
          { key: 'env', operator: 'NotIn', values: ['dev'] },
          { key: 'team', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
    ).toEqual([
      { source_labels: ['__meta_kubernetes_service_labelpresent_app_kubernetes_io_name', '__meta_kubernetes_service_label_app_kubernetes_io_name'], regex: 'true;shop', action: 'keep' },
      // An empty value still requires the label to be present.
      { source_labels: ['__meta_kubernetes_service_labelpresent_tier', '__meta_kubernetes_service_label_tier'], regex: 'true;', action: 'keep' },
      // Values are sorted and RE2-escaped (relabel regexes are anchored).
      { source_labels: ['__meta_kubernetes_service_labelpresent_track', '__meta_kubernetes_service_label_track'], regex: 'true;(canary\\.1|stable)', action: 'keep' },
      // NotIn also matches a Service without the label: drop only present-and-listed.
      { source_labels: ['__meta_kubernetes_service_labelpresent_env', '__meta_kubernetes_service_label_env'], regex: 'true;(dev)', action: 'drop' },
      { source_labels: ['__meta_kubernetes_service_labelpresent_team'], regex: 'true', action: 'keep' },
      { source_labels: ['__meta_kubernetes_service_labelpresent_legacy'], regex: 'true', action: 'drop' },
    ]);
  });

  it('with ScrapeHints.onlyServices the job keeps those Services by name instead of by labels', () => {
    const svc = service('shop', 'checkout');
    const job = `vigil/shop/checkout/${svc.spec.endpoints[0]!.port}`;
    const byName = scrapeJobs(svc, defaultSettings(), { [job]: { skipServices: [], onlyServices: ['checkout', 'api.v2'] } })[0] as { relabel_configs: unknown[] };
    expect(byName.relabel_configs[0]).toEqual({ source_labels: ['__meta_kubernetes_service_name'], regex: 'api\\.v2|checkout', action: 'keep' });
    expect(JSON.stringify(byName.relabel_configs)).not.toContain('__meta_kubernetes_service_label');
    const none = scrapeJobs(svc, defaultSettings(), { [job]: { skipServices: [], onlyServices: [] } })[0] as { relabel_configs: unknown[] };
    expect(none.relabel_configs[0]).toEqual({ source_labels: ['__meta_kubernetes_service_name'], regex: '.*', action: 'drop' });
    expect(hasScrapeHints(svc, { [job]: { skipServices: [], onlyServices: [] } })).toBe(true);
    expect(hasScrapeHints(svc, { [job]: { skipServices: [] } })).toBe(false);
  });

  it('names labels as Prometheus sanitises them', () => {
    expect(sanitizedLabelName('example.com/a-b_c9')).toBe('example_com_a_b_c9');
  });
});

describe('renderPrometheusConfig', () => {
  const checkout = service('shop', 'checkout', {
    endpoints: [{ port: 'web', path: '/m', scheme: 'https', interval: '30s', scrapeTimeout: '5s' }, { port: 'admin' }],
  });

  it('renders the global part from the settings', () => {
    const doc = parse(renderPrometheusConfig([], defaultSettings({ externalLabels: { z: '1', a: '2' }, rulesDir: '/etc/rules' }))) as Doc;
    expect(doc.global).toEqual({ scrape_interval: '15s', evaluation_interval: '15s', external_labels: { a: '2', z: '1' } });
    expect(Object.keys(doc.global.external_labels)).toEqual(['a', 'z']);
    expect(doc.alerting).toEqual({ alertmanagers: [{ static_configs: [{ targets: ['localhost:9093'] }] }] });
    expect(doc.rule_files).toEqual(['/etc/rules/*.rules.yaml']);
    expect(doc.scrape_configs).toEqual([{ job_name: 'prometheus', static_configs: [{ targets: ['localhost:9090'] }] }]);
  });

  it("sends alerts under the Alertmanagers' route prefix (alertmanagerPathPrefix, their --web.external-url path)", () => {
    const doc = parse(renderPrometheusConfig([], defaultSettings({ alertmanagerPathPrefix: '/alertmanager' }))) as Doc;
    expect(doc.alerting).toEqual({ alertmanagers: [{ path_prefix: '/alertmanager', static_configs: [{ targets: ['localhost:9093'] }] }] });
    expect((parse(renderPrometheusConfig([], defaultSettings({ alertmanagerPathPrefix: '' }))) as Doc).alerting.alertmanagers[0]).not.toHaveProperty('path_prefix');
  });

  it('names the replica in an external label and drops it from every alert (replicaExternalLabel), and leaves rules without it', () => {
    const replicated = defaultSettings({ externalLabels: { cluster: 'c1' }, replicaExternalLabel: { name: 'prometheus_replica', value: '${POD_NAME}' } });
    const doc = parse(renderPrometheusConfig([checkout], replicated)) as Doc;
    expect(doc.global.external_labels).toEqual({ cluster: 'c1', prometheus_replica: '${POD_NAME}' });
    expect(doc.alerting.alert_relabel_configs).toEqual([{ action: 'labeldrop', regex: 'prometheus_replica' }]);
    const rules = parse(renderRuleFile(checkout, replicated)) as Doc;
    for (const rule of rules.groups.flatMap((g: Doc) => g.rules)) {
      expect(rule.labels).not.toHaveProperty('prometheus_replica');
    }
    const withRuleLabel = service('shop', 'checkout', { rules: [{ name: 'Slow', expr: 'vector(1)', labels: { prometheus_replica: 'x' } }] });
    expect(() => renderRuleFile(withRuleLabel, replicated)).toThrow('spec.rules[0].labels.prometheus_replica: label prometheus_replica names the Prometheus replica');
    expect(parse(renderPrometheusConfig([], defaultSettings())).alerting).not.toHaveProperty('alert_relabel_configs');
  });

  it('passes remoteWrite through as remote_write, and writes none without it', () => {
    const remoteWrite = [{ url: 'https://metrics.example.com/api/v1/write', queue_config: { max_shards: 10 } }];
    expect((parse(renderPrometheusConfig([], defaultSettings({ remoteWrite }))) as Doc).remote_write).toEqual(remoteWrite);
    expect(parse(renderPrometheusConfig([], defaultSettings({ remoteWrite: [] })))).not.toHaveProperty('remote_write');
    expect(parse(renderPrometheusConfig([], defaultSettings()))).not.toHaveProperty('remote_write');
  });

  it('puts rule files next to prometheus.yml by default (relative paths resolve against the config file)', () => {
    const doc = parse(renderPrometheusConfig([], defaultSettings())) as Doc;
    expect(doc.rule_files).toEqual(['*.rules.yaml']);
    expect(doc.global.external_labels).toBeUndefined();
  });

  it('renders one job per endpoint, sorted by port, scoped to the namespace and the selected Services', () => {
    const doc = parse(renderPrometheusConfig([checkout], settings)) as Doc;
    const jobs = doc.scrape_configs.slice(1);
    expect(jobs.map((j: Doc) => j.job_name)).toEqual(['vigil/shop/checkout/admin', 'vigil/shop/checkout/web']);
    const web = jobs[1];
    expect(web).toMatchObject({ honor_labels: false, scheme: 'https', metrics_path: '/m', scrape_interval: '30s', scrape_timeout: '5s' });
    expect(jobs[0]).toMatchObject({ scheme: 'http', metrics_path: '/metrics', scrape_interval: '15s', scrape_timeout: '10s' });
    // Prometheus 3 fails scrapes with a missing/unknown Content-Type unless a fallback is set.
    for (const job of jobs) expect(job).toMatchObject({ fallback_scrape_protocol: 'PrometheusText0.0.4' });
    // One discovery per namespace (the block is the same for every job there), then the selector
    // and the port by relabelling, before anything else.
    expect(web.kubernetes_sd_configs).toEqual([{ role: 'endpointslice', namespaces: { names: ['shop'] } }]);
    expect(web.keep_dropped_targets).toBe(KEEP_DROPPED_TARGETS);
    expect(web.relabel_configs.slice(0, 2)).toEqual([
      { source_labels: ['__meta_kubernetes_service_labelpresent_app', '__meta_kubernetes_service_label_app'], regex: 'true;checkout', action: 'keep' },
      { source_labels: ['__meta_kubernetes_endpointslice_port_name'], regex: 'web', action: 'keep' },
    ]);
    const targets = web.relabel_configs.filter((r: Doc) => r.target_label).map((r: Doc) => [r.source_labels[0], r.target_label]);
    expect(targets).toEqual([
      ['__meta_kubernetes_namespace', 'namespace'],
      ['__meta_kubernetes_service_name', 'service'],
      ['__meta_kubernetes_pod_name', 'pod'],
    ]);
    // Endpoints that take no traffic (terminating, or not ready yet) are no targets.
    expect(web.relabel_configs).toContainEqual({
      source_labels: ['__meta_kubernetes_endpointslice_endpoint_conditions_ready', '__meta_kubernetes_endpointslice_endpoint_conditions_terminating'],
      regex: 'false;.*|.*;true',
      action: 'drop',
    });
  });

  it('renders params with names sorted and values in the order written, and no params key without them', () => {
    const withParams = service('shop', 'checkout', {
      endpoints: [
        { port: 'web', params: { 'collect[]': ['sync', 'stock'], format: ['prometheus'] } },
        { port: 'admin', params: {} },
      ],
    });
    const [admin, web] = (parse(renderPrometheusConfig([withParams], settings)) as Doc).scrape_configs.slice(1);
    expect(web.params).toEqual({ 'collect[]': ['sync', 'stock'], format: ['prometheus'] });
    expect(Object.keys(web.params)).toEqual(['collect[]', 'format']);
    expect(web.metrics_path).toBe('/metrics');
    expect(admin).not.toHaveProperty('params');
  });

  it('connects to an API server outside the cluster with a token and CA', () => {
    const s = defaultSettings({ kubernetesSd: { apiServer: 'https://127.0.0.1:6443', bearerTokenFile: '/t', caFile: '/ca', insecureSkipVerify: false } });
    const sd = (parse(renderPrometheusConfig([checkout], s)) as Doc).scrape_configs[1].kubernetes_sd_configs[0];
    expect(sd).toMatchObject({
      api_server: 'https://127.0.0.1:6443',
      authorization: { type: 'Bearer', credentials_file: '/t' },
      tls_config: { ca_file: '/ca' },
    });
    expect(sd.tls_config.insecure_skip_verify).toBeUndefined();
  });

  it('uses only kubeconfig_file when one is given (Prometheus rejects it together with api_server)', () => {
    const s = defaultSettings({ kubernetesSd: { apiServer: 'https://ignored', kubeconfigFile: '/kubeconfig' } });
    const sd = (parse(renderPrometheusConfig([checkout], s)) as Doc).scrape_configs[1].kubernetes_sd_configs[0];
    expect(sd.kubeconfig_file).toBe('/kubeconfig');
    expect(sd.api_server).toBeUndefined();
  });

  it('gives every job of a namespace the identical discovery block, and other namespaces their own', () => {
    const doc = parse(renderPrometheusConfig([checkout, service('shop', 'cart'), service('blog', 'web')], settings)) as Doc;
    const blocks = new Map<string, string>(doc.scrape_configs.slice(1).map((j: Doc) => [j.job_name, JSON.stringify(j.kubernetes_sd_configs)]));
    const shop = [...blocks].filter(([name]) => name.startsWith('vigil/shop/')).map(([, b]) => b);
    expect(shop).toHaveLength(3);
    expect(new Set(shop).size).toBe(1);
    expect(blocks.get('vigil/blog/web/metrics')).toContain('"names":["blog"]');
  });

  it('gives same-named services in different namespaces different jobs', () => {
    const doc = parse(renderPrometheusConfig([service('a', 'api'), service('b', 'api')], settings)) as Doc;
    const names = doc.scrape_configs.map((j: Doc) => j.job_name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('vigil/a/api/metrics');
    expect(names).toContain('vigil/b/api/metrics');
  });
});

describe('discoveryGraceMs', () => {
  const grace = (endpoint: { interval?: string; scrapeTimeout?: string }) => discoveryGraceMs(service('shop', 'checkout', { endpoints: [{ port: 'metrics', ...endpoint }] }));
  it('is 2 intervals + 30 s, at most 4 minutes, but never below interval + timeout + 30 s (the latest first sample of a new target)', () => {
    expect(grace({})).toBe(60_000); // 15s: 2 x 15s + 30s
    expect(grace({ interval: '1m45s' })).toBe(240_000); // 2 x 1m45s + 30s = 4m, the cap
    expect(grace({ interval: '3m20s' })).toBe(240_000); // capped; 3m20s + 10s + 30s = 4m
    expect(grace({ interval: '4m' })).toBe(280_000); // 4m + 10s + 30s above the cap
    expect(grace({ interval: '4m50s' })).toBe(330_000); // 4m50s + 10s + 30s
    expect(grace({ interval: '2m30s', scrapeTimeout: '2m30s' })).toBe(330_000); // 5m + 30s
  });
});

describe('renderRuleFile', () => {
  it('renders the down alerts and namespaced custom rules with reserved labels that users cannot override', () => {
    const svc = service('shop', 'checkout', {
      downAlert: { for: '2m', severity: 'critical' },
      rules: [
        {
          name: 'Slow',
          expr: 'histogram_quantile(0.9, rate(h_bucket[5m])) > 1',
          for: '5m',
          severity: 'info',
          labels: { team: 'web', severity: 'critical', namespace: 'other' },
          summary: 'slow {{ $labels.pod }}',
        },
      ],
    });
    const doc = parse(renderRuleFile(svc, defaultSettings({ evaluationInterval: '30s' }))) as Doc;
    expect(doc.groups).toHaveLength(1);
    const group = doc.groups[0];
    expect(group.name).toBe('vigil/shop/checkout');
    expect(group.interval).toBe('30s');
    expect(group.rules.map((r: Doc) => r.alert ?? r.record)).toEqual(['vigil:scrape_config_loaded:timestamp_seconds', 'ServiceDown', 'ServiceTargetDown', 'Slow']);
    const [loaded, down, targetDown, slow] = group.rules;
    // Its labels tie the record to this service's current scrape jobs (new hash: new grace period).
    expect(loaded).toEqual({
      record: 'vigil:scrape_config_loaded:timestamp_seconds',
      expr: 'vector(time())',
      labels: { namespace: 'shop', vigil_monitoredservice: 'checkout', vigil_namespace: 'shop', vigil_scrape_config: expect.stringMatching(/^[0-9a-f]{12}$/) },
    });
    const record = `vigil:scrape_config_loaded:timestamp_seconds{namespace="shop", vigil_monitoredservice="checkout", vigil_namespace="shop", vigil_scrape_config="${loaded.labels.vigil_scrape_config}"}`;
    // Default endpoint interval 15s: grace 2 x 15s + 30s = 60s; window 60s + 2 x 30s evaluation.
    expect(down).toMatchObject({
      expr:
        '((count(up{job="vigil/shop/checkout/metrics"} == 1) or vector(0)) == 0) and on() (' +
        '(count(up{job="vigil/shop/checkout/metrics"} == 0) > 0) or on() ' +
        `((time() - min_over_time(${record}[2m])) >= 60)` +
        // While the alert is already active, a new grace (re-rendered jobs) does not interrupt it (issue 21).
        ' or on() ALERTS{alertname="ServiceDown", alertstate=~"pending|firing", vigil_namespace="shop", vigil_monitoredservice="checkout"})',
      for: '2m',
      labels: { severity: 'critical', namespace: 'shop', service: 'checkout', vigil_namespace: 'shop', vigil_monitoredservice: 'checkout' },
    });
    expect(down.annotations.summary).toContain('shop/checkout');
    // Termination window 3 x 15s + 10s = 55s: a target counts as down only when all its samples in it failed.
    expect(targetDown).toMatchObject({
      expr: '(up{job="vigil/shop/checkout/metrics"} == 0) and (max_over_time(up{job="vigil/shop/checkout/metrics"}[55s]) == 0)' + ' and on() (count(up{job="vigil/shop/checkout/metrics"} == 1) > 0)',
      for: '2m',
      labels: { severity: 'warning', vigil_namespace: 'shop', vigil_monitoredservice: 'checkout' },
    });
    // Per-instance alert keeps the series' own service label (the Kubernetes Service name).
    expect(targetDown.labels.service).toBeUndefined();
    expect(slow).toEqual({
      alert: 'Slow',
      expr: 'histogram_quantile(0.9, rate(h_bucket{namespace="shop"}[5m])) > 1',
      for: '5m',
      // Empty values remove these labels from the result series: no series label can steer routing.
      // vigil_receiver: the receiver of the service's recipient set (none here: the default one).
      labels: {
        namespace: 'shop',
        severity: 'info',
        team: 'web',
        vigil_monitoredservice: 'checkout',
        vigil_namespace: 'shop',
        vigil_receiver: 'vigil-default',
        vigil_test_token: '',
        vigil_watchdog: '',
      },
      annotations: { summary: 'slow {{ $labels.pod }}' },
    });
    for (const rule of [down, targetDown]) expect(rule.labels).toMatchObject({ vigil_test_token: '', vigil_watchdog: '' });
  });

  it('leaves the down alerts out when disabled and gives custom rules a default summary', () => {
    const svc = service('batch', 'jobs', { downAlert: { enabled: false }, rules: [{ name: 'Failing', expr: 'failures_total > 0' }] });
    const rules = (parse(renderRuleFile(svc, settings)) as Doc).groups[0].rules;
    expect(rules.map((r: Doc) => r.alert)).toEqual(['Failing']);
    expect(rules[0].annotations).toEqual({ summary: 'Failing on batch/jobs' });
    expect(rules[0].for).toBe('0s');
  });

  it("sets the install's external labels on every alert (a series label cluster cannot claim another cluster), except values Prometheus would read as templates", () => {
    const svc = service('batch', 'jobs', { rules: [{ name: 'Failing', expr: 'failures_total > 0' }] });
    const rules = (parse(renderRuleFile(svc, { ...settings, externalLabels: { cluster: 'prod-1', odd: 'a{{b' } })) as Doc).groups[0].rules;
    const alerts = rules.filter((r: Doc) => r.alert);
    expect(alerts.map((r: Doc) => r.alert)).toEqual(['ServiceDown', 'ServiceTargetDown', 'Failing']);
    for (const rule of alerts) {
      expect(rule.labels.cluster).toBe('prod-1');
      expect(rule.labels).not.toHaveProperty('odd');
    }
  });

  it('keeps the down alerts of a service with no custom rules', () => {
    const rules = (parse(renderRuleFile(service('a', 'b'), settings)) as Doc).groups[0].rules;
    expect(rules.map((r: Doc) => r.alert ?? r.record)).toEqual(['vigil:scrape_config_loaded:timestamp_seconds', 'ServiceDown', 'ServiceTargetDown']);
  });

  it("takes ServiceTargetDown's termination window from the service's longest scrape interval (3 intervals + 10s)", () => {
    const windowOf = (endpoints: { port: string; interval?: string }[]) => {
      const rules = (parse(renderRuleFile(service('a', 'b', { endpoints }), settings)) as Doc).groups[0].rules;
      return /max_over_time\(up\{[^}]*\}\[([^\]]+)\]\)/.exec(rules.find((r: Doc) => r.alert === 'ServiceTargetDown').expr)?.[1];
    };
    expect(windowOf([{ port: 'metrics', interval: '5s' }])).toBe('25s');
    expect(windowOf([{ port: 'metrics', interval: '30s' }])).toBe('1m40s');
    expect(windowOf([{ port: 'metrics' }])).toBe('55s');
    expect(
      windowOf([
        { port: 'metrics', interval: '5s' },
        { port: 'admin', interval: '1m' },
      ]),
    ).toBe('3m10s');
  });

  it('gives the absence of targets a new grace period exactly when the scrape jobs change', () => {
    const hashOf = (svc: ReturnType<typeof service>) => (parse(renderRuleFile(svc, settings)) as Doc).groups[0].rules[0].labels.vigil_scrape_config;
    const base = hashOf(service('a', 'b'));
    expect(hashOf(service('a', 'b'))).toBe(base);
    expect(hashOf(service('a', 'b', { downAlert: { for: '10m' } }))).toBe(base);
    expect(hashOf(service('a', 'b', { selector: { matchLabels: { app: 'other' } } }))).not.toBe(base);
  });

  it('does not rank the per-target alert above the service alert', () => {
    for (const [severity, target] of [
      ['critical', 'warning'],
      ['warning', 'warning'],
      ['info', 'info'],
    ] as const) {
      const rules = (parse(renderRuleFile(service('a', 'b', { downAlert: { severity } }), settings)) as Doc).groups[0].rules;
      expect(rules.find((r: Doc) => r.alert === 'ServiceTargetDown').labels.severity).toBe(target);
    }
  });

  it('throws (input must be validated first) when a custom rule reads another namespace', () => {
    const svc = service('a', 'b', { rules: [{ name: 'X', expr: 'up{namespace="b"}' }] });
    expect(() => renderRuleFile(svc, settings)).toThrow(/namespace="b"/);
  });
});

describe('upSelector', () => {
  it('matches one job exactly, several with an escaped regex', () => {
    expect(upSelector(service('a', 'web.v2'))).toBe('up{job="vigil/a/web.v2/metrics"}');
    expect(upSelector(service('a', 'web.v2', { endpoints: [{ port: 'z' }, { port: 'metrics' }] }))).toBe('up{job=~"vigil/a/web\\\\.v2/(?:metrics|z)"}');
  });
});

describe('renderAlertmanagerConfig', () => {
  const withRecipients = service('shop', 'checkout', { notify: { email: { to: ['a@example.com', 'b@example.com'], sendResolved: false } } });
  const withoutRecipients = service('billing', 'invoices');

  const own = recipientSetReceiver({ to: ['a@example.com', 'b@example.com'], sendResolved: false });

  it('routes by the receiver the alerts name (vigil_receiver): one route and receiver per recipient set, the default one for services without', () => {
    const doc = parse(renderAlertmanagerConfig([withRecipients, withoutRecipients], settings)) as Doc;
    expect(doc.route.receiver).toBe('vigil-default');
    expect(doc.route.group_by).toEqual(['alertname', 'vigil_namespace', 'vigil_monitoredservice', 'vigil_test_token']);
    // Every receiver in use has its route (the default one by name when a service names nobody);
    // an alert whose receiver is not in the config (its service deleted with its recipient set) is
    // dropped, never sent to the default recipients.
    // The Watchdog (render/watchdog.ts) comes first, so no service route can take it.
    expect(own).toBe('vigil-to:a@example.com,b@example.com;noresolved');
    expect(doc.route.routes).toEqual([
      { receiver: 'vigil-watchdog', matchers: ['vigil_watchdog="true"'], group_by: ['alertname', 'vigil_shard'], group_wait: '0s', group_interval: '1m', repeat_interval: '1m', continue: false },
      { receiver: 'vigil-default', matchers: ['vigil_receiver="vigil-default"'], continue: false },
      { receiver: own, matchers: [`vigil_receiver="${own}"`], continue: false },
      { receiver: 'vigil-unowned', matchers: ['vigil_monitoredservice=~".+"'], continue: false },
    ]);
    expect(doc.receivers.map((r: Doc) => r.name)).toEqual(['vigil-default', 'vigil-watchdog', own, 'vigil-unowned']);
    expect(doc.receivers[1]).toEqual({ name: 'vigil-watchdog' }); // no webhook configured: no integration
    expect(doc.receivers[3]).toEqual({ name: 'vigil-unowned' });
    expect(doc.receivers[2].email_configs[0]).toMatchObject({
      to: 'a@example.com, b@example.com',
      send_resolved: false,
      headers: { Subject: '{{ template "vigil.email.subject" . }}' },
      html: '{{ template "vigil.email.html" . }}',
      text: '{{ template "vigil.email.text" . }}',
    });
    expect(doc.receivers[0].email_configs[0]).toMatchObject({ to: 'ops@example.com', send_resolved: true });
    expect(doc.templates).toEqual(['vigil-email.tmpl']);
    expect(doc.inhibit_rules).toEqual([
      {
        source_matchers: ['alertname="ServiceDown"'],
        target_matchers: ['alertname="ServiceTargetDown"'],
        equal: ['vigil_namespace', 'vigil_monitoredservice'],
      },
    ]);
  });

  it('leaves the default receiver without email config when there are no default recipients', () => {
    const doc = parse(renderAlertmanagerConfig([withoutRecipients], defaultSettings())) as Doc;
    expect(doc.receivers).toEqual([{ name: 'vigil-default' }, { name: 'vigil-watchdog' }, { name: 'vigil-unowned' }]);
    expect(doc.route.routes).toEqual([
      { receiver: 'vigil-watchdog', matchers: ['vigil_watchdog="true"'], group_by: ['alertname', 'vigil_shard'], group_wait: '0s', group_interval: '1m', repeat_interval: '1m', continue: false },
      { receiver: 'vigil-default', matchers: ['vigil_receiver="vigil-default"'], continue: false },
      { receiver: 'vigil-unowned', matchers: ['vigil_monitoredservice=~".+"'], continue: false },
    ]);
  });

  it('grows with distinct recipient sets, not with services: services with the same recipients share one route and receiver', () => {
    const team = { notify: { email: { to: ['team@example.com'] } } };
    const one = parse(renderAlertmanagerConfig([service('shop', 'a', team)], settings)) as Doc;
    const many = parse(renderAlertmanagerConfig([service('shop', 'a', team), service('shop', 'b', team), service('billing', 'c', team)], settings)) as Doc;
    expect(many).toEqual(one);
    // Another order of the same recipients, or sendResolved, makes another To header or behaviour: another set.
    const other = [
      service('x', 'a', { notify: { email: { to: ['b@example.com', 'a@example.com'], sendResolved: false } } }),
      service('x', 'b', { notify: { email: { to: ['a@example.com', 'b@example.com'], sendResolved: true } } }),
    ];
    const doc = parse(renderAlertmanagerConfig([withRecipients, ...other], settings)) as Doc;
    expect(new Set(doc.receivers.map((r: Doc) => r.name)).size).toBe(doc.receivers.length);
    expect(doc.receivers).toHaveLength(3 + 3);
    expect(doc.route.routes).toHaveLength(2 + 3);
  });

  it('names the same receiver from the same recipients whatever the service, namespace or process (a restarted operator routes alike)', () => {
    // Pinned: the name is in the labels of alerts Prometheus and Alertmanager already hold.
    expect(recipientSetReceiver({ to: ['team@example.com'], sendResolved: true })).toBe('vigil-to:team@example.com');
    expect(recipientSetReceiver({ to: ['b@example.com', 'a@example.com'], sendResolved: false })).toBe('vigil-to:b@example.com,a@example.com;noresolved');
    // Past 200 characters: the first address, the count and a digest. The digest:
    // printf '%s' '[["oncall-000-xxxxxxxxxxxxxxxxxxxx@example.com",...,"oncall-004-..."],true]' | sha256sum, first 16 hex digits.
    const five = Array.from({ length: 5 }, (_, i) => `oncall-00${i}-xxxxxxxxxxxxxxxxxxxx@example.com`);
    expect(recipientSetReceiver({ to: five.slice(0, 4), sendResolved: true })).toBe(`vigil-to:${five.slice(0, 4).join(',')}`);
    expect(recipientSetReceiver({ to: five, sendResolved: true })).toBe('vigil-to:oncall-000-xxxxxxxxxxxxxxxxxxxx@example.com and 4 more;a3126575fbf38af2');
    expect(recipientSetReceiver({ to: five, sendResolved: false })).not.toBe(recipientSetReceiver({ to: five, sendResolved: true }));
    expect(recipientSetReceiver({ to: [], sendResolved: true })).toBe('vigil-default');
    expect(recipientSetReceiver(undefined)).toBe('vigil-default');
  });

  it.each(['demo', 'production'] as const)('uses the %s notification timings', (profile) => {
    const doc = parse(renderAlertmanagerConfig([], defaultSettings({ profile }))) as Doc;
    expect(doc.route).toMatchObject(NOTIFICATION_TIMINGS[profile]);
  });

  it('sends the first demo email at once, and only once per firing alert within a test run', () => {
    expect(NOTIFICATION_TIMINGS.demo).toEqual({ group_wait: '0s', group_interval: '1s', repeat_interval: '1h' });
    expect(NOTIFICATION_TIMINGS.production).toEqual({ group_wait: '30s', group_interval: '5m', repeat_interval: '4h' });
  });

  it('renders SMTP settings: implicit TLS on 465 without STARTTLS, credentials inline or from a file, TLS options', () => {
    const base: GlobalSettings['smtp'] = { smarthost: 'mail:465', from: 'v@x', requireTls: false };
    const inline = parse(renderAlertmanagerConfig([withRecipients], defaultSettings({ smtp: { ...base, authUsername: 'u', authPassword: 'p' } }))) as Doc;
    expect(inline.global).toEqual({ smtp_smarthost: 'mail:465', smtp_from: 'v@x', smtp_hello: 'vigil.local', smtp_auth_username: 'u', smtp_auth_password: 'p', smtp_require_tls: false });
    const fromFile = parse(renderAlertmanagerConfig([withRecipients], defaultSettings({ smtp: { ...base, hello: 'h', authUsername: 'u', authPassword: 'p', authPasswordFile: '/pw' } }))) as Doc;
    expect(fromFile.global).toEqual({ smtp_smarthost: 'mail:465', smtp_from: 'v@x', smtp_hello: 'h', smtp_auth_username: 'u', smtp_auth_password_file: '/pw', smtp_require_tls: false });
    const tls = parse(renderAlertmanagerConfig([withRecipients], defaultSettings({ smtp: { ...base, tlsCaFile: '/ca', tlsServerName: 'mail', tlsInsecureSkipVerify: true } }))) as Doc;
    expect(tls.receivers.find((r: Doc) => r.name === own).email_configs[0].tls_config).toEqual({ ca_file: '/ca', server_name: 'mail', insecure_skip_verify: true });
    expect(inline.receivers.find((r: Doc) => r.name === own).email_configs[0].tls_config).toBeUndefined();
  });

  it('forces implicit TLS when told to (any port), and leaves the port-based default to Alertmanager otherwise', () => {
    const forced = parse(renderAlertmanagerConfig([withRecipients], defaultSettings({ smtp: { smarthost: 'mail:10465', from: 'v@x', requireTls: false, forceImplicitTls: true } }))) as Doc;
    expect(forced.global).toMatchObject({ smtp_smarthost: 'mail:10465', smtp_force_implicit_tls: true });
    const starttls = parse(renderAlertmanagerConfig([withRecipients], defaultSettings({ smtp: { smarthost: 'mail:587', from: 'v@x', requireTls: true } }))) as Doc;
    expect(starttls.global).toMatchObject({ smtp_require_tls: true });
    expect(starttls.global).not.toHaveProperty('smtp_force_implicit_tls');
  });

  it('forces implicit TLS towards the default smarthost (stunnel) only, not towards one the settings name', () => {
    expect(defaultSettings().smtp).toMatchObject({ smarthost: 'mailcatcher:465', forceImplicitTls: true });
    expect(defaultSettings({ smtp: { smarthost: 'mail.example.com:587', from: 'a@b', requireTls: true } }).smtp.forceImplicitTls).toBeUndefined();
  });
});

describe('renderConfig', () => {
  const services = [
    service('shop', 'checkout', { notify: { email: { to: ['a@example.com'] } }, rules: [{ name: 'R', expr: 'x > 1' }] }),
    service('billing', 'invoices'),
    service('shop', 'cart', { endpoints: [{ port: 'b' }, { port: 'a' }] }),
    service('billing', 'checkout'),
  ];

  it('returns the file sets, hashes and sorted refs', () => {
    const out = renderConfig(services, settings);
    expect(Object.keys(out.prometheus)).toEqual([
      'billing__checkout.rules.yaml',
      'billing__invoices.rules.yaml',
      'prometheus.yml',
      'shop__cart.rules.yaml',
      'shop__checkout.rules.yaml',
      'vigil-watchdog.rules.yaml',
    ]);
    expect(Object.keys(out.alertmanager)).toEqual(['alertmanager.yml', 'vigil-email.tmpl']);
    expect(out.alertmanager['vigil-email.tmpl']).toBe(EMAIL_TEMPLATE);
    expect(out.included).toEqual([
      { namespace: 'billing', name: 'checkout' },
      { namespace: 'billing', name: 'invoices' },
      { namespace: 'shop', name: 'cart' },
      { namespace: 'shop', name: 'checkout' },
    ]);
    expect(out.prometheusHash).toMatch(/^[0-9a-f]{16}$/);
    expect(out.alertmanagerHash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('is byte-identical for the same set in any order', () => {
    const reference = renderConfig(services, settings);
    const orders = [[...services].reverse(), [services[2]!, services[0]!, services[3]!, services[1]!], [services[1]!, services[3]!, services[0]!, services[2]!]];
    for (const order of orders) {
      const shuffled = [...order].map((s) => ({ ...s, spec: { ...s.spec, endpoints: [...s.spec.endpoints].reverse() } }));
      const out = renderConfig(shuffled, settings);
      expect(out).toEqual(reference);
      expect(JSON.stringify(out)).toBe(JSON.stringify(reference)); // key order too
    }
  });

  it('changes exactly the affected hash when something changes', () => {
    const reference = renderConfig(services, settings);
    const changedRule = renderConfig(
      services.map((s, i) => (i === 1 ? { ...s, spec: { ...s.spec, downAlert: { ...s.spec.downAlert, for: '5m' } } } : s)),
      settings,
    );
    expect(changedRule.prometheusHash).not.toBe(reference.prometheusHash);
    expect(changedRule.alertmanagerHash).toBe(reference.alertmanagerHash);
    const changedRecipients = renderConfig(services, { ...settings, defaultRecipients: ['other@example.com'] });
    expect(changedRecipients.alertmanagerHash).not.toBe(reference.alertmanagerHash);
    expect(changedRecipients.prometheusHash).toBe(reference.prometheusHash);
  });

  it('renders an empty set to a valid skeleton', () => {
    const out = renderConfig([], settings);
    expect(Object.keys(out.prometheus)).toEqual(['prometheus.yml', 'vigil-watchdog.rules.yaml']);
    expect(out.included).toEqual([]);
  });
});

describe('config hashes', () => {
  const services = [
    service('shop', 'checkout', { notify: { email: { to: ['a@example.com'] } }, rules: [{ name: 'R', expr: 'x > 1' }] }),
    service('billing', 'invoices', { notify: { email: { to: ['b@example.com'] } } }),
    service('shop', 'cart', { endpoints: [{ port: 'b' }, { port: 'a' }] }),
    service('billing', 'checkout'),
  ];
  const reference = renderConfig(services, settings);
  const renamed = (i: number) => services.map((s, j) => (j === i ? { ...s, metadata: { ...s.metadata, name: `${s.metadata.name}-x` } } : s));

  it('move with each file that changes: a rule file, the skeleton, a name, one more or one fewer service', () => {
    const variants = [
      renderConfig(
        services.map((s, i) => (i === 0 ? { ...s, spec: { ...s.spec, downAlert: { ...s.spec.downAlert, for: '7m' } } } : s)),
        settings,
      ),
      renderConfig(services, { ...settings, scrapeInterval: '31s' }),
      renderConfig(renamed(2), settings),
      renderConfig(services.slice(1), settings),
      renderConfig([], settings),
    ];
    for (const v of variants) {
      expect(v.prometheus).not.toEqual(reference.prometheus);
      expect(v.prometheusHash).not.toBe(reference.prometheusHash);
    }
    expect(new Set(variants.map((v) => v.prometheusHash)).size).toBe(variants.length);
    // alertmanager.yml: routes and receivers are the recipient sets', not the services': a rename
    // leaves it as it was, a new recipient set moves it, the skeleton moves with the SMTP settings.
    expect(renderConfig(renamed(2), settings).alertmanagerHash).toBe(reference.alertmanagerHash);
    expect(
      renderConfig(
        services.map((s, i) => (i === 2 ? { ...s, spec: { ...s.spec, notify: { email: { to: ['c@example.com'], sendResolved: true } } } } : s)),
        settings,
      ).alertmanagerHash,
    ).not.toBe(reference.alertmanagerHash);
    expect(renderConfig(services, { ...settings, smtp: { ...settings.smtp, from: 'other@example.com' } }).alertmanagerHash).not.toBe(reference.alertmanagerHash);
  });

  it('stay for the same files', () => {
    const again = renderConfig([...services].reverse(), { ...settings });
    expect([again.prometheusHash, again.alertmanagerHash]).toEqual([reference.prometheusHash, reference.alertmanagerHash]);
  });
});

describe('defaultSettings', () => {
  it('has production defaults and merges SMTP overrides field by field', () => {
    const d = defaultSettings();
    expect(d).toMatchObject({ profile: 'production', scrapeInterval: '15s', evaluationInterval: '15s', rulesDir: '.' });
    expect(d.smtp).toMatchObject({ smarthost: 'mailcatcher:465', requireTls: false });
    const o = defaultSettings({ profile: 'demo', smtp: { ...d.smtp, from: 'x@y' } });
    expect(o.profile).toBe('demo');
    expect(o.smtp).toMatchObject({ smarthost: 'mailcatcher:465', from: 'x@y' });
  });
});

describe("Watchdog (dead man's switch)", () => {
  it('always fires, and its route posts it to the webhook every interval, never by email', () => {
    const withHook = defaultSettings({ defaultRecipients: ['ops@example.com'], evaluationInterval: '30s', watchdog: { webhookUrl: 'https://hb.example.com/ping', interval: '2m' } });
    const out = renderConfig([service('shop', 'checkout')], withHook);
    const rules = parse(out.prometheus['vigil-watchdog.rules.yaml']!) as Doc;
    expect(rules.groups).toHaveLength(1);
    expect(rules.groups[0]).toMatchObject({ name: 'vigil/watchdog', interval: '30s' });
    expect(rules.groups[0].rules).toEqual([expect.objectContaining({ alert: 'Watchdog', expr: 'vector(1)', labels: { severity: 'none', vigil_watchdog: 'true' } })]);
    const am = parse(out.alertmanager['alertmanager.yml']!) as Doc;
    expect(am.route.routes[0]).toEqual({
      receiver: 'vigil-watchdog',
      matchers: ['vigil_watchdog="true"'],
      // With shards, one group (one heartbeat) per shard; one Prometheus's Watchdog has no vigil_shard.
      group_by: ['alertname', 'vigil_shard'],
      group_wait: '0s',
      group_interval: '2m',
      repeat_interval: '2m',
      continue: false,
    });
    const receiver = am.receivers.find((r: Doc) => r.name === 'vigil-watchdog');
    expect(receiver).toEqual({ name: 'vigil-watchdog', webhook_configs: [{ url: 'https://hb.example.com/ping', send_resolved: false }] });
    // An empty URL (the chart's default) is no webhook, not an invalid one.
    const none = parse(renderConfig([], defaultSettings({ watchdog: { webhookUrl: '' } })).alertmanager['alertmanager.yml']!) as Doc;
    expect(none.receivers.find((r: Doc) => r.name === 'vigil-watchdog')).toEqual({ name: 'vigil-watchdog' });
  });
});
