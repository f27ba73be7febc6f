import { resultLabels } from './result-labels.js';

const labels = (expr: string) => {
  const set = resultLabels(expr);
  return set === undefined ? undefined : [...set].sort();
};

describe('resultLabels', () => {
  it('bounds the labels where the expression decides them', () => {
    expect(labels('sum(rate(http_requests_total[5m])) > 1')).toEqual([]);
    expect(labels('sum by (job, le) (rate(x[5m])) > 1')).toEqual(['job', 'le']);
    expect(labels('histogram_quantile(0.9, sum by (le, route) (rate(x_bucket[5m]))) > 0.5')).toEqual(['le', 'route']);
    expect(labels('1 < count by (pod) (up == 0)')).toEqual(['pod']);
    // group_left keeps the left side's labels and copies the listed ones from the right.
    expect(labels('(sum by (a) (x)) / on (a) group_left (b) y')).toEqual(['a', 'b']);
    expect(labels('sum by (a) (x) or sum by (b) (y)')).toEqual(['a', 'b']);
    expect(labels('topk(3, sum by (pod) (x))')).toEqual(['pod']);
    expect(labels('sum by ("http.route", code) (rate({"http.server.request.duration_count"}[5m])) > 1')).toEqual(['code', 'http.route']);
    expect(labels('sum by (a) (x) / on ("a") group_left ("d.e") y')).toEqual(['a', 'd.e']);
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
    ]) {
      expect(labels(expr)).toBeUndefined();
    }
  });
});
