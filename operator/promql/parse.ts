// PromQL checks for alert expressions, decided by the parser of the Prometheus that Vigil deploys
// (hack/versions.env) running in-process (wasm.ts): what it refuses, with its own error text, is
// what Prometheus would refuse at reload. On top of it, Vigil's own rules for alert expressions:
// the result must be an instant vector or a scalar, a selector must not read every series, and a
// subquery must not resolve an absurd number of points.
import { analyzeExpr, type Matcher, matchLabel } from './wasm.js';

export type { Matcher } from './wasm.js';

export type PromQLCheck = { ok: true } | { ok: false; message: string };

/** Prometheus' limit of points per series in a range query; a subquery resolving more is almost surely a mistake. */
export const MAX_SUBQUERY_POINTS = 11000;

/** The Prometheus version whose parser decides (a unit test ties it to hack/versions.env and operator/wasm/go.mod). */
export const DEPLOYED_PROMETHEUS = '3.15.1';

/** Whether `expr` is an alert expression Prometheus loads and that can work; the message says why not. */
export function checkPromQL(expr: string): PromQLCheck {
  if (typeof expr !== 'string' || expr.trim() === '') return { ok: false, message: 'the expression is empty' };
  const analysis = analyzeExpr(expr);
  if (!analysis.ok) return { ok: false, message: `Prometheus ${DEPLOYED_PROMETHEUS} cannot parse it: ${analysis.error}` };
  if (analysis.type === 'matrix' || analysis.type === 'string') {
    const hint = analysis.type === 'matrix' ? ' (a range vector such as x[5m] must be wrapped in a function like rate(x[5m]))' : '';
    return { ok: false, message: `an alert expression must return an instant vector or a scalar, this one returns ${analysis.type === 'matrix' ? 'a range vector' : 'a string'}${hint}` };
  }
  if (analysis.evalError !== undefined) {
    return {
      ok: false,
      message: `Prometheus ${DEPLOYED_PROMETHEUS} would fail it at every rule evaluation: ${analysis.evalError} (a rule is evaluated as an instant query, where step() and range() are 0s; ranges and subquery steps must come out positive, e.g. [5m] or [max_of(step()*4, 5m)])`,
    };
  }
  const open = analysis.selectors.find((s) => !s.narrowing);
  if (open) {
    return {
      ok: false,
      message: `selector ${open.text} has no metric name and its matchers let every series through; add a metric name or an equality matcher such as service="checkout"`,
    };
  }
  for (const subquery of analysis.subqueries) {
    if (subquery.rangeMs === undefined || subquery.stepMs === undefined) continue;
    const points = Math.floor(subquery.rangeMs / subquery.stepMs);
    if (points > MAX_SUBQUERY_POINTS) {
      return {
        ok: false,
        message: `subquery ${subquery.text} evaluates ${points} points per series at every rule evaluation (more than ${MAX_SUBQUERY_POINTS}); use a coarser step or a shorter range`,
      };
    }
  }
  return { ok: true };
}

/** Whether a label value passes a matcher, as Prometheus matches it (RE2, fully anchored). */
export function matches(m: Matcher, value: string): boolean {
  return matchLabel(m, [value])[0] ?? false;
}
