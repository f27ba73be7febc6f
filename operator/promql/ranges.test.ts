import { rangeUses } from './ranges.js';

const summary = (expr: string) =>
  rangeUses(expr).map((u) => ({
    fn: u.fn,
    text: u.text,
    rangeMs: u.rangeMs,
    ...(u.source.kind === 'subquery' ? { stepMs: u.source.stepMs } : { metric: u.source.metric, matchers: u.source.matchers.map((m) => `${m.name}${m.op}${m.value}`) }),
  }));

describe('rangeUses', () => {
  it('lists each range argument with its function, selector and length', () => {
    expect(summary('rate(http_requests_total{job="a", code=~"5.."}[5m]) > 0')).toEqual([
      { fn: 'rate', text: 'http_requests_total{job="a", code=~"5.."}[5m]', rangeMs: 300_000, metric: 'http_requests_total', matchers: ['job=a', 'code=~5..'] },
    ]);
  });

  it('looks through offset, @ and parentheses, which do not change what a range holds', () => {
    expect(summary('increase(x[1m] offset 1h) + irate((y[30s] @ 100)) + deriv(z[2m] @ start() offset -5m)').map((u) => [u.fn, u.text, u.rangeMs])).toEqual([
      ['increase', 'x[1m] offset 1h', 60_000],
      ['irate', 'y[30s] @ 100', 30_000],
      ['deriv', 'z[2m] @ start() offset -5m', 120_000],
    ]);
  });

  it('gives subqueries their step (undefined when left to the evaluation interval) and still finds the ranges inside', () => {
    expect(summary('max_over_time(rate(x[1m])[15m:30s]) > 0 or min_over_time(y[10m:])')).toEqual([
      { fn: 'max_over_time', text: 'rate(x[1m])[15m:30s]', rangeMs: 900_000, stepMs: 30_000 },
      { fn: 'rate', text: 'x[1m]', rangeMs: 60_000, metric: 'x', matchers: [] },
      { fn: 'min_over_time', text: 'y[10m:]', rangeMs: 600_000, stepMs: undefined },
    ]);
  });

  it('finds the range argument wherever the function takes it, and quoted metric names', () => {
    expect(summary('quantile_over_time(0.9, {"a.b", job="j"}[5m]) > predict_linear(x[1h], 3600)').map((u) => [u.fn, u.text, 'metric' in u ? u.metric : undefined])).toEqual([
      ['quantile_over_time', '{"a.b", job="j"}[5m]', 'a.b'],
      ['predict_linear', 'x[1h]', 'x'],
    ]);
  });

  it('reads a range given in seconds, and leaves a duration expression unknown', () => {
    expect(summary('rate(x[90]) > rate(y[1m + 1m])').map((u) => u.rangeMs)).toEqual([90_000, undefined]);
  });

  it('has nothing to say about expressions without ranges', () => {
    expect(rangeUses('up == 0 and on() vector(1)')).toEqual([]);
  });
});
