// PromQL checks for alert expressions, against the Prometheus that Vigil deploys (3.15, see
// hack/versions.env). The tree comes from @prometheus-io/lezer-promql 0.315 (the parser of
// Prometheus' own web UI, same grammar version). That parser checks syntax only, and it also
// parses syntax that Prometheus gates behind --enable-feature flags Vigil does not set; so on top
// of its error nodes this file checks what Prometheus' own parser would refuse (types, function
// signatures, feature-gated syntax, empty selectors, escapes, regexes) and the traps that load but
// hurt (selectors matching every series, subqueries with absurd resolution).
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import { PROMQL_AGGREGATIONS, PROMQL_FEATURE_FLAGS, PROMQL_FUNCTIONS, type PromQLFunction, type ValueType } from './functions.js';
import { parseDurationMs } from '../validate/duration.js';

export type PromQLCheck = { ok: true } | { ok: false; message: string };

/** Prometheus' limit of points per series in a range query; a subquery resolving more is almost surely a mistake. */
export const MAX_SUBQUERY_POINTS = 11000;

class PromQLError extends Error {
  constructor(
    message: string,
    readonly from: number,
  ) {
    super(message);
  }
}

export function checkPromQL(expr: string): PromQLCheck {
  if (typeof expr !== 'string' || expr.trim() === '') return { ok: false, message: 'the expression is empty' };
  try {
    const tree = parser.parse(expr);
    const syntaxError = firstErrorNode(tree.topNode);
    if (syntaxError) {
      const what = syntaxError.from >= expr.length ? 'unexpected end of expression' : `unexpected ${JSON.stringify(expr.slice(syntaxError.from, Math.max(syntaxError.to, syntaxError.from + 1)))}`;
      return { ok: false, message: `PromQL syntax error ${at(expr, syntaxError.from)}: ${what}` };
    }
    const root = expressionChildren(tree.topNode)[0];
    if (!root) return { ok: false, message: 'the expression is empty' };
    const type = typeOf(root, expr);
    if (type === 'matrix' || type === 'string') {
      const hint = type === 'matrix' ? ' (a range vector such as x[5m] must be wrapped in a function like rate(x[5m]))' : '';
      return { ok: false, message: `an alert expression must return an instant vector or a scalar, this one returns ${aType(type)}${hint}` };
    }
    return { ok: true };
  } catch (err) {
    if (err instanceof PromQLError) return { ok: false, message: `${err.message} ${at(expr, err.from)}` };
    return { ok: false, message: `the expression could not be checked: ${String(err)}` };
  }
}

function rangeName(type: ValueType): string {
  return type === 'matrix' ? 'range vector' : type === 'vector' ? 'instant vector' : type;
}

/** "a range vector", "an instant vector" */
function aType(type: ValueType): string {
  const name = rangeName(type);
  return `${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name}`;
}

/** "at line 1, column 6 (near "up ==")" */
function at(expr: string, offset: number): string {
  const before = expr.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  const start = Math.max(0, offset - 20);
  const near = expr.slice(start, offset + 20).replace(/\s+/g, ' ');
  return `at line ${line}, column ${column} (near ${JSON.stringify((start > 0 ? '...' : '') + near + (offset + 20 < expr.length ? '...' : ''))})`;
}

function firstErrorNode(node: SyntaxNode): SyntaxNode | undefined {
  const cursor = node.cursor();
  do {
    if (cursor.type.isError) return cursor.node;
  } while (cursor.next());
  return undefined;
}

const EXPRESSION_NODES = new Set([
  'AggregateExpr',
  'BinaryExpr',
  'FunctionCall',
  'MatrixSelector',
  'NumberDurationLiteral',
  'OffsetExpr',
  'ParenExpr',
  'StepInvariantExpr',
  'StringLiteral',
  'SubqueryExpr',
  'UnaryExpr',
  'VectorSelector',
  'AnchoredExpr',
  'SmoothedExpr',
]);

export function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) if (child.name !== 'LineComment') out.push(child);
  return out;
}

export function expressionChildren(node: SyntaxNode): SyntaxNode[] {
  return children(node).filter((c) => EXPRESSION_NODES.has(c.name));
}

