import { readFileSync } from 'node:fs';
import { readVersionsEnv } from '../../cdk8s/versions.js';
import { checkPromQL, DEPLOYED_PROMETHEUS } from './parse.js';

const message = (expr: string): string => {
  const result = checkPromQL(expr);
  if (result.ok) throw new Error(`expected ${expr} to be rejected`);
  return result.message;
};

test('the checks follow the Prometheus version hack/versions.env deploys, and operator/wasm is built from it', () => {
  expect(DEPLOYED_PROMETHEUS).toBe(readVersionsEnv(readFileSync('hack/versions.env', 'utf8')).PROMETHEUS_VERSION);
  const [major, minor, patch] = DEPLOYED_PROMETHEUS.split('.').map(Number) as [number, number, number];
  expect(readFileSync('operator/wasm/go.mod', 'utf8')).toMatch(new RegExp(`^\\s*github\\.com/prometheus/prometheus v0\\.${major * 100 + minor}\\.${patch}$`, 'm'));
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

// Every refusal text below is what `promtool check rules` of the pinned version prints for the same
// expression ("could not parse expression: <this>"), checked by hand with ./bin/promtool.
const refusedAs = (expr: string, error: string) => expect(message(expr)).toBe(`Prometheus ${DEPLOYED_PROMETHEUS} cannot parse it: ${error}`);

describe("checkPromQL refuses with Prometheus' own error, line and column", () => {
  it('reports a syntax error at the end of the input', () => {
    refusedAs('up ==', '1:6: parse error: unexpected end of input');
  });
  it('counts lines in multi-line expressions', () => {
    refusedAs('sum(rate(x[5m]))\n  > > 1', '2:5: parse error: unexpected <op:>>');
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
  it('rejects rate() of an instant vector', () => {
    refusedAs('rate(x) > 0', '1:6: parse error: expected type range vector in call to function "rate", got instant vector');
  });
  it('rejects a wrong argument count', () => {
    refusedAs('clamp_max(x)', '1:1: parse error: expected 2 argument(s) in call to "clamp_max", got 1');
  });
  it('rejects unknown functions', () => {
    refusedAs('foo(bar)', '1:1: parse error: unknown function with name "foo"');
  });
  it('rejects experimental functions, aggregations and range modifiers: Vigil enables no experimental PromQL', () => {
    refusedAs('sort_by_label(x, "a")', '1:1: parse error: function "sort_by_label" is not enabled');
    expect(message('mad_over_time(x[5m]) > 1')).toMatch(/function "mad_over_time" is not enabled/);
    expect(message('limitk(2, x)')).toMatch(/limitk/);
    expect(message('rate(x[5m] anchored) > 0')).toMatch(/anchored modifier is experimental and not enabled/);
  });
  it('accepts duration expressions (enabled by default in Prometheus 3.15)', () => {
    expect(checkPromQL('rate(x[5m+1m]) > 0')).toEqual({ ok: true });
    expect(checkPromQL('rate(x[max_of(step() * 4, 5m)]) > 0')).toEqual({ ok: true });
    expect(checkPromQL('rate(x[5m] offset (1m - 2m)) > 0')).toEqual({ ok: true }); // offsets may be negative
    expect(checkPromQL('max_over_time(x[1h:min_of(step(), 1m) + 30s]) > 0')).toEqual({ ok: true });
  });
  // A rule is an instant query: PreprocessExpr(expr, t, t, 0) evaluates step() and range() as 0s
  // (rules.EngineQueryFunc → NewInstantQuery), and a range or subquery step that is not positive
  // fails the rule at every evaluation. (promtool test rules cannot confirm: its rule loader parses
  // without duration expressions.)
  it.each([
    ['rate(x[step()*4]) > 0', '7:15'],
    ['rate(x[range()]) > 0', '7:14'],
    ['rate(x[1m-2m]) > 0', '7:12'],
    ['max_over_time(x[1h:step()]) > 0', '19:25'], // 0-based byte offsets of step(), end exclusive
  ])('refuses %s: its range is not positive at rule evaluation', (expr, position) => {
    expect(checkPromQL(expr)).toEqual({
      ok: false,
      message: `Prometheus 3.15.1 would fail it at every rule evaluation: ${position}: duration must be greater than 0 (a rule is evaluated as an instant query, where step() and range() are 0s; ranges and subquery steps must come out positive, e.g. [5m] or [max_of(step()*4, 5m)])`,
    });
  });
  it('checks arguments the way Prometheus counts optional and variadic ones', () => {
    expect(checkPromQL('round(x)')).toEqual({ ok: true });
    expect(checkPromQL('round(x, 5)')).toEqual({ ok: true });
    expect(message('round(x, 5, 1)')).toMatch(/expected at most 2 argument\(s\) in call to "round", got 3/);
    expect(checkPromQL('hour()')).toEqual({ ok: true });
    expect(checkPromQL('label_join(x, "a", ",", "b", "c", "d")')).toEqual({ ok: true });
    expect(message('label_join(x, "a")')).toMatch(/label_join/);
  });
  it('rejects scalar comparisons without bool', () => {
    refusedAs('1 > 2', '1:3: parse error: comparisons between scalars must use BOOL modifier');
  });
  it('rejects set operators on scalars', () => {
    refusedAs('up and 1', '1:1: parse error: set operator "and" not allowed in binary scalar expression');
  });
  it('rejects a subquery over a scalar', () => {
    expect(message('max_over_time(time()[30m:1m])')).toMatch(/subquery is only allowed on instant vector, got scalar instead/);
  });
  it('rejects what promtool refuses and the old emulation accepted (issue 21)', () => {
    expect(message('a and on(x) group_left b')).toMatch(/no grouping allowed for "and" operation/);
    expect(message('a or bool b')).toMatch(/bool modifier can only be used on comparison operators/);
    expect(message('a / on(x) group_left(x) b')).toMatch(/label "x" must not occur in ON and GROUP clause at once/);
  });
  it('takes durations as numbers of seconds and numbers as durations (Prometheus 3)', () => {
    expect(checkPromQL('x > 5m')).toEqual({ ok: true });
    expect(checkPromQL('time() - x > 1h')).toEqual({ ok: true });
    expect(checkPromQL('rate(x[300]) > 0')).toEqual({ ok: true });
    expect(checkPromQL('x offset -90')).toEqual({ ok: true });
    refusedAs('rate(x[0]) > 0', '1:8: parse error: duration must be greater than 0');
    expect(message('max_over_time(x[86400:1])')).toMatch(/^subquery x\[86400:1\] evaluates 86400 points per series/);
  });
});

describe('checkPromQL selectors and strings', () => {
  it('rejects a selector whose matchers all match the empty string', () => {
    refusedAs('{job=~".*"}', '1:1: parse error: vector selector must contain at least one non-empty matcher');
  });
  it('rejects a selector without metric name that lets every series through', () => {
    expect(message('{job=~".+"} > 0')).toMatch(/^selector \{job=~"\.\+"\} has no metric name and its matchers let every series through/);
    expect(message('{__name__=~".+"}')).toMatch(/has no metric name and its matchers let every series through/);
  });
  it('rejects unknown escape sequences, the usual "\\d" mistake', () => {
    refusedAs('x{a=~"\\d+"}', "1:6: parse error: unknown escape sequence U+0064 'd'");
  });
  it('rejects regexes RE2 cannot compile', () => {
    refusedAs('x{a=~"(?=x)"}', '1:3: parse error: error parsing regexp: invalid or unsupported Perl syntax: `(?=`');
    expect(message('x{a=~"(ab"}')).toMatch(/error parsing regexp: missing closing \)/);
  });
  it('accepts quoted UTF-8 metric and label names (Prometheus 3)', () => {
    for (const expr of ['{"up"} == 0', '{"http.server.duration", "service.name"="checkout"} > 1', 'sum by ("k8s.pod") (rate({"a.b"}[5m])) > 0', 'x / on("a.b") group_left("c.d") y > 1']) {
      expect([expr, checkPromQL(expr)]).toEqual([expr, { ok: true }]);
    }
  });
  it('rejects a metric name given twice, quoted or not', () => {
    refusedAs('foo{"bar"}', '1:1: parse error: metric name must not be set twice: "foo" or "bar"');
    // promtool accepts this one (the name and the __name__ matcher are simply both applied).
    expect(checkPromQL('{"foo", __name__="bar"}')).toEqual({ ok: true });
  });
  it('checks quoted label matchers like unquoted ones', () => {
    expect(message('{"a.b"=~".*"}')).toMatch(/vector selector must contain at least one non-empty matcher/);
    expect(message('x{"a.b"=~"\\d"}')).toMatch(/unknown escape sequence/);
  });
});

describe('checkPromQL traps', () => {
  it('rejects a subquery resolving more than 11000 points', () => {
    expect(message('max_over_time(x[1d:1s])')).toMatch(/^subquery x\[1d:1s\] evaluates 86400 points per series at every rule evaluation \(more than 11000\); use a coarser step or a shorter range/);
  });
  it('accepts a subquery at exactly 11000 points', () => {
    expect(checkPromQL('max_over_time(x[11000s:1s])')).toEqual({ ok: true });
  });
});

describe('checkPromQL never throws', () => {
  it.each(['', '(((((', ')'.repeat(1000), '{'.repeat(2000), '"\\', 'x[', 'sum by (', `${'('.repeat(3000)}x`])('%#', (expr) => {
    const result = checkPromQL(expr);
    expect(result.ok).toBe(false);
  });
  it('accepts deep nesting, as promtool does', () => {
    expect(checkPromQL(`${'('.repeat(3000)}x${')'.repeat(3000)}`)).toEqual({ ok: true });
  });
  it('accepts a long metric name', () => {
    expect(checkPromQL('x'.repeat(5000))).toEqual({ ok: true });
  });
  it('handles non-string input', () => {
    expect(checkPromQL(42 as unknown as string)).toEqual({ ok: false, message: 'the expression is empty' });
  });
});
