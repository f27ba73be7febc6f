// The ranges an expression hands to functions: which function reads how long a range, of which
// series (a range selector x[5m]) or of which subquery points (expr[5m:1m]), from Prometheus's own
// parse tree (wasm.ts). Validation compares them with the service's scrape intervals
// (validate/range-coverage.ts). offset and @ move a range in time without changing how many
// samples it holds, so they are looked through.
import { analyzeExpr, type RangeUse } from './wasm.js';

export type { RangeSource, RangeUse } from './wasm.js';

/** Every range argument of every function call in `expr`, which must be one checkPromQL accepted. */
export function rangeUses(expr: string): RangeUse[] {
  const analysis = analyzeExpr(expr);
  return analysis.ok ? analysis.ranges : [];
}