export function text(node: SyntaxNode, expr: string): string {
  return expr.slice(node.from, node.to);
}

/** "needs --enable-feature=X, which Vigil's Prometheus does not enable" */
function featureGated(what: string, flag: string): string {
  return `${what} needs Prometheus' --enable-feature=${flag}, which Vigil's Prometheus does not enable`;
}

const SET_OPERATORS = new Set(['And', 'Or', 'Unless']);
const COMPARISON_OPERATORS = new Set(['Eql', 'Neq', 'Gtr', 'Lss', 'Gte', 'Lte']);
/** The Prometheus version whose parser these checks follow (a unit test ties it to hack/versions.env). */
export const DEPLOYED_PROMETHEUS = '3.15.1';

/**
 * Milliseconds of a range, step or offset (a DurationExpr/OffsetDurationExpr node). Prometheus 3
 * takes a duration literal (5m, 1h30m) or a plain number of seconds (300, 1.5) here, and duration
 * expressions (5m + 1m, step(), range(), min_of/max_of): 3.15 enables those permanently
 * (promql-duration-expr is a no-op flag there, checked against the real server). An expression's
 * value is only known at evaluation: undefined.
 */
export function durationMs(node: SyntaxNode, expr: string): number | undefined {
  const inner = children(node);
  const literal = inner.length === 1 && inner[0]?.name === 'NumberDurationLiteralInDurationContext' ? text(inner[0], expr).trim() : undefined;
  if (literal === undefined) return undefined;
  const ms = parseDurationMs(literal);
  if (ms !== undefined) return ms;
  const seconds = Number(literal);
  if (/^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/.test(literal) && Number.isFinite(seconds)) return seconds * 1000;
  throw new PromQLError(`"${literal}" is not a duration such as 5m or 1h30m, or a number of seconds`, node.from);
}

/** Milliseconds of an offset: a duration or number of seconds, optionally negative (x offset -5m). */
function offsetMs(node: SyntaxNode, expr: string): number | undefined {
  const inner = children(node);
  if (inner.length === 2 && inner[0]?.name === 'UnaryOp' && inner[1]?.name === 'OffsetDurationExpr') {
    const ms = offsetMs(inner[1], expr);
    return ms !== undefined && text(inner[0], expr) === '-' ? -ms : ms;
  }
  return durationMs(node, expr);
}

