// The ranges an expression hands to functions: which function reads how long a range, of which
// series (a range selector x[5m]) or of which subquery points (expr[5m:1m]). Validation compares
// them with the service's scrape intervals (validate/range-coverage.ts). offset and @ move a
// range in time without changing how many samples it holds, so they are looked through.
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import { children, durationMs, expressionChildren, type Matcher, selectorParts, text } from './parse.js';

export type RangeSource =
  /** Samples of the selected series: as many as scrapes fall in the range. */
  | { kind: 'selector'; names: string[]; matchers: Matcher[] }
  /** Points of a subquery: one per step in the range; no step means the global evaluation interval. */
  | { kind: 'subquery'; stepMs: number | undefined };

export interface RangeUse {
  /** The function that reads the range, e.g. rate. */
  fn: string;
  /** The range argument as written, e.g. x[1m] or rate(x[1m])[5m:1m]. */
  text: string;
  /** Undefined when the range is a duration expression, known only at evaluation. */
  rangeMs: number | undefined;
  source: RangeSource;
}

/** Every range argument of every function call in `expr`, which must be one checkPromQL accepted. */
export function rangeUses(expr: string): RangeUse[] {
  const uses: RangeUse[] = [];
  parser.parse(expr).iterate({
    enter: (ref) => {
      if (ref.name !== 'FunctionCall') return;
      const identifier = ref.node.getChild('FunctionIdentifier');
      const body = ref.node.getChild('FunctionCallBody');
      if (!identifier || !body) return;
      for (const arg of expressionChildren(body)) {
        const use = rangeUse(text(identifier, expr), lookThrough(arg), expr);
        if (use) uses.push(use);
      }
    },
  });
  return uses;
}

const TIME_MODIFIERS = new Set(['ParenExpr', 'OffsetExpr', 'StepInvariantExpr']);

function lookThrough(node: SyntaxNode): SyntaxNode {
  let current = node;
  while (TIME_MODIFIERS.has(current.name)) {
    const [inner] = expressionChildren(current);
    if (!inner) break;
    current = inner;
  }
  return current;
}

function rangeUse(fn: string, node: SyntaxNode, expr: string): RangeUse | undefined {
  const [range, step] = children(node).filter((c) => c.name === 'DurationExpr');
  if (!range) return undefined;
  const base = { fn, text: text(node, expr), rangeMs: durationMs(range, expr) };
  if (node.name === 'SubqueryExpr') return { ...base, source: { kind: 'subquery', stepMs: step ? durationMs(step, expr) : undefined } };
  const [selector] = expressionChildren(node);
  if (node.name !== 'MatrixSelector' || selector?.name !== 'VectorSelector') return undefined;
  return { ...base, source: { kind: 'selector', ...selectorParts(selector, expr) } };
}
