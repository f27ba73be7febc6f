import { ENFORCE_NAMESPACE_CASES } from './enforce-namespace.cases.js';
import { enforceNamespace } from './enforce-namespace.js';

describe('enforceNamespace', () => {
  it.each(ENFORCE_NAMESPACE_CASES)('%j -> %j', (input, expected) => {
    expect(enforceNamespace(input, 'shop')).toBe(expected);
  });

  it('is idempotent', () => {
    for (const [input] of ENFORCE_NAMESPACE_CASES) {
      const once = enforceNamespace(input, 'shop');
      expect(enforceNamespace(once, 'shop')).toBe(once);
    }
  });

  it('scopes every selector of a large expression (none left without the namespace)', () => {
    const out = enforceNamespace('sum by (code) (rate(a[5m])) / ignoring(code) group_left sum(rate(b{c="d"}[5m])) > on() (scalar(c) * max_over_time(d[1h:5m]))', 'team-a');
    expect(out.match(/namespace="team-a"/g)).toHaveLength(4);
    expect(out).toBe(
      'sum by (code) (rate(a{namespace="team-a"}[5m])) / ignoring(code) group_left sum(rate(b{c="d", namespace="team-a"}[5m])) > on() (scalar(c{namespace="team-a"}) * max_over_time(d{namespace="team-a"}[1h:5m]))',
    );
  });

  it.each([
    ['up{namespace="other"}', 'namespace="other"'],
    ['up{namespace!="shop"}', 'namespace!="shop"'],
    ['up{namespace=~"shop|other"}', 'namespace=~"shop|other"'],
    ['up{namespace=~".*"}', 'namespace=~".*"'],
    ['up{namespace!~"x"}', 'namespace!~"x"'],
    ['up{namespace=""}', 'namespace=""'],
    ['sum(rate(x[5m])) / sum(rate(y{namespace="kube-system"}[5m]))', 'namespace="kube-system"'],
    ['up{namespace="shop", namespace="other"}', 'namespace="other"'],
  ])('rejects %j, naming the matcher %j', (input, matcher) => {
    expect(() => enforceNamespace(input, 'shop')).toThrow(matcher);
    expect(() => enforceNamespace(input, 'shop')).toThrow(/own namespace/);
  });

  it('recognises quoted label names (Prometheus 3 syntax) as namespace matchers', () => {
    expect(enforceNamespace('x{"namespace"="shop"}', 'shop')).toBe('x{"namespace"="shop"}');
    expect(() => enforceNamespace('x{"namespace"="other"}', 'shop')).toThrow('"namespace"="other"');
    expect(() => enforceNamespace('x{"names\\x70ace"="other"}', 'shop')).toThrow(/own namespace/);
    // A quoted metric name inside the braces gets the matcher after it.
    expect(enforceNamespace('{"x.y"}', 'shop')).toBe('{"x.y", namespace="shop"}');
  });

  it('reads escapes in the namespace value as Prometheus does (octal \\157 is o)', () => {
    expect(enforceNamespace('x{namespace="sh\\157p"}', 'shop')).toBe('x{namespace="sh\\157p"}');
    expect(() => enforceNamespace('x{namespace="sh\\157q"}', 'shop')).toThrow(/own namespace/);
  });

  it.each(['up{', 'sum(', 'rate(x[5m]', 'up{job=}', '(up'])('throws on invalid PromQL %j', (input) => {
    expect(() => enforceNamespace(input, 'shop')).toThrow(/invalid PromQL/);
  });
});