function typeOf(node: SyntaxNode, expr: string): ValueType {
  switch (node.name) {
    // A number, or (Prometheus 3) a duration literal used as its number of seconds (time() - 5m).
    case 'NumberDurationLiteral':
      return 'scalar';
    case 'StringLiteral':
      unquote(node, expr);
      return 'string';
    case 'VectorSelector':
      checkVectorSelector(node, expr);
      return 'vector';
    case 'MatrixSelector': {
      const [selector] = expressionChildren(node);
      const range = children(node).find((c) => c.name === 'DurationExpr');
      if (!selector || selector.name !== 'VectorSelector') throw new PromQLError('a range [..] can only follow a plain selector such as x[5m]; use a subquery x[5m:1m] for expressions', node.from);
      checkVectorSelector(selector, expr);
      if (range && durationMs(range, expr) === 0) throw new PromQLError('the range of a range vector must be greater than 0', range.from);
      return 'matrix';
    }
    case 'SubqueryExpr': {
      const [inner] = expressionChildren(node);
      const durations = children(node).filter((c) => c.name === 'DurationExpr');
      if (!inner) throw new PromQLError('subquery without an expression', node.from);
      const innerType = typeOf(inner, expr);
      if (innerType !== 'vector') throw new PromQLError(`a subquery needs an instant vector expression, got ${aType(innerType)}`, node.from);
      const [range, step] = durations;
      if (range) {
        const rangeMs = durationMs(range, expr);
        if (rangeMs === 0) throw new PromQLError('the range of a subquery must be greater than 0', range.from);
        if (step) {
          const stepMs = durationMs(step, expr);
          if (stepMs === 0) throw new PromQLError('the step of a subquery must be greater than 0', step.from);
          const points = rangeMs !== undefined && stepMs !== undefined ? Math.floor(rangeMs / stepMs) : 0;
          if (points > MAX_SUBQUERY_POINTS) {
            throw new PromQLError(
              `subquery ${text(range, expr)}:${text(step, expr)} evaluates ${points} points per series at every rule evaluation (more than ${MAX_SUBQUERY_POINTS}); use a coarser step or a shorter range`,
              node.from,
            );
          }
        }
      }
      return 'matrix';
    }
    case 'OffsetExpr': {
      const [inner] = expressionChildren(node);
      const offset = children(node).find((c) => c.name === 'OffsetDurationExpr');
      if (offset) offsetMs(offset, expr);
      if (!inner) throw new PromQLError('offset without an expression', node.from);
      const type = typeOf(inner, expr);
      if (!['VectorSelector', 'MatrixSelector', 'SubqueryExpr', 'StepInvariantExpr'].includes(inner.name)) {
        throw new PromQLError('offset must directly follow a selector or a subquery', node.from);
      }
      return type;
    }
    case 'StepInvariantExpr': {
      const [inner] = expressionChildren(node);
      if (!inner) throw new PromQLError('@ without an expression', node.from);
      if (!['VectorSelector', 'MatrixSelector', 'SubqueryExpr', 'OffsetExpr'].includes(inner.name)) {
        throw new PromQLError('@ must directly follow a selector or a subquery', node.from);
      }
      return typeOf(inner, expr);
    }
    case 'ParenExpr': {
      const [inner] = expressionChildren(node);
      if (!inner) throw new PromQLError('empty parentheses', node.from);
      return typeOf(inner, expr);
    }
    case 'UnaryExpr': {
      const [inner] = expressionChildren(node);
      if (!inner) throw new PromQLError('unary operator without an operand', node.from);
      const type = typeOf(inner, expr);
      if (type !== 'vector' && type !== 'scalar') throw new PromQLError(`unary minus/plus only applies to scalars and instant vectors, not ${aType(type)}`, node.from);
      return type;
    }
    case 'BinaryExpr':
      return binaryType(node, expr);
    case 'FunctionCall':
      return functionType(node, expr);
    case 'AggregateExpr':
      return aggregateType(node, expr);
    case 'AnchoredExpr':
    case 'SmoothedExpr':
      throw new PromQLError(featureGated('the anchored/smoothed range modifier', PROMQL_FEATURE_FLAGS.extendedRangeSelectors), node.from);
    default:
      throw new PromQLError(`unsupported expression "${text(node, expr)}"`, node.from);
  }
}

function binaryType(node: SyntaxNode, expr: string): ValueType {
  const operands = expressionChildren(node);
  const lhs = operands[0];
  const rhs = operands[operands.length - 1];
  const operator = children(node).find((c) => !EXPRESSION_NODES.has(c.name) && !['BoolModifier', 'MatchingModifierClause'].includes(c.name));
  if (!lhs || !rhs || operands.length !== 2 || !operator) throw new PromQLError('incomplete binary expression', node.from);
  if (children(node).some((c) => c.name === 'FillModifier' || c.name.startsWith('Fill'))) {
    throw new PromQLError(featureGated('a fill modifier', PROMQL_FEATURE_FLAGS.fillModifiers), node.from);
  }
  const left = typeOf(lhs, expr);
  const right = typeOf(rhs, expr);
  for (const [side, type] of [
    [lhs, left],
    [rhs, right],
  ] as const) {
    if (type !== 'vector' && type !== 'scalar') {
      throw new PromQLError(`binary operators only work on scalars and instant vectors, this operand is ${aType(type)}`, side.from);
    }
  }
  const hasBool = children(node).some((c) => c.name === 'BoolModifier');
  if (SET_OPERATORS.has(operator.name) && (left !== 'vector' || right !== 'vector')) {
    throw new PromQLError(`set operator "${text(operator, expr)}" needs instant vectors on both sides`, operator.from);
  }
  if (COMPARISON_OPERATORS.has(operator.name) && left === 'scalar' && right === 'scalar' && !hasBool) {
    throw new PromQLError('comparisons between scalars must use the bool modifier', operator.from);
  }
  return left === 'scalar' && right === 'scalar' ? 'scalar' : 'vector';
}

