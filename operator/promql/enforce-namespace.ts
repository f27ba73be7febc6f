// Tenant isolation for custom alert rules: every series selector in a MonitoredService's PromQL
// gets a `namespace="<ns>"` matcher, so a rule written in namespace A can never read series of B.
//
// We rewrite the source text by node positions from the real PromQL grammar (the parser of
// Prometheus's own UI) instead of pretty-printing a tree: the user's formatting, comments,
// offsets, @ modifiers and string contents stay exactly as written.
//
// Isolation does not depend on detecting existing namespace matchers: unless an exact
// `namespace="<ns>"` is already there, one is always added, and matchers are ANDed, so any other
// namespace matcher can only narrow the result. Conflicting ones are rejected anyway because a
// rule that can never match is a mistake the author should hear about.
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';

export const NAMESPACE_LABEL = 'namespace';

interface Insertion {
  at: number;
  text: string;
}

export function enforceNamespace(expr: string, namespace: string): string {
  const tree = parser.parse(expr);
  let syntaxError: number | undefined;
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError) syntaxError ??= ref.from;
    },
  });
  if (syntaxError !== undefined) {
    throw new Error(`invalid PromQL expression: syntax error at position ${syntaxError}`);
  }

  const insertions: Insertion[] = [];
  tree.iterate({
    enter: (ref) => {
      if (ref.name !== 'VectorSelector') return undefined;
      const insertion = namespaceInsertion(ref.node, expr, namespace);
      if (insertion) insertions.push(insertion);
      return false; // a vector selector holds no nested selectors
    },
  });

  // Splice from the end so earlier positions stay valid.
  let out = expr;
  for (const { at, text } of insertions.sort((a, b) => b.at - a.at)) {
    out = out.slice(0, at) + text + out.slice(at);
  }
  return out;
}

/** Where and what to insert into one vector selector, or nothing when it already has namespace="<ns>". */
function namespaceInsertion(selector: SyntaxNode, expr: string, namespace: string): Insertion | undefined {
  const matcher = `${NAMESPACE_LABEL}=${JSON.stringify(namespace)}`;
  const matchers = selector.getChild('LabelMatchers');
  if (!matchers) {
    // Bare metric name: `up` -> `up{namespace="ns"}`.
    const name = selector.getChild('Identifier') ?? selector.firstChild;
    if (!name) throw new Error(`invalid PromQL expression: empty selector at position ${selector.from}`);
    return { at: name.to, text: `{${matcher}}` };
  }

  let alreadyScoped = false;
  const children: SyntaxNode[] = [];
  for (let child = matchers.firstChild; child; child = child.nextSibling) {
    // Comments are children too; only matchers (and a quoted metric name, `{"foo"}`) count.
    if (child.name === 'QuotedLabelName') children.push(child);
    if (child.name !== 'UnquotedLabelMatcher' && child.name !== 'QuotedLabelMatcher') continue;
    children.push(child);
    const label = matcherLabelName(child, expr);
    if (label !== NAMESPACE_LABEL) continue;
    const op = child.getChild('MatchOp');
    const value = child.getChild('StringLiteral', 'MatchOp');
    const opText = op ? expr.slice(op.from, op.to) : '';
    const valueText = value ? expr.slice(value.from, value.to) : '';
    if (opText === '=' && stringLiteralEquals(valueText, namespace)) {
      alreadyScoped = true;
    } else {
      throw new Error(
        `selector ${expr.slice(selector.from, selector.to)} has the matcher ${expr.slice(child.from, child.to)}: ` +
          `rules of a MonitoredService can only read series of its own namespace; use ${matcher} or leave the namespace matcher out`,
      );
    }
  }
  if (alreadyScoped) return undefined;

  const last = children[children.length - 1];
  // `{}` -> `{namespace="ns"}`; otherwise right after the last matcher, which keeps a trailing
  // comma or a comment before `}` valid: `{a="b", # c` -> `{a="b", namespace="ns", # c`.
  return last ? { at: last.to, text: `, ${matcher}` } : { at: matchers.from + 1, text: matcher };
}

/** The label name a matcher tests; quoted names (`{"namespace"="x"}`) are decoded. */
function matcherLabelName(matcher: SyntaxNode, expr: string): string | undefined {
  const unquoted = matcher.getChild('LabelName');
  if (unquoted) return expr.slice(unquoted.from, unquoted.to);
  const quoted = matcher.getChild('QuotedLabelName');
  if (!quoted) return undefined;
  return decodeStringLiteral(expr.slice(quoted.from, quoted.to));
}

function stringLiteralEquals(literal: string, value: string): boolean {
  return decodeStringLiteral(literal) === value;
}

/**
 * Decodes a PromQL string literal ("..", '..' or `..`). Only the escapes that can matter for a
 * label name or a Kubernetes namespace are decoded; anything else yields undefined, which callers
 * treat as "not equal" (the safe side: a namespace matcher is then added or the rule rejected).
 */
export function decodeStringLiteral(literal: string): string | undefined {
  if (literal.length < 2) return undefined;
  const quote = literal[0];
  if (literal[literal.length - 1] !== quote) return undefined;
  const body = literal.slice(1, -1);
  if (quote === '`') return body;
  if (quote !== '"' && quote !== "'") return undefined;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = body[++i];
    if (next === '\\' || next === '"' || next === "'") out += next;
    else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(body.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(body.slice(i + 1, i + 5))) {
      out += String.fromCharCode(parseInt(body.slice(i + 1, i + 5), 16));
      i += 4;
    } else return undefined;
  }
  return out;
}
