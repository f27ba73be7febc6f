// The catalogue of hostile and broken MonitoredServices (issue 4, item 1), as data.
// Each case says what must happen to it:
//   rejected-by-apiserver  kube-apiserver refuses it at apply time (CRD schema, CEL, strict field
//                          validation); the error names `field` (or `apiserverField` where the
//                          API server spells the path differently).
//   invalid                admitted, then the operator marks it Valid=False naming `field`, and
//                          leaves it out of the generated config.
//   accepted-safely        a legal object that must not cause harm (a trap that is defused, e.g. a
//                          match-everything regex that gets the namespace matcher added).
// The same objects drive the unit test (validateMonitoredService, renderConfig), the integration
// test (real API server, operator, Prometheus, Alertmanager) and docs/faults.md.

export const GROUP_VERSION = 'vigil.dev/v1alpha1';
/** Namespace of the hostile objects (a few cases pick their own). */
export const HOSTILE_NS = 'hostile';
export const GOOD_NAMESPACES = ['team-a', 'team-b'];
/** The longest namespace name Kubernetes accepts (a DNS-1123 label), for the longest-names case. */
export const LONGEST_NS = 'l'.repeat(63);
export const ALL_NAMESPACES = [HOSTILE_NS, ...GOOD_NAMESPACES, LONGEST_NS];

type Obj = Record<string, any>;

export type Expectation =
  | { outcome: 'rejected-by-apiserver'; field: string; apiserverField?: string }
  | { outcome: 'invalid'; field: string }
  | {
      outcome: 'accepted-safely';
      /** Every one must match the object's rendered rule file (e.g. the namespace matcher that was added). */
      ruleFileMatches?: RegExp[];
      /** None may match the object's rendered rule file. */
      ruleFileMustNotMatch?: RegExp[];
    };

export interface HostileCase {
  id: string;
  /** What the case tries (the docs/faults.md row). */
  what: string;
  /** What the system does about it, in words (the docs/faults.md row). */
  handling: string;
  object: Obj;
  expect: Expectation;
}

function goodSpec(name: string): Obj {
  return {
    selector: { matchLabels: { app: name } },
    endpoints: [{ port: 'metrics', interval: '15s', scrapeTimeout: '10s' }],
    rules: [
      {
        name: 'HighErrorRate',
        expr: 'sum by (instance) (rate(http_requests_total{code=~"5.."}[5m])) > 1',
        for: '2m',
        summary: '{{ $labels.instance }} answers with errors',
      },
      // Fires at once and forever (no selector, nothing to scrape): proves alerts still flow.
      { name: 'CanaryAlwaysFiring', expr: 'vector(1) > 0', severity: 'info', summary: 'canary: the rule pipeline works' },
    ],
    notify: { email: { to: [`${name}-oncall@example.com`] } },
  };
}

/** The three well-behaved services whose config must not change whatever the catalogue does. */
export function goodServices(): Obj[] {
  const svc = (namespace: string, name: string) => ({ apiVersion: GROUP_VERSION, kind: 'MonitoredService', metadata: { namespace, name }, spec: goodSpec(name) });
  return [svc('team-a', 'checkout'), svc('team-a', 'payments'), svc('team-b', 'search')];
}

/** A valid MonitoredService in the hostile namespace, changed by `mutate`. */
function hostile(name: string, mutate: (spec: Obj, object: Obj) => void, namespace = HOSTILE_NS): Obj {
  const object: Obj = { apiVersion: GROUP_VERSION, kind: 'MonitoredService', metadata: { namespace, name }, spec: goodSpec(name) };
  mutate(object.spec, object);
  return object;
}

function withRule(rule: Obj): (spec: Obj) => void {
  return (spec) => {
    spec.rules = [{ name: 'Hostile', expr: 'up == 0', ...rule }];
  };
}

const rejected = (field: string, apiserverField?: string): Expectation =>
  apiserverField === undefined ? { outcome: 'rejected-by-apiserver', field } : { outcome: 'rejected-by-apiserver', field, apiserverField };
const invalid = (field: string): Expectation => ({ outcome: 'invalid', field });

const MIB = 1024 * 1024;

