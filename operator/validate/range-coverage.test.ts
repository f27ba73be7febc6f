// Ranges too short for their function, judged against the service's own scrape intervals, through
// validateMonitoredService (the endpoints' defaults are composed there as the renderer does).
import { checkPromQL } from '../promql/parse.js';
import { formatIssue, validateMonitoredService } from './index.js';
import { rangeProblems, TWO_SAMPLE_FUNCTIONS } from './range-coverage.js';

const service = (endpoints: Record<string, unknown>[], expr: string) => ({
  apiVersion: 'vigil.dev/v1alpha1',
  kind: 'MonitoredService',
  metadata: { name: 'checkout', namespace: 'shop' },
  // A ServiceDown `for` no Prometheus restart outlasts, whatever the intervals here (render/restart-gap.ts).
  spec: { selector: { matchLabels: { app: 'checkout' } }, endpoints, downAlert: { for: '10m' }, rules: [{ name: 'Errors', expr }] },
});

/** The expr issue, or 'ok'. */
function verdict(endpoints: Record<string, unknown>[], expr: string): string {
  const result = validateMonitoredService(service(endpoints, expr));
  if (result.ok) return 'ok';
  return result.issues.map((i) => formatIssue(result.ref, i)).join('\n');
}

const every1m = [{ port: 'metrics', interval: '1m' }];

describe('ranges against the scrape interval', () => {
  it('refuses the issue example with a message naming object, field, selector, interval, minimum and recommendation', () => {
    expect(verdict(every1m, 'rate(http_requests_total[1m]) > 0')).toBe(
      'shop/checkout: spec.rules[0].expr: rate() needs two samples in its range, but http_requests_total[1m] holds at most one sample ' +
        '(scraped every 1m: spec.endpoints[0].interval), so it never returns data and the alert can never fire; ' +
        'use a range of at least 2m (2 × the scrape interval), better 4m (4 ×), which survives a failed scrape',
    );
  });

  it.each([
    ['2m', 'ok'],
    ['4m', 'ok'],
    ['120', 'ok'],
    ['119s', 'holds two samples (scraped every 1m: spec.endpoints[0].interval) only in some evaluations'],
    ['1m59s999ms', 'only in some evaluations'],
    ['1m', 'holds at most one sample'],
    ['30s', 'holds at most one sample'],
  ])('at a 1m interval, rate(x[%s]): %s', (range, expected) => {
    const got = verdict(every1m, `rate(x[${range}]) > 0`);
    if (expected === 'ok') expect(got).toBe('ok');
    else expect(got).toContain(expected);
  });

  it.each([
    [[{ port: 'metrics' }], '30s', '29s', 'spec.endpoints[0] without interval: the default 15s'],
    [[{ port: 'metrics', scrapeTimeout: '1m' }], '2m', '1m59s', 'spec.endpoints[0] without interval: its scrapeTimeout'],
    [[{ port: 'metrics', interval: '5s' }], '10s', '9s', 'spec.endpoints[0].interval'],
    [[{ port: 'metrics', interval: '4m', scrapeTimeout: '1m' }], '8m', '7m59s', 'spec.endpoints[0].interval'],
  ])('with endpoints %j: increase(x[%s]) is accepted, [%s] refused naming %s', (endpoints, enough, tooShort, source) => {
    expect(verdict(endpoints, `increase(x[${enough}]) > 0`)).toBe('ok');
    expect(verdict(endpoints, `increase(x[${tooShort}]) > 0`)).toContain(`: ${source})`);
  });

  it.each([...TWO_SAMPLE_FUNCTIONS])('%s() needs two samples', (fn) => {
    const call = fn === 'predict_linear' ? `${fn}(x[1m], 60)` : `${fn}(x[1m])`;
    const got = verdict(every1m, `${call} > 0`);
    expect(got).toContain(`${fn}() needs two samples in its range`);
    expect(got).toContain(['changes', 'resets', 'stddev_over_time', 'stdvar_over_time'].includes(fn) ? 'so it always returns 0' : 'so it never returns data');
    expect(verdict(every1m, `${call.replace('[1m]', '[2m]')} > 0`)).toBe('ok');
  });

  it.each(['avg_over_time', 'min_over_time', 'max_over_time', 'sum_over_time', 'count_over_time', 'last_over_time', 'first_over_time', 'present_over_time', 'absent_over_time'])(
    '%s() works from one sample: a range of one interval is enough, a shorter one is empty in some evaluations',
    (fn) => {
      expect(verdict(every1m, `${fn}(x[1m]) > 0`)).toBe('ok');
      expect(verdict(every1m, `${fn}(x[59s]) > 0`)).toContain(`${fn}() needs a sample in its range, but x[59s] holds none (scraped every 1m: spec.endpoints[0].interval) in some evaluations`);
    },
  );

  it('quantile_over_time takes its range as second argument', () => {
    expect(verdict(every1m, 'quantile_over_time(0.9, x[30s]) > 0')).toContain('quantile_over_time() needs a sample');
  });

  it('offset and @ change nothing', () => {
    for (const expr of ['rate(x[1m] offset 1h) > 0', 'rate(x[1m] @ 1700000000) > 0', 'rate(x[1m] @ end() offset -1m) > 0', 'rate((x[1m])) > 0']) {
      expect(verdict(every1m, expr)).toContain('holds at most one sample');
    }
  });

  it('checks ranges anywhere in the expression, inside aggregations, binary operators and subqueries', () => {
    expect(verdict(every1m, 'sum by (code) (rate(x[5m])) / on() group_left sum(rate(y[1m])) > 0')).toContain('y[1m] holds at most one sample');
    expect(verdict(every1m, 'max_over_time(rate(x[1m])[15m:1m]) > 5')).toContain('rate() needs two samples in its range, but x[1m]');
  });

  describe('several endpoints', () => {
    const endpoints = [
      { port: 'http', interval: '15s' },
      { port: 'admin', interval: '4m' },
    ];

    it('without a job matcher takes the longest interval and says how to pick one endpoint', () => {
      expect(verdict(endpoints, 'rate(x[4m]) > 0')).toBe(
        'shop/checkout: spec.rules[0].expr: rate() needs two samples in its range, but x[4m] holds at most one sample ' +
          "(scraped every 4m: spec.endpoints[1].interval, the longest of this service's endpoints), so it never returns data and the alert can never fire; " +
          'use a range of at least 8m (2 × the scrape interval), better 16m (4 ×), which survives a failed scrape, ' +
          'or read one endpoint\'s series with a job matcher such as job="vigil/shop/checkout/http"',
      );
      expect(verdict(endpoints, 'rate(x[8m]) > 0')).toBe('ok');
    });

    it('with a job matcher takes the endpoints it selects', () => {
      expect(verdict(endpoints, 'rate(x{job="vigil/shop/checkout/http"}[30s]) > 0')).toBe('ok');
      expect(verdict(endpoints, 'rate(x{job="vigil/shop/checkout/http"}[29s]) > 0')).toContain('(scraped every 15s: spec.endpoints[0].interval)');
      expect(verdict(endpoints, 'rate(x{job=~"vigil/shop/checkout/.*"}[4m]) > 0')).toContain('spec.endpoints[1].interval, the longest of the endpoints its job matcher selects');
      expect(verdict(endpoints, 'rate(x{job!="vigil/shop/checkout/admin"}[30s]) > 0')).toBe('ok');
    });

    it("leaves series of other jobs alone: their interval is not this object's", () => {
      expect(verdict(endpoints, 'rate(x{job="vigil/shop/payments/http"}[10s]) > 0')).toBe('ok');
    });
  });

  it('leaves ALERTS alone: rule evaluation writes it, no scrape', () => {
    expect(verdict(every1m, 'changes(ALERTS{alertname="X"}[1m]) > 0 or changes({__name__="ALERTS_FOR_STATE"}[1m]) > 0')).toBe('ok');
  });

  it('leaves ranges known only at evaluation alone', () => {
    expect(verdict(every1m, 'rate(x[30s + 30s]) > 0')).toBe('ok');
  });
});