/** Argument count and types as Prometheus' parser checks a call (see PromQLFunction.variadic). */
function checkArguments(name: string, fn: PromQLFunction, args: SyntaxNode[], expr: string, at: number): void {
  const declared = fn.args.length;
  const variadic = fn.variadic ?? 0;
  const min = variadic === 0 ? declared : declared - 1;
  const max = variadic === 0 ? declared : variadic > 0 ? declared - 1 + variadic : Infinity;
  if (args.length < min || args.length > max) {
    const expected = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new PromQLError(`${name}() takes ${expected} argument${expected === '1' ? '' : 's'}, got ${args.length}`, at);
  }
  args.forEach((arg, i) => {
    const expected = fn.args[Math.min(i, declared - 1)] ?? 'vector';
    const actual = typeOf(arg, expr);
    if (actual !== expected) {
      const hint = expected === 'matrix' && actual === 'vector' ? ` (add a range, e.g. ${name}(${text(arg, expr)}[5m]))` : '';
      throw new PromQLError(`argument ${i + 1} of ${name}() must be ${aType(expected)}, got ${aType(actual)}${hint}`, arg.from);
    }
  });
}

function functionType(node: SyntaxNode, expr: string): ValueType {
  const identifier = children(node).find((c) => c.name === 'FunctionIdentifier');
  const body = children(node).find((c) => c.name === 'FunctionCallBody');
  const name = identifier ? text(identifier, expr) : '';
  const fn = PROMQL_FUNCTIONS[name];
  if (!fn) throw new PromQLError(`function ${name}() does not exist in Prometheus ${DEPLOYED_PROMETHEUS}`, node.from);
  if (fn.experimental) throw new PromQLError(featureGated(`the experimental function ${name}()`, PROMQL_FEATURE_FLAGS.experimentalFunctions), node.from);
  checkArguments(name, fn, body ? expressionChildren(body) : [], expr, node.from);
  return fn.returns;
}

function aggregateType(node: SyntaxNode, expr: string): ValueType {
  const op = children(node).find((c) => c.name === 'AggregateOp');
  const body = children(node).find((c) => c.name === 'FunctionCallBody');
  const name = op ? text(op, expr) : '';
  const aggregation = PROMQL_AGGREGATIONS[name];
  if (!aggregation) throw new PromQLError(`aggregation ${name} does not exist in Prometheus ${DEPLOYED_PROMETHEUS}`, node.from);
  if (aggregation.experimental) throw new PromQLError(featureGated(`the experimental aggregation ${name}`, PROMQL_FEATURE_FLAGS.experimentalFunctions), node.from);
  checkArguments(name, { args: aggregation.args, returns: 'vector' }, body ? expressionChildren(body) : [], expr, node.from);
  return 'vector';
}

