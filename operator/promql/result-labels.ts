// The labels an expression's result series can carry at most, where the expression itself decides
// them (an aggregation `by (...)` or without grouping, a scalar): an annotation that prints
// `{{ $labels.instance }}` of `sum(rate(x[5m])) > 1` prints an empty value in every email.
import { analyzeExpr } from './wasm.js';

/**
 * An upper bound of the label names of the result series of `expr`, read from Prometheus's own
 * parse tree (operator/wasm resultLabels), or undefined when it cannot be bounded (a plain selector
 * passes every label through) or `expr` does not parse. `__name__` is left out.
 */
export function resultLabels(expr: string): ReadonlySet<string> | undefined {
  const analysis = analyzeExpr(expr);
  return analysis.ok && analysis.resultLabels !== undefined ? new Set(analysis.resultLabels) : undefined;
}