describe('subquery ranges against their step', () => {
  it.each([
    ['rate(x[2m:1m]) > 0', 'ok'],
    ['rate(x[1m:1m]) > 0', 'rate() needs two points in its range, but x[1m:1m] holds at most one point (one per 1m step), so it never returns data'],
    ['rate(x[90s:1m]) > 0', 'holds two points (one per 1m step) only in some evaluations'],
    ['max_over_time(x[1m:1m]) > 0', 'ok'],
    ['max_over_time(x[30s:1m]) > 0', 'max_over_time() needs a point in its range, but x[30s:1m] holds none (one per 1m step) in some evaluations'],
    // Without a step Prometheus uses the global evaluation interval, a setting of the install.
    ['rate(x[10s:]) > 0', 'ok'],
  ])('%s: %s', (expr, expected) => {
    const got = verdict(every1m, expr);
    if (expected === 'ok') expect(got).toBe('ok');
    else expect(got).toContain(expected);
  });

  it('is judged by its step, not by the scrape interval', () => {
    expect(verdict([{ port: 'metrics', interval: '4m' }], 'max_over_time(up[10m:10s]) > 0')).toBe('ok');
  });
});

describe('rangeProblems', () => {
  it('has nothing to check without usable endpoints (their own issues are reported elsewhere)', () => {
    expect(checkPromQL('rate(x[1s]) > 0')).toEqual({ ok: true });
    expect(rangeProblems('rate(x[1s]) > 0', [])).toEqual([]);
    expect(verdict([{ port: 'metrics', interval: 'often' }], 'rate(x[1s]) > 0')).not.toContain('spec.rules');
  });
});