/** Go-style unquoting as the PromQL lexer does it; unknown escapes such as "\d" are errors there. */
export function unquote(node: SyntaxNode, expr: string): string {
  const raw = text(node, expr);
  const quote = raw[0];
  const body = raw.slice(1, -1);
  if (quote === '`') return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[i + 1] ?? '';
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
    if (e in simple) {
      out += simple[e];
      i++;
    } else if (e === quote) {
      out += e;
      i++;
    } else if (/[0-7]/.test(e) && /^[0-7]{3}$/.test(body.slice(i + 1, i + 4))) {
      out += String.fromCharCode(parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(body.slice(i + 2, i + 4))) {
      out += String.fromCharCode(parseInt(body.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(body.slice(i + 2, i + 6))) {
      out += String.fromCharCode(parseInt(body.slice(i + 2, i + 6), 16));
      i += 5;
    } else if (e === 'U' && /^[0-9a-fA-F]{8}$/.test(body.slice(i + 2, i + 10))) {
      out += String.fromCodePoint(parseInt(body.slice(i + 2, i + 10), 16));
      i += 9;
    } else {
      throw new PromQLError(`unknown escape sequence "\\${e}" in string ${raw} (in a regex write "\\\\${e}" or use a backtick string)`, node.from);
    }
  }
  return out;
}

export interface Matcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
  regex?: RegExp;
}

/** RE2 (Prometheus) regex as a JS RegExp, fully anchored like Prometheus does; throws on what RE2 cannot compile. */
function compileRegex(source: string, at: number): RegExp {
  if (/\(\?<?[=!]/.test(source)) throw new PromQLError(`regex "${source}" uses a lookaround, which Prometheus (RE2) does not support`, at);
  if (/\\[1-9]/.test(source)) throw new PromQLError(`regex "${source}" uses a backreference, which Prometheus (RE2) does not support`, at);
  let flags = '';
  let body = source.replace(/\(\?P</g, '(?<');
  const inline = /^\(\?([imsU]+)\)/.exec(body);
  if (inline) {
    body = body.slice(inline[0].length);
    if (inline[1]?.includes('i')) flags += 'i';
    if (inline[1]?.includes('s')) flags += 's';
  }
  try {
    return new RegExp(`^(?:${body})$`, flags);
  } catch (err) {
    throw new PromQLError(`invalid regex "${source}": ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`, at);
  }
}

const SAMPLE_VALUES = ['a', 'prod', 'checkout-7f9c', 'Z_9', '10.0.0.1:8080', '/metrics'];
/** True when a matcher lets through (nearly) every non-empty label value, e.g. =~".*", =~".+", !="", !~"". */
function matchesAnything(m: Matcher): boolean {
  if (m.op === '=') return false;
  if (m.op === '!=') return true;
  return SAMPLE_VALUES.every((v) => matches(m, v));
}

/** A selector's metric name (unquoted or Prometheus 3's quoted {"foo.bar"}) and label matchers; throws on malformed ones. */
export function selectorParts(node: SyntaxNode, expr: string): { names: string[]; matchers: Matcher[] } {
  const identifier = children(node).find((c) => c.name === 'Identifier');
  const matchersNode = children(node).find((c) => c.name === 'LabelMatchers');
  const matchers: Matcher[] = [];
  // Prometheus 3 (UTF-8 names): {"foo.bar"} names the metric, {"a.b"="x"} matches a quoted label name.
  const names: string[] = identifier ? [text(identifier, expr)] : [];
  for (const child of matchersNode ? children(matchersNode) : []) {
    if (child.name === 'QuotedLabelName') {
      const literal = child.getChild('StringLiteral');
      names.push(literal ? unquote(literal, expr) : '');
      continue;
    }
    if (child.name !== 'UnquotedLabelMatcher' && child.name !== 'QuotedLabelMatcher') continue;
    const label = child.name === 'UnquotedLabelMatcher' ? child.getChild('LabelName') : child.getChild('QuotedLabelName')?.getChild('StringLiteral');
    const op = child.getChild('MatchOp');
    const value = child.getChild('StringLiteral');
    if (!label || !op || !value) throw new PromQLError('incomplete label matcher', child.from);
    const name = child.name === 'UnquotedLabelMatcher' ? text(label, expr) : unquote(label, expr);
    const matcher: Matcher = { name, op: text(op, expr) as Matcher['op'], value: unquote(value, expr) };
    if (matcher.op === '=~' || matcher.op === '!~') matcher.regex = compileRegex(matcher.value, value.from);
    matchers.push(matcher);
  }
  return { names, matchers };
}

/** Whether a label value passes a matcher (regexes fully anchored, as Prometheus has them). */
export function matches(m: Matcher, value: string): boolean {
  switch (m.op) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
      return m.regex?.test(value) ?? false;
    case '!~':
      return !(m.regex?.test(value) ?? true);
  }
}

function checkVectorSelector(node: SyntaxNode, expr: string): void {
  const { names, matchers } = selectorParts(node, expr);
  if (names.length > 1) throw new PromQLError(`metric name given twice in ${text(node, expr)}`, node.from);
  if (names.length === 1) {
    if (matchers.some((m) => m.name === '__name__')) throw new PromQLError('metric name given twice (as a name and as __name__)', node.from);
    return;
  }
  if (matchers.every((m) => matches(m, ''))) {
    throw new PromQLError(`selector ${text(node, expr)} needs a metric name or at least one matcher that does not match the empty string`, node.from);
  }
  const narrowing = matchers.filter((m) => !matchesAnything(m));
  if (narrowing.length === 0) {
    throw new PromQLError(`selector ${text(node, expr)} has no metric name and its matchers let every series through; add a metric name or an equality matcher such as service="checkout"`, node.from);
  }
}
