import { foreignJobProblems, regexLiteralPrefix } from './job-matchers.js';

const OWN = ['vigil/shop/checkout/metrics'];

describe('foreignJobProblems', () => {
  it('refuses job="..." that no series of the namespace can carry, saying what the jobs are called', () => {
    expect(foreignJobProblems('up{job="checkout"} == 0', 'shop', OWN)).toEqual([
      'selector up{job="checkout"} can match no series: the scrape jobs of namespace shop are named vigil/shop/<MonitoredService>/<port> ' +
        "(this service's: vigil/shop/checkout/metrics), and a target's own job label becomes exported_job; " +
        'use job="vigil/shop/checkout/metrics", or select by Service with service="<name>"',
    ]);
    // Another namespace's job: the namespace matcher Vigil adds excludes its series.
    expect(foreignJobProblems('absent(up{job="vigil/payments/api/http"})', 'shop', OWN)).toHaveLength(1);
    expect(foreignJobProblems('sum(rate(x{job="checkout"}[5m])) / sum(rate(y{job="checkout-api"}[5m])) > 0', 'shop', OWN)).toHaveLength(2);
  });

  it('refuses a job of this service for a port it does not scrape (no other object can have that job)', () => {
    expect(foreignJobProblems('up{job="vigil/shop/checkout/admin"} == 0', 'shop', OWN)).toEqual([
      'selector up{job="vigil/shop/checkout/admin"} can match no series: job vigil/shop/checkout/admin would scrape port admin, which spec.endpoints does not list; this service\'s jobs are vigil/shop/checkout/metrics',
    ]);
    // Another service whose name starts the same way is another job.
    expect(foreignJobProblems('up{job="vigil/shop/checkout-api/admin"} == 0', 'shop', OWN)).toEqual([]);
  });

  it("accepts the jobs of the namespace, of other MonitoredServices too, and the install's own jobs", () => {
    for (const expr of ['up{job="vigil/shop/checkout/metrics"} == 0', 'up{job="vigil/shop/payments/http"} == 0', 'up{job="vigil-operator"} == 0', 'up{job="prometheus"} == 0']) {
      expect(foreignJobProblems(expr, 'shop', OWN)).toEqual([]);
    }
  });

  it('leaves alone what it cannot decide or what rules label: regexes without a telling prefix, negations, an empty job, ALERTS', () => {
    for (const expr of [
      'up{job=~".*checkout.*"} == 0',
      'up{job=~"vigil/(shop|payments)/.*"} == 0',
      'up{job=~"(?i)checkout"} == 0',
      'up{job=~"vigil/shop/.*"} == 0',
      'up{job=~"vigil/.*"} == 0',
      'up{job=~"vigil-op.*"} == 0',
      'up{job!="checkout"} == 0',
      'x{job=""} > 0',
      'ALERTS{job="checkout"} > 0',
      'ALERTS_FOR_STATE{job="x"} > 0',
    ]) {
      expect(foreignJobProblems(expr, 'shop', OWN)).toEqual([]);
    }
  });

  it('refuses a job regex whose every match starts with what no job of the namespace does', () => {
    expect(foreignJobProblems('up{job=~"vigil/demo/.*"} == 0', 'shop', OWN)).toEqual([
      'selector up{job=~"vigil/demo/.*"} can match no series: job=~"vigil/demo/.*" only matches jobs starting with "vigil/demo/", and the scrape jobs of namespace shop are named vigil/shop/<MonitoredService>/<port>; match "vigil/shop/.*" or a job of this namespace',
    ]);
    expect(foreignJobProblems('up{job=~"checkout.*"} == 0', 'shop', OWN)).toHaveLength(1);
    // A quantifier makes its character optional: the prefix stops before it.
    expect(foreignJobProblems('up{job=~"vigil/shopx?/.*"} == 0', 'shop', OWN)).toEqual([]);
  });

  it("refuses a matcher on a label Prometheus's own scrape series never carry, unless it holds for an absent label", () => {
    expect(foreignJobProblems('up{vigil_namespace="demo"} == 0', 'shop', OWN)).toEqual([
      'selector up{vigil_namespace="demo"} can match no series: up carries only its target\'s labels (job, instance, namespace, service, pod), so vigil_namespace="demo" never holds; select by one of those, or read a metric of the app that has vigil_namespace',
    ]);
    expect(foreignJobProblems('scrape_samples_scraped{code=~"5.."} > 0', 'shop', OWN)).toHaveLength(1);
    for (const expr of ['up{service="checkout", pod=~"c.*", instance!=""} == 0', 'up{code=""} == 0', 'up{code!="500"} == 0', 'up{code=~"|5.."} == 0', 'http_requests_total{code="500"} > 0']) {
      expect(foreignJobProblems(expr, 'shop', OWN)).toEqual([]);
    }
  });

  it('regexLiteralPrefix: the literal start of every match, conservatively', () => {
    expect(regexLiteralPrefix('vigil/shop/.*')).toBe('vigil/shop/');
    expect(regexLiteralPrefix('checkout-?api')).toBe('checkout');
    expect(regexLiteralPrefix('checkout')).toBe('checkout');
    expect(regexLiteralPrefix('ab{2}')).toBe('a');
    expect(regexLiteralPrefix('a|b')).toBe('');
    expect(regexLiteralPrefix('(?i)x')).toBe('');
    expect(regexLiteralPrefix('vigil\\/x')).toBe('vigil');
  });
});
