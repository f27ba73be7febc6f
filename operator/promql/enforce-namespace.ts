// Tenant isolation for custom alert rules: every series selector in a MonitoredService's PromQL
// gets a `namespace="<ns>"` matcher, so a rule written in namespace A can never read series of B.
// Done on Prometheus's own parse tree (operator/wasm, enforceNamespace): the matcher is written into
// the source where each selector is, so the author's formatting and comments stay; the result is
// parsed back and must equal the enforced tree (else Prometheus's printed form of that tree is used).
//
// Isolation does not depend on detecting existing namespace matchers: unless an exact
// `namespace="<ns>"` is already there, one is always added, and matchers are ANDed, so any other
// namespace matcher can only narrow the result. Conflicting ones are rejected anyway because a
// rule that can never match is a mistake the author should hear about.
import { enforceLabel } from './wasm.js';

export const NAMESPACE_LABEL = 'namespace';

/** `expr` with namespace="<namespace>" on every selector; throws on invalid PromQL or another namespace matcher. */
export function enforceNamespace(expr: string, namespace: string): string {
  const result = enforceLabel(expr, NAMESPACE_LABEL, namespace);
  if (!result.ok) throw new Error(result.error.includes('parse error') ? `invalid PromQL expression: ${result.error}` : result.error);
  return result.expr;
}
