import { readFileSync } from 'node:fs';
import { readVersionsEnv } from '../../cdk8s/versions.js';
import { checkPromQL, DEPLOYED_PROMETHEUS } from './parse.js';

const message = (expr: string): string => {
  const result = checkPromQL(expr);
  if (result.ok) throw new Error(`expected ${expr} to be rejected`);
  return result.message;
};

test('the checks follow the Prometheus version hack/versions.env deploys', () => {
  expect(DEPLOYED_PROMETHEUS).toBe(readVersionsEnv(readFileSync('hack/versions.env', 'utf8')).PROMETHEUS_VERSION);
});

describe('checkPromQL accepts alert expressions Prometheus 3.15 accepts', () => {
  it.each([
    'up == 0',
    'rate(http_requests_total{code=~"5.."}[5m]) > 1',
    'sum by (job) (rate(x[5m])) / sum by (job) (rate(y[5m])) > 0.05',
    'count(up{job="a"} == 1) or vector(0)',
    'absent(up{job="a"})',
    'topk(3, x)',
    'x offset 5m',
    'x @ start()',
    'max_over_time(rate(x[1m])[1h:1m]) > 2',
    'label_replace(up, "a", "$1", "b", "(.*)")',
    'x{a=~"\\\\d+"}',
    'x{a=~`\\d+`}',
    'histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m]))) > 0.5',
    '1',
    'scalar(x) > bool 1',
    '# a comment\nup == 0',
    '{job="checkout"}',
    '{__name__="up", job="a"}',
  ])('%s', (expr) => {
    expect(checkPromQL(expr)).toEqual({ ok: true });
  });
});

describe('checkPromQL rejects with position and snippet', () => {
  it('reports a syntax error at the end of the input', () => {
    expect(message('up ==')).toBe('PromQL syntax error at line 1, column 6 (near "up =="): unexpected end of expression');
  });
  it('reports the offending character of an unknown function call', () => {
    expect(message('foo(bar)')).toBe('PromQL syntax error at line 1, column 4 (near "foo(bar)"): unexpected "("');
  });
  it('counts lines in multi-line expressions', () => {
    expect(message('sum(rate(x[5m]))\n  > > 1')).toMatch(/^PromQL syntax error at line 2, column 5/);
  });
  it('rejects an empty expression', () => {
    expect(message('   ')).toBe('the expression is empty');
  });
});

describe('checkPromQL types', () => {
  it('rejects a bare range vector as the alert expression', () => {
    expect(message('x[5m]')).toBe(
      'an alert expression must return an instant vector or a scalar, this one returns a range vector (a range vector such as x[5m] must be wrapped in a function like rate(x[5m]))',
    );
  });
  it('rejects a string literal as the alert expression', () => {
    expect(message('"down"')).toBe('an alert expression must return an instant vector or a scalar, this one returns a string');
  });
  it('rejects rate() of an instant vector and suggests a range', () => {
    expect(message('rate(x) > 0')).toBe('argument 1 of rate() must be a range vector, got an instant vector (add a range, e.g. rate(x[5m])) at line 1, column 6 (near "rate(x) > 0")');
  });
  it('rejects a wrong argument count', () => {
    expect(message('clamp_max(x)')).toMatch(/^clamp_max\(\) takes 2 arguments, got 1 /);
  });
  it('rejects unknown functions', () => {
    // The UI parser knows the function names of its version: an unknown one is a syntax error there.
    expect(message('foo(bar)')).toMatch(/^PromQL syntax error at line 1, column 4/);
  });
  it('rejects experimental functions and aggregations: Vigil does not enable promql-experimental-functions', () => {
    expect(message('sort_by_label(x, "a")')).toMatch(
      /^the experimental function sort_by_label\(\) needs Prometheus' --enable-feature=promql-experimental-functions, which Vigil's Prometheus does not enable /,
    );
    expect(message('mad_over_time(x[5m]) > 1')).toMatch(/^the experimental function mad_over_time\(\) needs .*promql-experimental-functions/);
    expect(message('limitk(2, x)')).toMatch(/^the experimental aggregation limitk needs .*promql-experimental-functions/);
  });
  it('accepts duration expressions (permanently enabled in Prometheus 3.15)', () => {
    expect(checkPromQL('rate(x[5m+1m]) > 0')).toEqual({ ok: true });
    expect(checkPromQL('max_over_time(x[1h:step()]) > 0')).toEqual({ ok: true });
  });
  it('rejects anchored/smoothed ranges: Vigil does not enable promql-extended-range-selectors', () => {
    expect(message('rate(x[5m] anchored) > 0')).toMatch(/promql-extended-range-selectors/);
  });
  it('checks arguments the way Prometheus counts optional and variadic ones', () => {
    expect(checkPromQL('round(x)')).toEqual({ ok: true });
    expect(checkPromQL('round(x, 5)')).toEqual({ ok: true });
    expect(message('round(x, 5, 1)')).toMatch(/^round\(\) takes 1 to 2 arguments, got 3 /);
    expect(checkPromQL('hour()')).toEqual({ ok: true });
    expect(checkPromQL('label_join(x, "a", ",", "b", "c", "d")')).toEqual({ ok: true });
    expect(message('label_join(x, "a")')).toMatch(/^label_join\(\) takes at least 3 arguments, got 2 /);
  });
  it('rejects scalar comparisons without bool', () => {
    expect(message('1 > 2')).toMatch(/^comparisons between scalars must use the bool modifier /);
  });
  it('rejects set operators on scalars', () => {
    expect(message('up and 1')).toMatch(/^set operator "and" needs instant vectors on both sides /);
  });
  it('rejects a subquery over a scalar', () => {
    expect(message('max_over_time(time()[30m:1m])')).toMatch(/^a subquery needs an instant vector expression, got a scalar /);
  });
  it('takes durations as numbers of seconds and numbers as durations (Prometheus 3)', () => {
    expect(checkPromQL('x > 5m')).toEqual({ ok: true });
    expect(checkPromQL('time() - x > 1h')).toEqual({ ok: true });
    expect(checkPromQL('rate(x[300]) > 0')).toEqual({ ok: true });
    expect(checkPromQL('x offset -90')).toEqual({ ok: true });
    expect(message('rate(x[0]) > 0')).toMatch(/^the range of a range vector must be greater than 0/);
    expect(message('max_over_time(x[86400:1])')).toMatch(/^subquery 86400:1 evaluates 86400 points per series/);
  });
});