export function hostileCatalogue(): HostileCase[] {
  const cases: HostileCase[] = [
    // --- wrong types and missing fields -------------------------------------------------------
    {
      id: 'spec-is-a-string',
      what: 'spec is a string instead of a map',
      handling: 'rejected by the API server (schema type)',
      object: { apiVersion: GROUP_VERSION, kind: 'MonitoredService', metadata: { namespace: HOSTILE_NS, name: 'spec-is-a-string' }, spec: 'scrape everything' },
      expect: rejected('spec'),
    },
    {
      id: 'missing-spec',
      what: 'no spec at all',
      handling: 'rejected by the API server (spec is required)',
      object: { apiVersion: GROUP_VERSION, kind: 'MonitoredService', metadata: { namespace: HOSTILE_NS, name: 'missing-spec' } },
      expect: rejected('spec'),
    },
    {
      id: 'missing-selector',
      what: 'spec without selector',
      handling: 'rejected by the API server (selector is required)',
      object: hostile('missing-selector', (spec) => delete spec.selector),
      expect: rejected('spec.selector'),
    },
    {
      id: 'empty-selector',
      what: 'selector {} (would scrape every Service of the namespace)',
      handling: 'rejected by the API server (CEL rule on spec.selector)',
      object: hostile('empty-selector', (spec) => (spec.selector = {})),
      expect: rejected('spec.selector'),
    },
    {
      id: 'port-is-a-number',
      what: 'endpoint port given as the number 8080 instead of the port name',
      handling: 'rejected by the API server (schema type)',
      object: hostile('port-is-a-number', (spec) => (spec.endpoints[0].port = 8080)),
      expect: rejected('spec.endpoints[0].port'),
    },
    {
      id: 'endpoints-is-a-map',
      what: 'endpoints is a map instead of a list',
      handling: 'rejected by the API server (strict decoding: a map where a list belongs)',
      object: hostile('endpoints-is-a-map', (spec) => (spec.endpoints = { port: 'metrics' })),
      expect: rejected('spec.endpoints'),
    },
    {
      id: 'no-endpoints',
      what: 'endpoints: [] (nothing to scrape)',
      handling: 'rejected by the API server (minItems 1)',
      object: hostile('no-endpoints', (spec) => (spec.endpoints = [])),
      expect: rejected('spec.endpoints'),
    },
    {
      id: 'enabled-is-a-string',
      what: 'downAlert.enabled: "yes" (a string, not a boolean)',
      handling: 'rejected by the API server (schema type)',
      object: hostile('enabled-is-a-string', (spec) => (spec.downAlert = { enabled: 'yes' })),
      expect: rejected('spec.downAlert.enabled'),
    },
    {
      id: 'rule-without-expr',
      what: 'a custom rule without expr',
      handling: 'rejected by the API server (expr is required)',
      object: hostile('rule-without-expr', (spec) => (spec.rules = [{ name: 'NoExpr' }])),
      expect: rejected('spec.rules[0].expr'),
    },
    {
      id: 'unknown-field-typo',
      what: 'typo scrapeTimout (unknown field; would silently fall back to the default)',
      handling: 'rejected by the API server: kubectl uses strict field validation',
      object: hostile('unknown-field-typo', (spec) => (spec.endpoints[0].scrapeTimout = '5s')),
      expect: rejected('spec.endpoints[0].scrapeTimout'),
    },
    // --- enums, patterns, sizes ----------------------------------------------------------------
    {
      id: 'scheme-ftp',
      what: 'scheme: ftp',
      handling: 'rejected by the API server (enum http, https)',
      object: hostile('scheme-ftp', (spec) => (spec.endpoints[0].scheme = 'ftp')),
      expect: rejected('spec.endpoints[0].scheme'),
    },
    {
      id: 'severity-page',
      what: 'rule severity: page',
      handling: 'rejected by the API server (enum critical, warning, info)',
      object: hostile('severity-page', withRule({ severity: 'page' })),
      expect: rejected('spec.rules[0].severity'),
    },
    {
      id: 'path-without-slash',
      what: 'metrics path "metrics pls" (no leading /, a space)',
      handling: 'rejected by the API server (pattern)',
      object: hostile('path-without-slash', (spec) => (spec.endpoints[0].path = 'metrics pls')),
      expect: rejected('spec.endpoints[0].path'),
    },
    {
      id: 'path-query-string',
      what: 'metrics path /metrics?format=prometheus (Prometheus requests /metrics%3Fformat=prometheus, gets 404, and ServiceDown pages for a healthy app)',
      handling: 'rejected by the API server (CEL rule: put query parameters in params); validation says the same',
      object: hostile('path-query-string', (spec) => (spec.endpoints[0].path = '/metrics?format=prometheus')),
      expect: rejected('spec.endpoints[0].path'),
    },
    {
      id: 'path-fragment',
      what: 'metrics path /metrics#prometheus (sent as /metrics%23prometheus, never as a fragment)',
      handling: 'rejected by the API server (CEL rule on #)',
      object: hostile('path-fragment', (spec) => (spec.endpoints[0].path = '/metrics#prometheus')),
      expect: rejected('spec.endpoints[0].path'),
    },
    {
      id: 'params-empty-list',
      what: 'params: {format: []} (an empty list sends nothing)',
      handling: 'rejected by the API server (minItems 1)',
      object: hostile('params-empty-list', (spec) => (spec.endpoints[0].params = { format: [] })),
      expect: rejected('spec.endpoints[0].params.format'),
    },
    {
      id: 'rule-name-with-dash',
      what: 'rule name "high-error-rate" (not a Prometheus alert name)',
      handling: 'rejected by the API server (pattern)',
      object: hostile('rule-name-with-dash', withRule({ name: 'high-error-rate' })),
      expect: rejected('spec.rules[0].name'),
    },
    {
      id: 'rule-name-unicode',
      what: 'rule name "Überlast" (non-ASCII)',
      handling: 'rejected by the API server (pattern)',
      object: hostile('rule-name-unicode', withRule({ name: 'Überlast' })),
      expect: rejected('spec.rules[0].name'),
    },
    {
      id: 'name-uppercase',
      what: 'metadata.name "Checkout" (not a DNS subdomain)',
      handling: 'rejected by the API server (object name validation)',
      object: hostile('Checkout', () => undefined),
      expect: rejected('metadata.name'),
    },
    {
      id: 'name-too-long',
      what: 'metadata.name of 200 characters (the rule file key <ns>__<name>.rules.yaml would exceed 253)',
      handling: 'rejected by the API server (maxLength 177 on metadata.name)',
      object: hostile('n'.repeat(200), () => undefined),
      expect: rejected('metadata.name'),
    },
    {
      id: 'name-longest',
      what: 'the longest names accepted: a 63-character namespace and a 177-character metadata.name (rule file name of 253 characters, the most a ConfigMap key may have)',
      handling: 'accepted: its files are written and loaded (the sidecar temp names stay within the 255-byte file-name limit)',
      object: hostile(`${'a'.repeat(63)}.${'a'.repeat(63)}.${'b'.repeat(49)}`, (spec) => (spec.selector = { matchLabels: { app: 'longest' } }), LONGEST_NS),
      expect: { outcome: 'accepted-safely' },
    },
    {
      id: 'too-many-endpoints',
      what: '17 endpoints',
      handling: 'rejected by the API server (maxItems 16)',
      object: hostile('too-many-endpoints', (spec) => (spec.endpoints = Array.from({ length: 17 }, (_, i) => ({ port: `p${i}` })))),
      expect: rejected('spec.endpoints'),
    },
    {
      id: 'too-many-rules',
      what: '51 custom rules',
      handling: 'rejected by the API server (maxItems 50)',
      object: hostile('too-many-rules', (spec) => (spec.rules = Array.from({ length: 51 }, (_, i) => ({ name: `R${i}`, expr: 'up == 0' })))),
      expect: rejected('spec.rules'),
    },
    {
      id: 'too-many-selector-labels',
      what: '65 matchLabels',
      handling: 'rejected by the API server (maxProperties 64)',
      object: hostile('too-many-selector-labels', (spec) => (spec.selector.matchLabels = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'x'])))),
      expect: rejected('spec.selector.matchLabels'),
    },
    {
      id: 'selector-value-with-space',
      what: 'matchLabels value "a b"',
      handling: 'rejected by the API server (label value pattern)',
      object: hostile('selector-value-with-space', (spec) => (spec.selector.matchLabels = { app: 'a b' })),
      expect: rejected('spec.selector.matchLabels.app'),
    },
    {
      id: 'exists-with-values',
      what: 'matchExpressions Exists with values',
      handling: 'rejected by the API server (CEL rule, field values)',
      object: hostile('exists-with-values', (spec) => (spec.selector = { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] })),
      expect: rejected('spec.selector.matchExpressions[0].values'),
    },
    {
      id: 'selector-key-invalid',
      what: 'matchLabels key "bad key!"',
      handling: 'rejected by the API server (CEL rule on the matchLabels keys; validation names the key)',
      object: hostile('selector-key-invalid', (spec) => (spec.selector.matchLabels = { 'bad key!': 'x' })),
      expect: rejected('spec.selector.matchLabels["bad key!"]', 'spec.selector.matchLabels'),
    },
    // --- durations -------------------------------------------------------------------------------
    {
      id: 'negative-interval',
      what: 'interval: -15s',
      handling: 'rejected by the API server (duration pattern)',
      object: hostile('negative-interval', (spec) => (spec.endpoints[0].interval = '-15s')),
      expect: rejected('spec.endpoints[0].interval'),
    },
    {
      id: 'zero-interval',
      what: 'interval: 0s',
      handling: 'rejected by the API server (CEL: interval must be at least 1s)',
      object: hostile('zero-interval', (spec) => (spec.endpoints[0].interval = '0s')),
      expect: rejected('spec.endpoints[0].interval'),
    },
    {
      id: 'timeout-above-interval',
      what: 'scrapeTimeout 30s > interval 10s',
      handling: 'rejected by the API server (CEL rule comparing the durations)',
      object: hostile('timeout-above-interval', (spec) => (spec.endpoints[0] = { port: 'metrics', interval: '10s', scrapeTimeout: '30s' })),
      expect: rejected('spec.endpoints[0].scrapeTimeout'),
    },
    {
      id: 'interval-beyond-lookback',
      what: 'interval 10m (Prometheus looks back 5m for a sample: between scrapes up has none, and ServiceDown fires for a healthy app)',
      handling: 'rejected by the API server (CEL: interval plus scrapeTimeout must not exceed 5m)',
      object: hostile('interval-beyond-lookback', (spec) => {
        spec.endpoints[0] = { port: 'metrics', interval: '10m' };
        spec.rules = [];
      }),
      expect: rejected('spec.endpoints[0].interval'),
    },
    {
      id: 'restart-outlasts-for',
      what: 'interval 4m with downAlert for 1m (Prometheus writes no staleness marker at shutdown: after a restart on a kept TSDB up can be missing for up to 4m40s, and ServiceDown would page the healthy service)',
      handling: "admitted; Valid=False on spec.downAlert.for naming the endpoint: a for above 4m30s, or an interval of at most 1m20s (with the install's evaluationInterval, 15s)",
      object: hostile('restart-outlasts-for', (spec) => {
        spec.endpoints[0] = { port: 'metrics', interval: '4m' };
        spec.rules = [];
        spec.downAlert = { for: '1m' };
      }),
      expect: invalid('spec.downAlert.for'),
    },
    {
      id: 'timeout-above-default-interval',
      what: 'scrapeTimeout 1m without an interval (the default interval is 15s)',
      handling: 'accepted: an unwritten interval follows the timeout (scraped every 1m); defaults never refuse an object (#11)',
      object: hostile('timeout-above-default-interval', (spec) => (spec.endpoints[0] = { port: 'metrics', scrapeTimeout: '1m' })),
      expect: { outcome: 'accepted-safely' },
    },
    {
      id: 'interval-below-default-timeout',
      what: 'interval 5s without a scrapeTimeout (the default timeout is 10s)',
      handling: 'accepted: an unwritten timeout is min(10s, interval), as Prometheus does (#11)',
      object: hostile('interval-below-default-timeout', (spec) => (spec.endpoints[0] = { port: 'metrics', interval: '5s' })),
      expect: { outcome: 'accepted-safely' },
    },
    {
      id: 'long-service-port-name',
      what: 'endpoint port http-web-service-metrics (24 characters; Service port names allow 63)',
      handling: 'accepted: Service port names are DNS labels of up to 63 characters (#11)',
      object: hostile('long-service-port-name', (spec) => (spec.endpoints[0] = { port: 'http-web-service-metrics' })),
      expect: { outcome: 'accepted-safely' },
    },
    {
      id: 'port-name-64',
      what: 'endpoint port name of 64 characters',
      handling: 'rejected by the API server (Service port names are DNS labels of at most 63 characters)',
      object: hostile('port-name-64', (spec) => (spec.endpoints[0] = { port: 'p'.repeat(64) })),
      expect: rejected('spec.endpoints[0].port'),
    },
    {
      id: 'port-name-upper-case',
      what: 'endpoint port name Metrics (upper case, which no Service port can have)',
      handling: 'rejected by the API server (DNS label pattern)',
      object: hostile('port-name-upper-case', (spec) => (spec.endpoints[0] = { port: 'Metrics' })),
      expect: rejected('spec.endpoints[0].port'),
    },
    {
      id: 'port-name-leading-hyphen',
      what: 'endpoint port name -metrics',
      handling: 'rejected by the API server (DNS label pattern)',
      object: hostile('port-name-leading-hyphen', (spec) => (spec.endpoints[0] = { port: '-metrics' })),
      expect: rejected('spec.endpoints[0].port'),
    },
    {
      id: 'selector-key-name-64',
      what: 'selector matchLabels key whose name part has 64 characters (no Service can carry it)',
      handling: 'rejected by the API server (CEL rule on the matchLabels keys)',
      object: hostile('selector-key-name-64', (spec) => (spec.selector = { matchLabels: { ['example.com/' + 'k'.repeat(64)]: 'x' } })),
      expect: rejected('spec.selector.matchLabels', 'spec.selector.matchLabels'),
    },
    {
      id: 'duration-units-out-of-order',
      what: 'rule for: 1s1m (units out of order)',
      handling: 'rejected by the API server (duration pattern)',
      object: hostile('duration-units-out-of-order', withRule({ for: '1s1m' })),
      expect: rejected('spec.rules[0].for'),
    },
    {
      id: 'absurd-for',
      what: 'rule for: 100000y (overflows Prometheus durations)',
      handling: 'admitted (the pattern cannot bound numbers); Valid=False: out of range',
      object: hostile('absurd-for', withRule({ for: '100000y' })),
      expect: invalid('spec.rules[0].for'),
    },
    {
      id: 'absurd-down-alert-for',
      what: 'downAlert.for: 99999999999999d',
      handling: 'admitted; Valid=False: out of range',
      object: hostile('absurd-down-alert-for', (spec) => (spec.downAlert = { for: '99999999999999d' })),
      expect: invalid('spec.downAlert.for'),
    },
    // --- PromQL ------------------------------------------------------------------------------------
    {
      id: 'promql-syntax-error',
      what: 'expr "up ==" (syntax error)',
      handling: 'admitted; Valid=False with the parser position',
      object: hostile('promql-syntax-error', withRule({ expr: 'up ==' })),
      expect: invalid('spec.rules[0].expr'),
    },
    // Refused by promtool and by a reloading Prometheus (the whole reload fails); the emulation before
    // operator/wasm accepted them (issue 21).
    {
      id: 'promql-set-operator-group-left',
      what: 'expr "up and on(job) group_left up" (grouping on a set operator)',
      handling: "admitted; Valid=False with Prometheus's own parse error",
      object: hostile('promql-set-operator-group-left', withRule({ expr: 'up and on(job) group_left up' })),
      expect: invalid('spec.rules[0].expr'),
    },
    {
      id: 'promql-bool-set-operator',
      what: 'expr "up or bool up" (bool on a set operator)',
      handling: "admitted; Valid=False with Prometheus's own parse error",
      object: hostile('promql-bool-set-operator', withRule({ expr: 'up or bool up' })),
      expect: invalid('spec.rules[0].expr'),
    },
    {
      id: 'promql-label-in-on-and-group',
      what: 'expr "up / on(job) group_left(job) up" (the same label in on() and group_left())',
      handling: "admitted; Valid=False with Prometheus's own parse error",
      object: hostile('promql-label-in-on-and-group', withRule({ expr: 'up / on(job) group_left(job) up' })),
      expect: invalid('spec.rules[0].expr'),
    },
    {
      id: 'promql-range-vector',
      what: 'expr "up[5m]" (a range vector cannot be an alert)',
      handling: 'admitted; Valid=False (Prometheus would refuse the rule file)',
      object: hostile('promql-range-vector', withRule({ expr: 'up[5m]' })),
      expect: invalid('spec.rules[0].expr'),
    },
    {
      id: 'promql-empty',
      what: 'expr ""',
      handling: 'rejected by the API server (minLength 1)',
      object: hostile('promql-empty', withRule({ expr: '' })),
      expect: rejected('spec.rules[0].expr'),
    },
    {
      id: 'promql-match-everything',
      what: 'expr {__name__=~".+"} (selects every series of the TSDB)',
      handling: 'admitted; Valid=False: a selector needs a metric name or a narrowing matcher',
      object: hostile('promql-match-everything', withRule({ expr: 'count({__name__=~".+"}) > 0' })),
      expect: invalid('spec.rules[0].expr'),
    },
    {
      id: 'promql-subquery-bomb',
      what: 'expr max_over_time(rate(x[1m])[1y:1ms]) (3e10 points per evaluation)',
      handling: 'admitted; Valid=False: subquery resolution limit',
      object: hostile('promql-subquery-bomb', withRule({ expr: 'max_over_time(rate(http_requests_total[1m])[1y:1ms]) > 0' })),
      expect: invalid('spec.rules[0].expr'),
    },
    {
      id: 'range-one-interval',
      what: 'expr rate(x[1m]) on a service scraped every 1m (a range holding one sample: rate never returns data, the alert never fires)',
      handling: 'admitted; Valid=False naming the selector and the interval: use at least 2m (2 × the interval), better 4m',
      object: hostile('range-one-interval', (spec) => {
        spec.endpoints[0] = { port: 'metrics', interval: '1m' };
        spec.rules = [{ name: 'Hostile', expr: 'rate(http_requests_total[1m]) > 0' }];
      }),
      expect: invalid('spec.rules[0].expr'),
    },
    {
      id: 'job-from-another-setup',
      what: 'expr up{job="checkout"} == 0 (a job name from another setup: Vigil names jobs vigil/<namespace>/<name>/<port>, so it matches nothing and the alert never fires)',
      handling: "admitted; Valid=False naming the selector and this service's job names",
      object: hostile('job-from-another-setup', withRule({ expr: 'up{job="checkout"} == 0' })),
      expect: invalid('spec.rules[0].expr'),
    },
    {
      id: 'range-below-interval',
      what: 'expr max_over_time(x[10s]) at the default 15s interval (no sample in the range at some evaluations: the result comes and goes)',
      handling: 'admitted; Valid=False: use at least one scrape interval (15s), better 4',
      object: hostile('range-below-interval', (spec) => {
        spec.endpoints[0] = { port: 'metrics' };
        spec.rules = [{ name: 'Hostile', expr: 'max_over_time(http_requests_total[10s]) > 0' }];
      }),
      expect: invalid('spec.rules[0].expr'),
    },
    {
      id: 'promql-quoted-metric-name',
      what: 'expr {"foo.bar"} > 0 (Prometheus 3 quoted UTF-8 metric name)',
      handling: 'accepted and loaded; the renderer adds namespace="hostile" inside the braces',
      object: hostile('promql-quoted-metric-name', withRule({ expr: '{"foo.bar"} > 0' })),
      expect: { outcome: 'accepted-safely', ruleFileMatches: [/\{"foo\.bar", namespace="hostile"\} > 0/] },
    },
    {
      id: 'promql-prometheus3-function',
      what: 'expr mad_over_time(x[5m]) (experimental function in Prometheus 3.15)',
      handling: 'admitted; Valid=False: needs --enable-feature=promql-experimental-functions, which Vigil does not set',
      object: hostile('promql-prometheus3-function', withRule({ expr: 'mad_over_time(http_requests_total[5m]) > 1' })),
      expect: invalid('spec.rules[0].expr'),
    },
    {
      id: 'promql-bad-escape',
      what: 'expr with "5\\d\\d" (unknown escape in a PromQL string)',
      handling: 'admitted; Valid=False naming the escape',
      object: hostile('promql-bad-escape', withRule({ expr: 'rate(http_requests_total{code=~"5\\d\\d"}[5m]) > 0' })),
      expect: invalid('spec.rules[0].expr'),
    },
    {
      id: 'promql-lookahead-regex',
      what: 'regex with a lookahead (RE2 has none)',
      handling: 'admitted; Valid=False',
      object: hostile('promql-lookahead-regex', withRule({ expr: 'up{job=~"(?!billing).*"} == 0' })),
      expect: invalid('spec.rules[0].expr'),
    },
    {
      id: 'promql-other-namespace',
      what: 'expr up{namespace="team-a"} from another namespace (read team-a\'s series)',
      handling: 'admitted; Valid=False: rules may only read their own namespace',
      object: hostile('promql-other-namespace', withRule({ expr: 'up{namespace="team-a"} == 0' })),
      expect: invalid('spec.rules[0].expr'),
    },
    {
      id: 'promql-namespace-regex',
      what: 'expr up{namespace=~".+"} (every namespace)',
      handling: 'admitted; Valid=False: rules may only read their own namespace',
      object: hostile('promql-namespace-regex', withRule({ expr: 'sum(up{namespace=~".+"}) > 0' })),
      expect: invalid('spec.rules[0].expr'),
    },
    {
      id: 'promql-1mib',
      what: 'a 1 MiB expression',
      handling: 'rejected by the API server (maxLength 4096)',
      object: hostile('promql-1mib', withRule({ expr: `up == ${'1'.repeat(MIB)}` })),
      expect: rejected('spec.rules[0].expr'),
    },
    {
      id: 'promql-job-regex-everything',
      what: 'expr up{job=~".*"} == 0 (metric name plus a match-everything regex)',
      handling: 'accepted; the renderer adds namespace="hostile" to the selector, so it only sees its own namespace',
      object: hostile('promql-job-regex-everything', withRule({ expr: 'up{job=~".*"} == 0' })),
      expect: { outcome: 'accepted-safely', ruleFileMatches: [/up\{job=~"\.\*", namespace="hostile"\} == 0/] },
    },
    {
      id: 'promql-label-replace-namespace',
      what: 'label_replace(up, "namespace", "team-a", ...) (pretend the alert is team-a\'s)',
      handling: "accepted; the selector is scoped to its namespace and the alert's namespace/vigil_* labels are set by Vigil last",
      object: hostile('promql-label-replace-namespace', withRule({ expr: 'label_replace(up == 0, "namespace", "team-a", "", "")' })),
      expect: { outcome: 'accepted-safely', ruleFileMatches: [/up\{namespace="hostile"\} == 0/, /vigil_namespace: hostile/] },
    },
    {
      id: 'promql-comment-hides-matcher',
      what: 'expr "up # {namespace=\\"team-a\\"}" (a PromQL comment that looks like a matcher)',
      handling: 'accepted; the comment stays a comment and the selector gets namespace="hostile"',
      object: hostile('promql-comment-hides-matcher', withRule({ expr: 'up == 0 # {namespace="team-a"}' })),
      expect: { outcome: 'accepted-safely', ruleFileMatches: [/up\{namespace="hostile"\} == 0/] },
    },
    // --- templates -----------------------------------------------------------------------------
    {
      id: 'template-unclosed-action',
      what: 'summary "{{ $labels.instance" (unclosed action)',
      handling: 'admitted; Valid=False (one bad template makes Prometheus reject the whole reload)',
      object: hostile('template-unclosed-action', withRule({ summary: '{{ $labels.instance is down' })),
      expect: invalid('spec.rules[0].summary'),
    },
    {
      id: 'template-stray-end',
      what: 'description "{{ end }}" without an opening block',
      handling: 'admitted; Valid=False',
      object: hostile('template-stray-end', withRule({ description: 'done {{ end }}' })),
      expect: invalid('spec.rules[0].description'),
    },
    {
      id: 'template-unknown-function',
      what: 'summary {{ exec "id" }} (no such template function)',
      handling: 'admitted; Valid=False: function not defined',
      object: hostile('template-unknown-function', withRule({ summary: '{{ exec "id" }}' })),
      expect: invalid('spec.rules[0].summary'),
    },
    {
      id: 'template-query-other-namespace',
      what: 'summary {{ query "up{namespace=\\"team-a\\"}" }} (the query template function reads any namespace and would leak it by email)',
      handling: 'admitted; Valid=False: the query function is not allowed',
      object: hostile('template-query-other-namespace', withRule({ summary: '{{ with query "sum(up{namespace=\\"team-a\\"})" }}{{ . | first | value }}{{ end }}' })),
      expect: invalid('spec.rules[0].summary'),
    },
    {
      id: 'template-query-after-braces',
      what: 'summary {{ printf "...}}" | query }} (query hidden after a "}}" inside a string)',
      handling: 'admitted; Valid=False: the query function is not allowed',
      object: hostile('template-query-after-braces', withRule({ summary: '{{ printf "sum(up{namespace=\\"team-a\\"}) # }}" | query }}' })),
      expect: invalid('spec.rules[0].summary'),
    },
    {
      id: 'template-in-label-value',
      what: 'rule label value "{{ .Broken" (label values are templates too)',
      handling: 'admitted; Valid=False naming the label',
      object: hostile('template-in-label-value', withRule({ labels: { team: '{{ .Broken' } })),
      expect: invalid('spec.rules[0].labels.team'),
    },
    // --- templates that parse but cannot do what was asked (#11) -----------------------------------
    ...(
      [
        ['label-value-dollar-value', '{{ $value }}'],
        ['label-value-dot-value', '{{ .Value }}'],
        ['label-value-humanize', '{{ humanize $value }}'],
        ['label-value-printf', '{{ printf "%.0f" $value }}'],
        ['label-value-branch', '{{ if gt $value 10.0 }}high{{ else }}low{{ end }}'],
      ] as const
    ).map(
      ([id, template]): HostileCase => ({
        id,
        what: `rule label current: ${template} (changes with the value: \`for\` restarts at every evaluation, the alert never fires)`,
        handling: 'admitted; Valid=False: a label must not depend on the value; put it in summary or description',
        object: hostile(id, withRule({ for: '1m', labels: { current: template } })),
        expect: invalid('spec.rules[0].labels.current'),
      }),
    ),
    ...(
      [
        ['template-run-field-of-value', '{{ .Value.foo }}'],
        ['template-run-int-comparison', '{{ if gt $value 10 }}high{{ end }}'],
        ['template-run-printf-format', '{{ printf $value }}'],
        ['template-run-humanize-text', '{{ humanize "lots" }}'],
        ['template-run-undefined-template', '{{ template "missing" . }}'],
        ['template-run-bad-regexp', '{{ reReplaceAll "(" "x" $labels.instance }}'],
        ['template-run-tmpl-html-only', '{{ tmpl "x" . }}'],
      ] as const
    ).map(
      ([id, template]): HostileCase => ({
        id,
        what: `summary ${template} (parses, fails when Prometheus expands it)`,
        handling: 'admitted; Valid=False: the dry run with the pinned Prometheus functions fails (the email would show <error expanding template>)',
        object: hostile(id, withRule({ summary: template })),
        expect: invalid('spec.rules[0].summary'),
      }),
    ),
    {
      id: 'annotation-names-template-label',
      what: 'summary {{ $labels.owner }} where the rule sets owner: "{{ $labels.pod }}" (annotations see the series labels only)',
      handling: 'admitted; Valid=False naming the annotation and the label',
      object: hostile('annotation-names-template-label', withRule({ labels: { owner: '{{ $labels.pod }}' }, summary: 'owned by {{ $labels.owner }}' })),
      expect: invalid('spec.rules[0].summary'),
    },
    {
      id: 'annotation-names-rule-labels',
      what: 'summary naming the rule label team, alertname and severity (absent from the result series)',
      handling: 'accepted; the renderer writes in the values it knows, so the email never shows an empty value',
      object: hostile('annotation-names-rule-labels', withRule({ labels: { team: 'payments' }, summary: '{{ $labels.alertname }} for team {{ $labels.team }} ({{ $labels.severity }})' })),
      expect: { outcome: 'accepted-safely', ruleFileMatches: [/summary: '\{\{ "Hostile" \}\} for team \{\{ "payments" \}\} \(\{\{ "warning" \}\}\)'/] },
    },
    // --- reserved labels and routing hijack ----------------------------------------------------------
    {
      id: 'label-dunder',
      what: 'rule label __x',
      handling: 'admitted (a well-formed label name; the CRD checks only the syntax of map keys); Valid=False: reserved for Prometheus',
      object: hostile('label-dunder', withRule({ labels: { __x: 'y' } })),
      expect: invalid('spec.rules[0].labels.__x'),
    },
    {
      id: 'label-vigil-namespace',
      what: 'rule label vigil_namespace: team-a (route the alert to another team)',
      handling: 'admitted; Valid=False: vigil_ labels are reserved (and the renderer sets them last anyway)',
      object: hostile('label-vigil-namespace', withRule({ labels: { vigil_namespace: 'team-a' } })),
      expect: invalid('spec.rules[0].labels.vigil_namespace'),
    },
    {
      id: 'label-namespace',
      what: 'rule label namespace: team-a (claim another namespace)',
      handling: "admitted; Valid=False: namespace is set to the object's own namespace (the renderer sets it last anyway)",
      object: hostile('label-namespace', withRule({ labels: { namespace: 'team-a' } })),
      expect: invalid('spec.rules[0].labels.namespace'),
    },
    {
      id: 'summary-aggregated-label',
      what: 'summary {{ $labels.instance }} on sum(rate(...)) > 1 (the label is aggregated away)',
      handling: 'admitted; Valid=False: the result has no instance label, so the email would print an empty value',
      object: hostile('summary-aggregated-label', withRule({ expr: 'sum(rate(x[5m])) > 1', summary: '{{ $labels.instance }} fails' })),
      expect: invalid('spec.rules[0].summary'),
    },
    {
      id: 'label-cluster',
      what: 'rule label cluster: prod (claim another cluster: Prometheus keeps a rule label over the external one)',
      handling: "admitted; Valid=False: cluster is the install's external label",
      object: hostile('label-cluster', withRule({ labels: { cluster: 'prod' } })),
      expect: invalid('spec.rules[0].labels.cluster'),
    },
    {
      id: 'label-severity-override',
      what: 'rule label severity: critical beside severity: info',
      handling: 'admitted; Valid=False: set the severity field instead',
      object: hostile('label-severity-override', withRule({ severity: 'info', labels: { severity: 'critical' } })),
      expect: invalid('spec.rules[0].labels.severity'),
    },
    {
      id: 'label-name-with-dash',
      what: 'rule label "team-name" (not a Prometheus label name)',
      handling: 'rejected by the API server (CEL rule on the label names; validation names the key)',
      object: hostile('label-name-with-dash', withRule({ labels: { 'team-name': 'x' } })),
      expect: rejected('spec.rules[0].labels["team-name"]', 'spec.rules[0].labels'),
    },
    // --- collisions after rendering --------------------------------------------------------------------
    {
      id: 'duplicate-rule-name',
      what: 'two rules named Twice (same alert name, one group)',
      handling: 'rejected by the API server (rules is a list map keyed by name)',
      object: hostile(
        'duplicate-rule-name',
        (spec) =>
          (spec.rules = [
            { name: 'Twice', expr: 'up == 0' },
            { name: 'Twice', expr: 'up == 1' },
          ]),
      ),
      expect: rejected('spec.rules[1]'),
    },
    {
      id: 'duplicate-port',
      what: 'two endpoints with port metrics (two jobs vigil/<ns>/<name>/metrics)',
      handling: 'rejected by the API server (endpoints is a list map keyed by port)',
      object: hostile('duplicate-port', (spec) => (spec.endpoints = [{ port: 'metrics' }, { port: 'metrics', path: '/other' }])),
      expect: rejected('spec.endpoints[1]'),
    },
    {
      id: 'rule-named-servicedown',
      what: 'custom rule named ServiceDown (collides with the built-in down alert)',
      handling: 'admitted; Valid=False: choose another name or disable the built-in alert',
      object: hostile('rule-named-servicedown', withRule({ name: 'ServiceDown' })),
      expect: invalid('spec.rules[0].name'),
    },
    {
      id: 'rule-named-watchdog',
      what: "custom rule named Watchdog or VigilTestEmail (the names of Vigil's heartbeat and test email: its mail would pass for them)",
      handling: "admitted; Valid=False: the name is reserved for Vigil's built-in alerts, even with the down alert disabled",
      object: hostile('rule-named-watchdog', (spec) => {
        withRule({ name: 'Watchdog' })(spec);
        spec.downAlert = { enabled: false };
      }),
      expect: invalid('spec.rules[0].name'),
    },
    {
      id: 'same-name-other-namespace',
      what: 'team-b/checkout next to the good team-a/checkout',
      handling: 'accepted; jobs, rule files and receivers carry the namespace, nothing collides',
      object: hostile('checkout', () => undefined, 'team-b'),
      expect: { outcome: 'accepted-safely', ruleFileMatches: [/vigil_namespace: team-b/, /vigil\/team-b\/checkout\/metrics/] },
    },
    {
      id: 'dotted-name',
      what: 'name checkout.v2 (dots are legal in object names)',
      handling: 'accepted; rendered names stay distinct (hostile__checkout.v2.rules.yaml)',
      object: hostile('checkout.v2', () => undefined),
      expect: { outcome: 'accepted-safely', ruleFileMatches: [/vigil_monitoredservice: checkout\.v2/] },
    },
    // --- recipients ----------------------------------------------------------------------------------------
    {
      id: 'recipient-crlf-injection',
      what: 'recipient "a@example.com\\r\\nBcc: victim@example.org" (header injection)',
      handling: 'rejected by the API server (email pattern)',
      object: hostile('recipient-crlf-injection', (spec) => (spec.notify.email.to = ['a@example.com\r\nBcc: victim@example.org'])),
      expect: rejected('spec.notify.email.to[0]'),
    },
    {
      id: 'recipient-twice',
      what: 'recipient listed twice, the second with an upper-case domain',
      handling: 'admitted; Valid=False: Alertmanager would send every email to it twice',
      object: hostile('recipient-twice', (spec) => (spec.notify.email.to = ['team@example.com', 'team@EXAMPLE.com'])),
      expect: invalid('spec.notify.email.to[1]'),
    },
    {
      id: 'recipient-display-name',
      what: 'recipient "Team <team@example.com>"',
      handling: 'rejected by the API server (plain addresses only)',
      object: hostile('recipient-display-name', (spec) => (spec.notify.email.to = ['Team <team@example.com>'])),
      expect: rejected('spec.notify.email.to[0]'),
    },
    {
      id: 'recipient-template',
      what: 'recipient "{{ .CommonLabels }}@example.com" (Alertmanager expands to: as a template)',
      handling: 'rejected by the API server (email pattern)',
      object: hostile('recipient-template', (spec) => (spec.notify.email.to = ['{{.CommonLabels}}@example.com'])),
      expect: rejected('spec.notify.email.to[0]'),
    },
    {
      id: 'recipient-unicode',
      what: 'recipient "jürgen@example.com"',
      handling: 'rejected by the API server (ASCII addresses only)',
      object: hostile('recipient-unicode', (spec) => (spec.notify.email.to = ['jürgen@example.com'])),
      expect: rejected('spec.notify.email.to[0]'),
    },
    {
      id: 'recipients-10000',
      what: '10,000 recipients',
      handling: 'rejected by the API server (maxItems 100)',
      object: hostile('recipients-10000', (spec) => (spec.notify.email.to = Array.from({ length: 10_000 }, (_, i) => `user${i}@example.com`))),
      expect: rejected('spec.notify.email.to'),
    },
    {
      id: 'recipients-empty',
      what: 'notify.email.to: []',
      handling: 'rejected by the API server (minItems 1)',
      object: hostile('recipients-empty', (spec) => (spec.notify.email.to = [])),
      expect: rejected('spec.notify.email.to'),
    },
    // --- Unicode and control characters in free text -------------------------------------------
    {
      id: 'summary-crlf',
      what: 'summary with CR/LF and a fake "Bcc:" line',
      handling: 'accepted; the summary only goes into the email body (the subject is built from labels), YAML quotes it',
      object: hostile('summary-crlf', withRule({ summary: 'down\r\nBcc: victim@example.org\r\n\r\nfake body' })),
      expect: { outcome: 'accepted-safely' },
    },
    {
      id: 'summary-control-and-bidi',
      what: 'summary with ESC, BEL, a right-to-left override and emoji',
      handling: 'accepted; stored and rendered as data (YAML escapes control characters)',
      object: hostile('summary-control-and-bidi', withRule({ summary: 'alarm \u001b[31mred\u001b[0m \u0007 \u202Egnp.exe 🔥 ümlaut' })),
      expect: { outcome: 'accepted-safely' },
    },
    {
      id: 'fake-status',
      what: 'an invalid object created with status.conditions claiming Valid=True',
      handling: 'admitted without the status (status is a subresource); the operator writes Valid=False',
      object: hostile('fake-status', (spec, object) => {
        spec.rules = [{ name: 'Broken', expr: 'up ==' }];
        object.status = { conditions: [{ type: 'Valid', status: 'True', reason: 'Forged', message: 'trust me', lastTransitionTime: '2024-01-01T00:00:00Z' }] };
      }),
      expect: invalid('spec.rules[0].expr'),
    },
  ];
  return cases;
}

/** The Kubernetes object name of a case (for kubectl get). */
export function caseName(c: HostileCase): string {
  return String(c.object.metadata?.name ?? '');
}

export function caseNamespace(c: HostileCase): string {
  return String(c.object.metadata?.namespace ?? HOSTILE_NS);
}

/**
 * Path segments of a field as the validator prints it: spec.rules[0].labels["team-name"] ->
 * [spec, rules, 0, labels, team-name]. Used to compare with the API server's spelling.
 */
export function fieldSegments(field: string): string[] {
  const out: string[] = [];
  const re = /\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\[([^\]]*)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(field))) out.push(m[1] ?? m[2] ?? (m[3] !== undefined ? (JSON.parse(`"${m[3]}"`) as string) : (m[4] ?? '')));
  return out;
}

/** True when the validator's field is the expected one or inside it (spec.rules[1].name is inside spec.rules[1]). */
export function fieldIsOrIsInside(actual: string, expected: string): boolean {
  const a = fieldSegments(actual);
  const e = fieldSegments(expected);
  return e.length <= a.length && e.every((s, i) => a[i] === s);
}
