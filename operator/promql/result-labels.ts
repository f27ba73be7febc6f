// The labels an expression's result series can carry at most, where the expression itself decides
// them (an aggregation `by (...)` or without grouping, a scalar): an annotation that prints
// `{{ $labels.instance }}` of `sum(rate(x[5m])) > 1` prints an empty value in every email.
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import { decodeStringLiteral } from './enforce-namespace.js';
import { children, expressionChildren, text } from './parse.js';

/** Aggregations whose result keeps the input series' labels. */
const KEEPS_INPUT_LABELS = new Set(['Topk', 'Bottomk', 'LimitK', 'LimitRatio']);
/** Functions whose result can carry labels their arguments do not have. */
const ADDS_LABELS = new Set(['label_replace', 'label_join', 'absent', 'absent_over_time', 'info']);
/** Functions without a vector argument whose result has no labels. */
const NO_LABELS = new Set(['vector', 'time', 'scalar', 'pi']);

type Labels = ReadonlySet<string> | undefined;

/**
 * An upper bound of the label names of the result series of `expr` (one checkPromQL accepted), or
 * undefined when it cannot be bounded (a plain selector passes every label through). `__name__`
 * is left out.
 */
export function resultLabels(expr: string): Labels {
  const [node] = expressionChildren(parser.parse(expr).topNode);
  return node ? labelsOf(node, expr) : undefined;
}

function union(sets: Labels[]): Labels {
  if (sets.some((s) => s === undefined)) return undefined;
  return new Set(sets.flatMap((s) => [...(s as ReadonlySet<string>)]));
}

/** The names of a GroupingLabels list: plain (job) or quoted UTF-8 ("http.route"); undefined for one it cannot read. */
function namesOf(list: SyntaxNode | undefined, expr: string): Labels {
  const names = new Set<string>();
  for (const c of list ? children(list) : []) {
    if (c.name === 'LabelName') names.add(text(c, expr));
    else if (c.name === 'QuotedLabelName') {
      const literal = children(c).find((l) => l.name === 'StringLiteral');
      const name = literal ? decodeStringLiteral(text(literal, expr)) : undefined;
      if (name === undefined) return undefined;
      names.add(name);
    }
  }
  return names;
}

function aggregateLabels(node: SyntaxNode, expr: string): Labels {
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
  return namesOf(
    children(modifier).find((c) => c.name === 'GroupingLabels'),
    expr,
  );
}

function binaryLabels(node: SyntaxNode, expr: string): Labels {
  const [lhs, rhs] = expressionChildren(node);
  if (!lhs || !rhs) return undefined;
  if (children(node).some((c) => c.name === 'Or')) return union([labelsOf(lhs, expr), labelsOf(rhs, expr)]);
  const matching = children(node).find((c) => c.name === 'MatchingModifierClause');
  const parts = matching ? children(matching) : [];
  const group = parts.findIndex((c) => c.name === 'GroupLeft' || c.name === 'GroupRight');
  if (group >= 0) {
    // group_left(x)/group_right(x): the "many" side's labels plus x, copied from the "one" side.
    const list = parts[group + 1]?.name === 'GroupingLabels' ? parts[group + 1] : undefined;
    const many = parts[group]?.name === 'GroupLeft' ? lhs : rhs;
    return union([labelsOf(many, expr), namesOf(list, expr)]);
  }
  // A scalar side takes the labels of the other; otherwise the result has the left side's (at most).
  return lhs.name === 'NumberDurationLiteral' ? labelsOf(rhs, expr) : labelsOf(lhs, expr);
}

function labelsOf(node: SyntaxNode, expr: string): Labels {
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
    case 'AggregateExpr':
      return aggregateLabels(node, expr);
    case 'BinaryExpr':
      return binaryLabels(node, expr);
    case 'FunctionCall': {
      const name = text(children(node).find((c) => c.name === 'FunctionIdentifier') ?? node, expr);
      if (NO_LABELS.has(name)) return new Set();
      if (ADDS_LABELS.has(name)) return undefined;
      const body = children(node).find((c) => c.name === 'FunctionCallBody');
      const args = (body ? expressionChildren(body) : []).filter((a) => a.name !== 'NumberDurationLiteral' && a.name !== 'StringLiteral');
      return union(args.map((a) => labelsOf(a, expr)));
    }
    default:
      return undefined;
  }
}