describe('checkPromQL selectors and strings', () => {
  it('rejects a selector whose matchers all match the empty string', () => {
    expect(message('{job=~".*"}')).toMatch(/^selector \{job=~".\*"\} needs a metric name or at least one matcher that does not match the empty string/);
  });
  it('rejects a selector without metric name that lets every series through', () => {
    expect(message('{job=~".+"} > 0')).toMatch(/^selector \{job=~"\.\+"\} has no metric name and its matchers let every series through/);
    expect(message('{__name__=~".+"}')).toMatch(/has no metric name and its matchers let every series through/);
  });
  it('rejects unknown escape sequences, the usual "\\d" mistake', () => {
    expect(message('x{a=~"\\d+"}')).toMatch(/^unknown escape sequence "\\d" in string "\\d\+"/);
  });
  it('rejects regexes RE2 cannot compile', () => {
    expect(message('x{a=~"(?=x)"}')).toMatch(/uses a lookaround, which Prometheus \(RE2\) does not support/);
    expect(message('x{a=~"(ab"}')).toMatch(/^invalid regex "\(ab"/);
  });
  it('accepts quoted UTF-8 metric and label names (Prometheus 3)', () => {
    for (const expr of ['{"up"} == 0', '{"http.server.duration", "service.name"="checkout"} > 1', 'sum by ("k8s.pod") (rate({"a.b"}[5m])) > 0', 'x / on("a.b") group_left("c.d") y > 1']) {
      expect([expr, checkPromQL(expr)]).toEqual([expr, { ok: true }]);
    }
  });
  it('rejects a metric name given twice, quoted or not', () => {
    expect(message('foo{"bar"}')).toMatch(/^metric name given twice/);
    expect(message('{"foo", __name__="bar"}')).toMatch(/^metric name given twice/);
  });
  it('checks quoted label matchers like unquoted ones', () => {
    expect(message('{"a.b"=~".*"}')).toMatch(/needs a metric name or at least one matcher that does not match the empty string/);
    expect(message('x{"a.b"=~"\\d"}')).toMatch(/^unknown escape sequence/);
  });
});

describe('checkPromQL traps', () => {
  it('rejects a subquery resolving more than 11000 points', () => {
    expect(message('max_over_time(x[1d:1s])')).toMatch(/^subquery 1d:1s evaluates 86400 points per series at every rule evaluation \(more than 11000\); use a coarser step or a shorter range/);
  });
  it('accepts a subquery at exactly 11000 points', () => {
    expect(checkPromQL('max_over_time(x[11000s:1s])')).toEqual({ ok: true });
  });
});

describe('checkPromQL never throws', () => {
  it.each(['', '(((((', ')'.repeat(1000), '{'.repeat(2000), '"\\', 'x[', 'sum by (', `${'('.repeat(3000)}x${')'.repeat(3000)}`])('%#', (expr) => {
    const result = checkPromQL(expr);
    expect(result.ok).toBe(false);
  });
  it('accepts a long metric name', () => {
    expect(checkPromQL('x'.repeat(5000))).toEqual({ ok: true });
  });
  it('handles non-string input', () => {
    expect(checkPromQL(42 as unknown as string)).toEqual({ ok: false, message: 'the expression is empty' });
  });
});
