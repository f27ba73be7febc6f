// The labels an expression's result series can carry at most, where the expression itself decides
// them (an aggregation `by (...)` or without grouping, a scalar): an annotation that prints
// `{{ $labels.instance }}` of `sum(rate(x[5m])) > 1` prints an empty value in every email.
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import { children, expressionChildren, text } from './parse.js';

/** Aggregations whose result keeps the input series' labels. */
const KEEPS_INPUT_LABELS = new Set(['Topk', 'Bottomk', 'LimitK', 'LimitRatio']);
/** Functions whose result can carry labels their arguments do not have. */
const ADDS_LABELS = new Set(['label_replace', 'label_join', 'absent', 'absent_over_time', 'info']);

/**
 * An upper bound of the label names of the result series of `expr` (one checkPromQL accepted), or
 * undefined when it cannot be bounded (a plain selector passes every label through). `__name__`
 * is left out.
 */
export function resultLabels(expr: string): ReadonlySet<string> | undefined {
  const top = parser.parse(expr).topNode;
  const [node] = expressionChildren(top);
  return node ? labelsOf(node, expr) : undefined;
}

function union(sets: (ReadonlySet<string> | undefined)[]): ReadonlySet<string> | undefined {
  if (sets.some((s) => s === undefined)) return undefined;
  return new Set(sets.flatMap((s) => [...(s as ReadonlySet<string>)]));
}

function groupingLabels(node: SyntaxNode | undefined, expr: string): string[] {
  const grouping = node ? children(node).find((c) => c.name === 'GroupingLabels') : undefined;
  return grouping
    ? children(grouping)
        .filter((c) => c.name === 'LabelName')
        .map((c) => text(c, expr))
    : [];
}

function labelsOf(node: SyntaxNode, expr: string): ReadonlySet<string> | undefined {
  switch (node.name) {
    case 'NumberDurationLiteral':
      return new Set();
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
    case 'OffsetExpr':
    case 'SubqueryExpr': {
      const [inner] = expressionChildren(node);
      return inner ? labelsOf(inner, expr) : undefined;
    }
    case 'AggregateExpr': {
      const op = children(node).find((c) => c.name === 'AggregateOp')?.firstChild?.name ?? '';
      const body = children(node).find((c) => c.name === 'FunctionCallBody');
      const args = body ? expressionChildren(body) : [];
      if (KEEPS_INPUT_LABELS.has(op)) {
        const input = args[args.length - 1];
        return input ? labelsOf(input, expr) : undefined;
      }
      if (op === 'CountValues') return undefined;
      const modifier = children(node).find((c) => c.name === 'AggregateModifier');
      if (!modifier) return new Set();
      if (children(modifier).some((c) => c.name === 'Without')) return undefined;
      return new Set(groupingLabels(modifier, expr));
    }
    case 'BinaryExpr': {
      const [lhs, rhs] = expressionChildren(node);
      if (!lhs || !rhs) return undefined;
      const matching = children(node).find((c) => c.name === 'MatchingModifierClause');
      const groupLeft = matching && children(matching).some((c) => c.name === 'GroupLeft');
      const groupRight = matching && children(matching).some((c) => c.name === 'GroupRight');
      // group_left(x)/group_right(x) copy x from the "one" side: the label list after the group modifier.
      const included = (): ReadonlySet<string> => {
        const parts = matching ? children(matching) : [];
        const at = parts.findIndex((c) => c.name === 'GroupLeft' || c.name === 'GroupRight');
        const list = at >= 0 && parts[at + 1]?.name === 'GroupingLabels' ? (parts[at + 1] as SyntaxNode) : undefined;
        return new Set(
          list
            ? children(list)
                .filter((c) => c.name === 'LabelName')
                .map((c) => text(c, expr))
            : [],
        );
      };
      if (children(node).some((c) => c.name === 'Or')) return union([labelsOf(lhs, expr), labelsOf(rhs, expr)]);
      if (groupRight) return union([labelsOf(rhs, expr), included()]);
      if (groupLeft) return union([labelsOf(lhs, expr), included()]);
      // A scalar side takes the labels of the other; otherwise the result has the left side's (at most).
      if (lhs.name === 'NumberDurationLiteral') return labelsOf(rhs, expr);
      return labelsOf(lhs, expr);
    }
    case 'FunctionCall': {
      const name = text(children(node).find((c) => c.name === 'FunctionIdentifier') ?? node, expr);
      if (name === 'vector' || name === 'time' || name === 'scalar' || name === 'pi') return new Set();
      if (ADDS_LABELS.has(name)) return undefined;
      const body = children(node).find((c) => c.name === 'FunctionCallBody');
      const args = (body ? expressionChildren(body) : []).filter((a) => a.name !== 'NumberDurationLiteral' && a.name !== 'StringLiteral');
      return args.length === 0 ? new Set() : union(args.map((a) => labelsOf(a, expr)));
    }
    default:
      return undefined;
  }
}
