import { resultLabels } from './result-labels.js';

const labels = (expr: string) => {
  const set = resultLabels(expr);
  return set === undefined ? undefined : [...set].sort();
};

describe('resultLabels', () => {
  it('bounds the labels where the expression decides them', () => {
    expect(labels('sum(rate(http_requests_total[5m])) > 1')).toEqual([]);
    expect(labels('sum by (job, le) (rate(x[5m])) > 1')).toEqual(['job', 'le']);
    // The buckets of one histogram are grouped without le (checked with promtool test rules).
    expect(labels('histogram_quantile(0.9, sum by (le, route) (rate(x_bucket[5m]))) > 0.5')).toEqual(['route']);
    expect(labels('histogram_quantile(0.9, sum by (le, instance) (rate(x_bucket[1m]))) > 0.5')).toEqual(['instance']);
    expect(labels('histogram_fraction(0, 0.2, sum by (le, job) (rate(x_bucket[5m]))) > 0.5')).toEqual(['job']);
    expect(labels('1 < count by (pod) (up == 0)')).toEqual(['pod']);
    // group_left keeps the left side's labels and copies the listed ones from the right.
    expect(labels('(sum by (a) (x)) / on (a) group_left (b) y')).toEqual(['a', 'b']);
    expect(labels('sum by (a) (x) or sum by (b) (y)')).toEqual(['a', 'b']);
    expect(labels('topk(3, sum by (pod) (x))')).toEqual(['pod']);
    expect(labels('sum by ("http.route", code) (rate({"http.server.request.duration_count"}[5m])) > 1')).toEqual(['code', 'http.route']);
    expect(labels('sum by (a) (x) / on ("a") group_left ("d.e") y')).toEqual(['a', 'd.e']);
    // One-to-one matching keeps the left side's on(...) labels, or drops its ignoring(...) ones
    // (promql/engine.go resultMetric; checked with promtool test rules).
    expect(labels('sum by (instance, pod) (x) / on(instance) sum by (instance) (y) > 0.5')).toEqual(['instance']);
    expect(labels('sum by (instance, pod) (x) / on(instance, zone) sum by (instance, zone) (y) > 0.5')).toEqual(['instance']);
    expect(labels('rate(x[5m]) / on(instance) rate(y[5m]) > 0.5')).toEqual(['instance']);
    expect(labels('sum by (a, b) (x) / on() sum(y)')).toEqual([]);
    expect(labels('sum by (instance, pod) (x) / ignoring(pod) sum by (instance) (y) > 0.5')).toEqual(['instance']);
    expect(labels('sum by (a, b) (x) > bool on(a) sum by (a) (y)')).toEqual(['a']);
    expect(labels('sum by (a, b) (x) and on(a) sum by (a) (y)')).toEqual(['a', 'b']);
    expect(labels('vector(1)')).toEqual([]);
    expect(labels('abs(sum(x)) > 1')).toEqual([]);
  });

  it('gives up where labels pass through or are added', () => {
    for (const expr of [
      'up == 0',
      'rate(x[5m]) > 1',
      'count without (pod) (x)',
      'absent(up{job="a"})',
      'label_replace(sum(x), "a", "b", "", "")',
      'count_values("v", x)',
      'sum(x) > on() group_right y',
      'rate(x[5m]) / ignoring(pod) rate(y[5m])',
    ]) {
      expect(labels(expr)).toBeUndefined();
    }
  });
});
