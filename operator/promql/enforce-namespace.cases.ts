// Shared by enforce-namespace.test.ts (exact rewrites) and operator/render/tools.int.test.ts
// (promtool proves every rewritten expression is valid PromQL for the Prometheus version we deploy).

/** [input, expected output] for namespace "shop"; promtool parses all of them in tools.int.test.ts. */
export const ENFORCE_NAMESPACE_CASES: [string, string][] = [
  ['up', 'up{namespace="shop"}'],
  ['up == 0', 'up{namespace="shop"} == 0'],
  ['up{}', 'up{namespace="shop"}'],
  ['up{job="a"}', 'up{job="a", namespace="shop"}'],
  ['up{job="a",}', 'up{job="a", namespace="shop",}'],
  ['{__name__=~"http_.*"}', '{__name__=~"http_.*", namespace="shop"}'],
  ['{__name__="up", job!~"x|y"}', '{__name__="up", job!~"x|y", namespace="shop"}'],
  // Already scoped to the right namespace: left alone (no duplicate matcher).
  ['up{namespace="shop"}', 'up{namespace="shop"}'],
  ["up{namespace='shop', job='a'}", "up{namespace='shop', job='a'}"],
  ['up{namespace=`shop`}', 'up{namespace=`shop`}'],
  // Matrix selectors, offsets, @ modifiers, subqueries.
  ['rate(http_requests_total[5m])', 'rate(http_requests_total{namespace="shop"}[5m])'],
  ['rate(x{a="b"}[5m] offset 1h)', 'rate(x{a="b", namespace="shop"}[5m] offset 1h)'],
  ['x offset -5m', 'x{namespace="shop"} offset -5m'],
  ['x @ 1700000000', 'x{namespace="shop"} @ 1700000000'],
  ['rate(x[5m] @ end())', 'rate(x{namespace="shop"}[5m] @ end())'],
  ['x @ start() offset 1m', 'x{namespace="shop"} @ start() offset 1m'],
  ['max_over_time(rate(x[1m])[30m:1m])', 'max_over_time(rate(x{namespace="shop"}[1m])[30m:1m])'],
  ['max_over_time((x - y)[30m:] offset 5m)', 'max_over_time((x{namespace="shop"} - y{namespace="shop"})[30m:] offset 5m)'],
  // Aggregations and grouping clauses keep their label lists untouched.
  ['sum by (job) (x)', 'sum by (job) (x{namespace="shop"})'],
  ['sum without (namespace, pod) (x)', 'sum without (namespace, pod) (x{namespace="shop"})'],
  ['sum(x) by (job)', 'sum(x{namespace="shop"}) by (job)'],
  ['topk(3, x)', 'topk(3, x{namespace="shop"})'],
  ['count_values("v", x)', 'count_values("v", x{namespace="shop"})'],
  ['histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))', 'histogram_quantile(0.9, sum by (le) (rate(h_bucket{namespace="shop"}[5m])))'],
  // Binary operators with vector matching.
  ['a / on(pod) group_left(node) b', 'a{namespace="shop"} / on(pod) group_left(node) b{namespace="shop"}'],
  ['a and ignoring(x) b or c unless d', 'a{namespace="shop"} and ignoring(x) b{namespace="shop"} or c{namespace="shop"} unless d{namespace="shop"}'],
  ['-x > bool 1', '-x{namespace="shop"} > bool 1'],
  // Functions with string arguments: strings are not selectors, even when they look like one.
  ['label_replace(x, "dst", "$1", "src", "(.*)")', 'label_replace(x{namespace="shop"}, "dst", "$1", "src", "(.*)")'],
  ['label_replace(x, "y", "up{a=\\"}\\"}", "z", ".*")', 'label_replace(x{namespace="shop"}, "y", "up{a=\\"}\\"}", "z", ".*")'],
  ['x{path="/a}b{c"}', 'x{path="/a}b{c", namespace="shop"}'],
  ['absent(x{job="a"})', 'absent(x{job="a", namespace="shop"})'],
  ['absent_over_time(x[5m])', 'absent_over_time(x{namespace="shop"}[5m])'],
  // Expressions without selectors are unchanged.
  ['vector(1)', 'vector(1)'],
  ['1 + 2 * 3', '1 + 2 * 3'],
  ['time() - 3600', 'time() - 3600'],
  ['time() - process_start_time_seconds', 'time() - process_start_time_seconds{namespace="shop"}'],
  // Metric names that are also keywords or function names elsewhere.
  ['sum(bool_metric) + offset_total', 'sum(bool_metric{namespace="shop"}) + offset_total{namespace="shop"}'],
  // Formatting and comments are kept; a comment is never mistaken for a matcher.
  ['sum(\n  rate(x[5m])  # per second\n)', 'sum(\n  rate(x{namespace="shop"}[5m])  # per second\n)'],
  ['x{a="b", # trailing comment\n}', 'x{a="b", namespace="shop", # trailing comment\n}'],
  ['x # up{namespace="other"}', 'x{namespace="shop"} # up{namespace="other"}'],
  ['up  {a="b"} == 0', 'up  {a="b", namespace="shop"} == 0'],
  // A comment between the name and its braces: the rewrite in place does not parse back to the enforced
  // tree, so Prometheus's printed form of that tree is used (still scoped, comment dropped).
  ['up # c\n{a="b"} == 0', 'up{a="b",namespace="shop"} == 0'],
];
