import { defaultSettings } from '../render/index.js';
import { renderConfig } from '../assemble/config.js';
import { formatIssue, validateMonitoredService } from './index.js';

const valid = () => ({
  apiVersion: 'vigil.dev/v1alpha1',
  kind: 'MonitoredService',
  metadata: { name: 'checkout', namespace: 'shop' },
  spec: {
    selector: { matchLabels: { 'app.kubernetes.io/name': 'checkout' } },
    endpoints: [{ port: 'metrics' }],
    rules: [{ name: 'HighErrorRate', expr: 'rate(http_requests_total{code=~"5.."}[5m]) > 1', summary: '{{ $labels.instance }} fails' }],
    notify: { email: { to: ['shop@example.com'] } },
  },
});

type Mutable = ReturnType<typeof valid> & Record<string, any>;
function issuesOf(mutate: (o: Mutable) => void): string[] {
  const o = valid() as Mutable;
  mutate(o);
  const result = validateMonitoredService(o);
  if (result.ok) return [];
  return result.issues.map((i) => `${i.field}: ${i.message}`);
}

describe('validateMonitoredService', () => {
  it('accepts a valid object and fills in defaults', () => {
    const result = validateMonitoredService(valid());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    // interval and scrapeTimeout stay unset: render/scrape-timing.ts composes their defaults.
    expect(result.service.spec.endpoints[0]).toEqual({ port: 'metrics', path: '/metrics', scheme: 'http' });
    expect(result.service.spec.downAlert).toEqual({ enabled: true, for: '1m', severity: 'critical' });
  });

  it.each([null, undefined, 42, 'text', [], [1, 2]])('never throws for %p', (raw) => {
    const result = validateMonitoredService(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.ref).toEqual({ namespace: '<no namespace>', name: '<no name>' });
  });

  it('reports a huge string without running the regexes on it', () => {
    const start = Date.now();
    expect(issuesOf((o) => (o.spec.endpoints[0]!.port = 'a'.repeat(10_000_000)))).toEqual(['spec.endpoints[0].port: is 10000000 characters long; far above any accepted length']);
    expect(Date.now() - start).toBeLessThan(5000);
  });

  it('reports a self-referencing object', () => {
    const o: Record<string, unknown> = { metadata: { name: 'x', namespace: 'y' } };
    o.spec = o;
    const result = validateMonitoredService(o);
    expect(result.ok ? [] : result.issues).toEqual([{ field: 'spec', message: 'refers to itself (YAML alias cycle)' }]);
  });

  it('names missing required fields', () => {
    expect(issuesOf((o) => delete (o.spec as Record<string, unknown>).endpoints)).toEqual(['spec.endpoints: is required (a list)']);
  });

  it('names wrong types with what was given', () => {
    expect(issuesOf((o) => (o.spec.endpoints = 'metrics' as never))).toEqual(['spec.endpoints: must be a list, got the string "metrics"']);
  });

  it('lists enum options', () => {
    expect(issuesOf((o) => (o.spec.endpoints[0] = { port: 'metrics', scheme: 'ftp' } as never))).toEqual(['spec.endpoints[0].scheme: must be one of "http", "https"']);
  });

  it('rejects a scrapeTimeout above the interval', () => {
    expect(issuesOf((o) => (o.spec.endpoints[0] = { port: 'metrics', interval: '30s', scrapeTimeout: '1m' } as never))).toEqual([
      'spec.endpoints[0].scrapeTimeout: 1m exceeds interval 30s; the scrape timeout must not exceed the interval (leave scrapeTimeout out to get min(10s, interval))',
    ]);
  });

  it('never refuses an object because of a default the user did not write (#11)', () => {
    // Neighbours of the default timeout (10s) and interval (15s), each written alone.
    for (const endpoint of [{ interval: '5s' }, { interval: '9s999ms' }, { interval: '10s' }, { interval: '11s' }, { scrapeTimeout: '15s' }, { scrapeTimeout: '20s' }, { scrapeTimeout: '1m' }]) {
      expect(issuesOf((o) => (o.spec.endpoints[0] = { port: 'metrics', ...endpoint } as never))).toEqual([]);
    }
  });

  it("refuses interval + scrapeTimeout above Prometheus's 5m lookback, defaults composed (up would have gaps between scrapes)", () => {
    // Without rules: the example's rate(...[5m]) would be too short for these intervals.
    const endpoint = (e: { interval?: string; scrapeTimeout?: string }) =>
      issuesOf((o) => {
        o.spec.endpoints[0] = { port: 'metrics', ...e } as never;
        o.spec.rules = [];
        // Long enough for any restart (the next test shows what a shorter one does).
        (o.spec as Record<string, unknown>).downAlert = { for: '10m' };
      });
    for (const ok of [{ interval: '4m50s' }, { interval: '4m', scrapeTimeout: '1m' }, { scrapeTimeout: '2m30s' }, { interval: '2m30s', scrapeTimeout: '2m30s' }]) expect(endpoint(ok)).toEqual([]);
    expect(endpoint({ interval: '5m' })).toEqual([
      "spec.endpoints[0].interval: interval 5m plus scrapeTimeout 10s exceeds 5m, how far back Prometheus looks for a sample: between two scrapes up has no current sample, so ServiceDown fires for a healthy app (and rules' for restarts); use an interval of at most 4m50s with this scrapeTimeout",
    ]);
    expect(endpoint({ interval: '4m50s1ms' })).toHaveLength(1);
    expect(endpoint({ interval: '4m', scrapeTimeout: '1m1s' })).toEqual([
      expect.stringMatching(/^spec\.endpoints\[0\]\.interval: interval 4m plus scrapeTimeout 1m1s exceeds 5m.*at most 3m59s with this scrapeTimeout$/),
    ]);
    expect(endpoint({ scrapeTimeout: '2m31s' })).toEqual([
      expect.stringMatching(/^spec\.endpoints\[0\]\.scrapeTimeout: interval 2m31s plus scrapeTimeout 2m31s exceeds 5m.*use a scrapeTimeout of at most 2m30s$/),
    ]);
  });

  it("refuses a downAlert for that a Prometheus restart on a kept TSDB can outlast, with the install's evaluationInterval", () => {
    const withTiming = (forText: string, endpoint: Record<string, string>) => {
      const o = valid() as Mutable;
      o.spec.endpoints[0] = { port: 'metrics', ...endpoint } as never;
      o.spec.rules = [];
      (o.spec as Record<string, unknown>).downAlert = { for: forText };
      return o;
    };
    const issues = (raw: unknown, evaluationInterval?: string) => {
      const result =
        evaluationInterval === undefined
          ? validateMonitoredService(raw)
          : validateMonitoredService(raw, (s) => {
              renderConfig([s], defaultSettings({ evaluationInterval }));
            });
      return result.ok ? [] : result.issues.map((i) => `${i.field}: ${i.message}`);
    };
    // Default settings (15s evaluations): interval 4m + 10s leaves up to 4m40s without up; for above 4m30s passes.
    expect(issues(withTiming('4m30s', { interval: '4m' }))).toEqual([
      'spec.downAlert.for: 4m30s is too short for spec.endpoints[0] (interval 4m, scrapeTimeout 10s, evaluationInterval 15s): after a Prometheus restart on a kept TSDB a healthy service can go without a current up sample for up to 4m40s (Prometheus writes no staleness marker at shutdown, so the last sample runs out of the 5m lookback while the restarted one still discovers and scrapes the target), and ServiceDown would page it; use a for above 4m30s, or an interval of at most 3m50s on spec.endpoints[0] with this scrapeTimeout',
    ]);
    expect(issues(withTiming('4m30s1ms', { interval: '4m' }))).toEqual([]);
    // The edge of 'up can run out while the record counts' moves with the evaluation interval: 1m20s at 15s, 1m15s at 30s.
    expect(issues(withTiming('1m', { interval: '1m20s' }))).toEqual([]);
    expect(issues(withTiming('1m', { interval: '1m20s' }), '30s')).toEqual([
      expect.stringMatching(/^spec\.downAlert\.for: 1m is too short .*evaluationInterval 30s.*at most 1m15s on spec\.endpoints\[0\] with this scrapeTimeout$/),
    ]);
    // A service without ServiceDown has nothing to refuse.
    expect(issues({ ...withTiming('0s', { interval: '4m' }), spec: { ...withTiming('0s', { interval: '4m' }).spec, downAlert: { enabled: false, for: '0s' } } })).toEqual([]);
  });

  it('refuses scrape timeouts below 1s, and intervals that would give one (a healthy target would fail its scrapes)', () => {
    const endpoint = (e: { interval?: string; scrapeTimeout?: string }) => issuesOf((o) => (o.spec.endpoints[0] = { port: 'metrics', ...e } as never));
    for (const ok of [{ interval: '1s' }, { interval: '1s', scrapeTimeout: '1s' }, { scrapeTimeout: '1s' }]) expect(endpoint(ok)).toEqual([]);
    expect(endpoint({ interval: '1ms' })).toEqual([
      'spec.endpoints[0].interval: 1ms is below 1s: the scrape timeout (at most the interval) would be shorter, and a healthy target fails every scrape that takes longer, so ServiceDown pages for it; use at least 1s, e.g. 15s',
    ]);
    expect(endpoint({ interval: '15s', scrapeTimeout: '999ms' })).toEqual([
      'spec.endpoints[0].scrapeTimeout: 999ms is below 1s: a healthy target fails every scrape that takes longer (a TLS handshake, a GC pause, a large exposition), so ServiceDown pages for it; use at least 1s, e.g. 10s',
    ]);
    expect(endpoint({ interval: '0s' })).toEqual([expect.stringMatching(/^spec\.endpoints\[0\]\.interval: 0s is below 1s/)]);
  });

  it('rejects day units in scrape durations (CEL cannot compare them)', () => {
    expect(issuesOf((o) => (o.spec.endpoints[0] = { port: 'metrics', interval: '1d' } as never))).toEqual([
      'spec.endpoints[0].interval: must be a duration such as 15s, 1m or 1m30s (units h, m, s, ms in that order)',
    ]);
  });

  it('rejects durations with units out of order', () => {
    expect(issuesOf((o) => ((o.spec as Record<string, unknown>).downAlert = { for: '30s1m' }))).toEqual([
      'spec.downAlert.for: must be a Prometheus duration such as 30s, 1m, 1h30m or 1d (units y, w, d, h, m, s, ms in that order)',
    ]);
  });

  it('rejects an empty selector and values for Exists', () => {
    expect(issuesOf((o) => (o.spec.selector = {} as never))).toEqual(['spec.selector: must set matchLabels or matchExpressions (an empty selector would scrape every Service in the namespace)']);
    expect(issuesOf((o) => (o.spec.selector = { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] } as never))).toEqual([
      'spec.selector.matchExpressions[0].values: must be empty for operator Exists',
    ]);
  });

  it('refuses selector keys that are one label for Prometheus (a.b, a-b: both __meta_kubernetes_service_label_a_b), naming both', () => {
    expect(issuesOf((o) => (o.spec.selector = { matchLabels: { 'a.b': 'x', 'a-b': 'y' } } as never))).toEqual([
      'spec.selector.matchLabels["a-b"]: label key a-b and spec.selector.matchLabels["a.b"] (a.b) are the same label for Prometheus (a_b: it turns every character outside [a-zA-Z0-9_] into _), which holds only one Service label\'s value, so the selector would discover nothing; use keys that differ in letters, digits or _',
    ]);
    // Across matchLabels and matchExpressions too.
    expect(issuesOf((o) => (o.spec.selector = { matchLabels: { 'app.kubernetes.io/name': 'checkout' }, matchExpressions: [{ key: 'app_kubernetes_io_name', operator: 'Exists' }] } as never))).toEqual([
      expect.stringMatching(
        /^spec\.selector\.matchExpressions\[0\]\.key: label key app_kubernetes_io_name and spec\.selector\.matchLabels\["app\.kubernetes\.io\/name"\] \(app\.kubernetes\.io\/name\) are the same label for Prometheus \(app_kubernetes_io_name:/,
      ),
    ]);
    // One key in both places is one Kubernetes label: accepted.
    expect(issuesOf((o) => (o.spec.selector = { matchLabels: { 'a.b': 'x' }, matchExpressions: [{ key: 'a.b', operator: 'In', values: ['x', 'y'] }] } as never))).toEqual([]);
  });

  it("refuses a template reference to a label the expression's result cannot have (aggregated away), naming what it has", () => {
    expect(
      issuesOf((o) => {
        o.spec.rules[0]!.expr = 'sum by (route) (rate(http_requests_total[5m])) > 1';
        o.spec.rules[0]!.summary = '{{ $labels.instance }} on {{ $labels.route }} in {{ $labels.namespace }}';
      }),
    ).toEqual([
      "spec.rules[0].summary: refers to label instance, which the expression's result cannot have (its series carry only route): Prometheus expands this text with the result's labels, so it would print an empty value; keep instance in the aggregation (e.g. by (instance, route)) or leave the reference out",
    ]);
    expect(
      issuesOf((o) => {
        o.spec.rules[0]!.expr = 'sum(rate(http_requests_total[5m])) > 1';
        (o.spec.rules[0] as Record<string, unknown>).labels = { who: '{{ $labels.pod }}' };
      }),
    ).toEqual([
      "spec.rules[0].summary: refers to label instance, which the expression's result cannot have (its series carry no label): Prometheus expands this text with the result's labels, so it would print an empty value; keep instance in the aggregation (e.g. by (instance)) or leave the reference out",
      "spec.rules[0].labels.who: refers to label pod, which the expression's result cannot have (its series carry no label): Prometheus expands this text with the result's labels, so it would print an empty value; keep pod in the aggregation (e.g. by (pod)) or leave the reference out",
    ]);
    // UTF-8 label names (OpenTelemetry's http.method) are quoted in the advice, as by (...) needs them.
    expect(
      issuesOf((o) => {
        o.spec.rules[0]!.expr = 'sum by ("http.route") (rate(http_requests_total[5m])) > 1';
        o.spec.rules[0]!.summary = '{{ index $labels "http.method" }} on {{ index $labels "http.route" }}';
      }),
    ).toEqual([
      'spec.rules[0].summary: refers to label http.method, which the expression\'s result cannot have (its series carry only http.route): Prometheus expands this text with the result\'s labels, so it would print an empty value; keep http.method in the aggregation (e.g. by ("http.method", "http.route")) or leave the reference out',
    ]);
    // Where labels pass through, nothing is known: accepted.
    expect(issuesOf((o) => (o.spec.rules[0]!.summary = '{{ $labels.anything }}'))).toEqual([]);
  });

  it('refuses a recipient Alertmanager cannot parse: it fails the whole to list', () => {
    expect(issuesOf((o) => (o.spec.notify.email.to = ['oncall@example.com', 'john..doe@example.com']))).toEqual([
      "spec.notify.email.to[1]: Alertmanager's address parser (Go net/mail) refuses it, and then no one on the list gets the email: the part before @ must not start or end with a dot or have two dots in a row",
    ]);
    expect(issuesOf((o) => (o.spec.notify.email.to = ['oncall+pager@example.com', 'ops@xn--bcher-kva.example']))).toEqual([]);
  });

  it('refuses a recipient listed twice (the domain compared without case), naming both entries', () => {
    expect(issuesOf((o) => (o.spec.notify.email.to = ['shop@example.com', 'ops@example.com', 'shop@EXAMPLE.com']))).toEqual([
      'spec.notify.email.to[2]: shop@EXAMPLE.com is already listed as spec.notify.email.to[0]; list each recipient once (Alertmanager would send every email to it twice)',
    ]);
    // Local parts are case-sensitive by RFC 5321: different mailboxes as far as Vigil can tell.
    expect(issuesOf((o) => (o.spec.notify.email.to = ['shop@example.com', 'Shop@example.com']))).toEqual([]);
  });

  it('rejects duplicate ports and rule names', () => {
    expect(issuesOf((o) => o.spec.endpoints.push({ port: 'metrics' }))).toEqual(['spec.endpoints[1].port: port "metrics" is already scraped by spec.endpoints[0]; list each port once']);
    expect(issuesOf((o) => o.spec.rules.push({ name: 'HighErrorRate', expr: 'up == 0' } as never))).toEqual([
      'spec.rules[1].name: duplicate rule name "HighErrorRate" (also spec.rules[0].name); names must be unique within a MonitoredService',
    ]);
  });

  it("refuses the names of Vigil's own alerts (heartbeat, test email) for a rule, whatever downAlert says", () => {
    for (const name of ['Watchdog', 'VigilTestEmail']) {
      const message = `spec.rules[0].name: ${name} is reserved for Vigil's built-in alerts (Watchdog, VigilTestEmail); choose another name`;
      expect(issuesOf((o) => (o.spec.rules[0]!.name = name))).toEqual([message]);
      expect(
        issuesOf((o) => {
          o.spec.rules[0]!.name = name;
          (o.spec as { downAlert?: unknown }).downAlert = { enabled: false };
        }),
      ).toEqual([message]);
    }
  });

  it('rejects an invalid PromQL expression', () => {
    expect(issuesOf((o) => (o.spec.rules[0]!.expr = 'rate(http_requests_total[5m] > 1'))).toEqual([
      'spec.rules[0].expr: Prometheus 3.15.1 cannot parse it: 1:33: parse error: unclosed left parenthesis',
    ]);
  });

  it('rejects a range that is not positive when the rule is evaluated (step() and range() are 0s there)', () => {
    expect(issuesOf((o) => (o.spec.rules[0]!.expr = 'rate(http_requests_total[step()*4]) > 1'))).toEqual([
      'spec.rules[0].expr: Prometheus 3.15.1 would fail it at every rule evaluation: 25:33: duration must be greater than 0 (a rule is evaluated as an instant query, where step() and range() are 0s; ranges and subquery steps must come out positive, e.g. [5m] or [max_of(step()*4, 5m)])',
    ]);
  });

  it('rejects reserved label names', () => {
    expect(issuesOf((o) => ((o.spec.rules[0] as Record<string, unknown>).labels = { severity: 'page', vigil_namespace: 'x', team: 'a' }))).toEqual([
      "spec.rules[0].labels.severity: label severity cannot be set here: severity is set by the rule's severity field",
      'spec.rules[0].labels.vigil_namespace: label vigil_namespace cannot be set here: names starting with vigil_ are reserved: Vigil routes alerts on them',
    ]);
    expect(issuesOf((o) => ((o.spec.rules[0] as Record<string, unknown>).labels = { namespace: 'payments', cluster: 'prod', team: 'a' }))).toEqual([
      "spec.rules[0].labels.namespace: label namespace cannot be set here: namespace is set to the MonitoredService's own namespace on every alert (tenancy: a rule cannot speak for another namespace)",
      "spec.rules[0].labels.cluster: label cluster cannot be set here: cluster is the install's external label (the chart's clusterName); Prometheus keeps a rule's own cluster label instead of it, so the alert would claim another cluster",
    ]);
    expect(issuesOf((o) => ((o.spec.rules[0] as Record<string, unknown>).labels = { __x: 'a' }))).toEqual([
      'spec.rules[0].labels.__x: label __x cannot be set here: names starting with __ are reserved for Prometheus internals',
    ]);
    expect(issuesOf((o) => ((o.spec.rules[0] as Record<string, unknown>).labels = { 'team-name': 'a' }))).toEqual([
      'spec.rules[0].labels["team-name"]: key "team-name" must be a Prometheus label name: letters, digits and _, not starting with a digit',
    ]);
  });

  it('rejects a broken summary template', () => {
    expect(issuesOf((o) => (o.spec.rules[0]!.summary = '{{ $labels.instance'))).toEqual([
      'spec.rules[0].summary: Prometheus 3.15.1 cannot parse it: template: __alert_HighErrorRate:1: unclosed action (Prometheus template syntax, e.g. {{ $labels.instance }} or {{ $value | humanize }})',
    ]);
  });

  it('rejects a template that would loop or expand to megabytes, naming what to change', () => {
    const started = Date.now();
    expect(issuesOf((o) => ((o.spec.rules[0] as Record<string, unknown>).description = `{{ range 3000000 }}${'x'.repeat(100)}{{ end }}`))).toEqual([
      'spec.rules[0].description: is too costly to expand: {{ range 3000000 }} repeats its body that many times at every evaluation; range over $labels (e.g. {{ range $k, $v := $labels }}) or write the text out',
    ]);
    expect(issuesOf((o) => (o.spec.rules[0]!.summary = '{{ printf "%0999999d" 1 }}'))).toEqual([
      'spec.rules[0].summary: is too costly to expand: the format "%0999999d" pads to 999999 characters; widths and precisions up to 100 are accepted',
    ]);
    expect(Date.now() - started).toBeLessThan(10_000); // generous: refused before expanding
  });

  it('rejects email addresses that could inject headers', () => {
    expect(issuesOf((o) => (o.spec.notify.email.to = ['a@example.com\r\nBcc: b@example.com']))).toEqual([
      'spec.notify.email.to[0]: contains a line break, which could inject mail headers; give one plain address such as team@example.com',
    ]);
  });

  it('reports unknown fields with a suggestion', () => {
    expect(issuesOf((o) => ((o.spec.endpoints[0] as Record<string, unknown>).scrapeTimout = '5s'))).toEqual([
      'spec.endpoints[0].scrapeTimout: unknown field (did you mean scrapeTimeout?); accepted fields here: port, path, params, scheme, interval, scrapeTimeout, tlsConfig, authorization, basicAuth, nativeHistograms, alwaysScrapeClassicHistograms',
    ]);
  });

  it('refuses ?, # and % in the metrics path, each with what to write instead', () => {
    const path = (p: string) => issuesOf((o) => (o.spec.endpoints[0] = { port: 'metrics', path: p } as never));
    expect(path('/metrics?format=prometheus')).toEqual([
      'spec.endpoints[0].path: must not contain ?: Prometheus would request it as part of the path (/metrics%3Fformat=...) and get 404; put query parameters in params, e.g. params: {format: [prometheus]}',
    ]);
    expect(path('/metrics#top')).toEqual(['spec.endpoints[0].path: must not contain #: Prometheus would request it as part of the path (%23), never as a fragment; leave the fragment out']);
    expect(path('/metrics%2Fprom')).toEqual(['spec.endpoints[0].path: must not contain %: Prometheus percent-encodes the path itself, so %2F would be requested as %252F; write the character itself']);
    // Every other printable character reaches the app as written (Go's url.URL.Path).
    for (const ok of ['/metrics', '/', '/a+b;c=d,e', "/x/(y)/*/!/'/$/&/@/:/~", '/prom/metrics.txt']) expect(path(ok)).toEqual([]);
  });

  it('takes params as name: list of values, and refuses an empty list or name', () => {
    const params = (p: unknown) => issuesOf((o) => (o.spec.endpoints[0] = { port: 'metrics', params: p } as never));
    expect(params({ format: ['prometheus'], 'collect[]': ['cpu', 'memory'], 'odd name': ['a b&c=d'] })).toEqual([]);
    expect(params({ format: [] })).toEqual(['spec.endpoints[0].params.format: must list at least one value (an empty list sends nothing)']);
    expect(params({ format: 'prometheus' })).toEqual(['spec.endpoints[0].params.format: must be a list, got the string "prometheus"']);
    expect(params({ '': ['x'] })).toEqual(['spec.endpoints[0].params[""]: key "" must not be empty']);
    expect(params(Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`p${i}`, ['x']])))).toEqual([]);
    expect(params(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`p${i}`, ['x']])))).toEqual(['spec.endpoints[0].params: must have at most 32 parameters, got 33']);
  });

  it('limits metadata so generated names stay valid', () => {
    expect(issuesOf((o) => (o.metadata.name = 'a'.repeat(178)))).toEqual(['metadata.name: must be at most 177 characters, so that the generated rule file name stays a valid ConfigMap key']);
    expect(issuesOf((o) => (o.metadata.namespace = 'Shop'))).toEqual(['metadata.namespace: must be a DNS label: lowercase letters, digits and -, starting and ending with a letter or digit']);
  });

  it("refuses a rule label that is one of the install's external labels, naming it", () => {
    const o = valid() as Mutable;
    (o.spec.rules[0] as Record<string, unknown>).labels = { region: 'us' };
    const result = validateMonitoredService(o, (service) => renderConfig([service], defaultSettings({ externalLabels: { cluster: 'prod', region: 'eu' } })));
    expect(result.ok ? [] : result.issues.map((i) => `${i.field}: ${i.message}`)).toEqual([
      "spec: cannot be turned into Prometheus/Alertmanager configuration: spec.rules[0].labels.region: label region is an external label of this install; Prometheus would keep the rule's value instead of the install's, so remove it",
    ]);
  });

  it('accepts every Service port name the API server accepts (a DNS-1123 label, digits only included) and refuses the others', () => {
    // Service, Endpoints and EndpointSlice port names are checked with ValidateDNS1123Label
    // (k8s.io/kubernetes pkg/apis/core/validation validateServicePort); the IANA_SVC_NAME rule
    // (at least one letter, at most 15 characters, no --) is for container ports only.
    for (const port of ['9090', 'a--b', 'http-metrics', 'x'.repeat(63), '0']) expect(issuesOf((o) => (o.spec.endpoints[0]!.port = port))).toEqual([]);
    for (const port of ['-http', 'http-', 'Metrics', 'http_metrics', 'x'.repeat(64)]) expect(issuesOf((o) => (o.spec.endpoints[0]!.port = port))).toHaveLength(1);
  });

  it('reports every problem of an object in one run', () => {
    const issues = issuesOf((o) => {
      o.spec.rules[0]!.expr = 'up ==';
      o.spec.notify.email.to = ['nobody'];
      o.spec.endpoints[0] = { port: 'Metrics' } as never;
    });
    expect(issues.map((i) => i.split(':')[0])).toEqual(['spec.endpoints[0].port', 'spec.notify.email.to[0]', 'spec.rules[0].expr']);
  });
});

describe('formatIssue', () => {
  it('prints namespace/name: field: message', () => {
    expect(formatIssue({ namespace: 'shop', name: 'checkout' }, { field: 'spec.rules[0].expr', message: 'is bad' })).toBe('shop/checkout: spec.rules[0].expr: is bad');
  });
});
