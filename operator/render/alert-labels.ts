// Labels of a custom rule's alerts that Vigil knows at render time, and their substitution into the
// rule's annotation and label templates.
//
// Why: Prometheus expands annotations (and label templates) with the labels of the *result series*
// only (rules/alerting.go: `l := smpl.Metric.Map()`); the rule's own labels, `alertname` and the
// labels Vigil adds (severity, namespace, vigil_*) are applied afterwards. So
// `{{ $labels.team }}` for a rule label `team: payments` prints an empty value in the email
// (issue #11). Vigil knows those values when it renders the rule, so it writes them in as string
// literals; a reference to a rule label whose value is itself a template cannot be substituted,
// and validation refuses it (validate/deep-checks.ts) naming the annotation and the label.
import { templateActions, type Token } from '../validate/template.js';
import { LABEL_MONITORED_SERVICE, LABEL_NAMESPACE } from './names.js';

export interface RuleLabelsInput {
  name: string;
  severity: string;
  labels?: Record<string, string> | undefined;
}

/** One reference to `name` in a template: `$labels.name`, `$.Labels.name`, `.Labels.name` (top-level dot) or `index $labels "name"`. */
export interface LabelReference {
  name: string;
  /** Span of the reference in the template text (what a substitution replaces). */
  start: number;
  end: number;
}

/** Whether a rule label value is a template (Prometheus expands rule label values too). */
export function isTemplateValue(value: string): boolean {
  return value.includes('{{');
}

/**
 * Labels every alert of this rule carries with a value known at render time:
 * alertname, severity, namespace, vigil_namespace, vigil_monitoredservice, and the rule's labels
 * whose values are plain text (not templates). Shape: label name -> value.
 */
export function knownAlertLabels(ref: { namespace: string; name: string }, rule: RuleLabelsInput): Record<string, string> {
  const known: Record<string, string> = {};
  for (const [name, value] of Object.entries(rule.labels ?? {})) if (!isTemplateValue(value)) known[name] = value;
  // Applied last by the renderer (rules.ts reservedLabels), so these win over any rule label.
  Object.assign(known, {
    alertname: rule.name,
    severity: rule.severity,
    namespace: ref.namespace,
    [LABEL_NAMESPACE]: ref.namespace,
    [LABEL_MONITORED_SERVICE]: ref.name,
  });
  return known;
}

/**
 * The references to the labels in `names` in a template that passed checkGoTemplate (returns [] for
 * any template it cannot read). `.Labels.x` counts only where dot is still the alert data
 * (outside with/range/define/block).
 */
export function labelReferences(template: string, names: Pick<ReadonlySet<string>, 'has'>): LabelReference[] {
  if (!template.includes('{{')) return [];
  let actions;
  try {
    actions = templateActions(template);
  } catch {
    return [];
  }
  const refs: LabelReference[] = [];
  const dotStack: boolean[] = []; // per open block: does it rebind dot?
  const end = (t: Token) => t.at + t.text.length;
  for (const action of actions) {
    const tokens = action.tokens;
    const keyword = tokens[0]?.kind === 'word' ? tokens[0].text : '';
    if (keyword === 'end') {
      dotStack.pop();
      continue;
    }
    const dotIsData = !dotStack.includes(true);
    if (['if', 'with', 'range', 'define', 'block'].includes(keyword)) dotStack.push(keyword !== 'if');
    tokens.forEach((token, i) => {
      const refName = directReference(token, dotIsData);
      if (refName !== undefined && names.has(refName)) refs.push({ name: refName, start: token.at, end: end(token) });
      // index $labels "name"
      const next = tokens[i + 1];
      const key = tokens[i + 2];
      if (token.kind === 'word' && token.text === 'index' && next && key?.kind === 'string' && isLabelsMap(next, dotIsData)) {
        const name = key.text.startsWith('`') ? key.text.slice(1, -1) : (JSON.parse(key.text) as string);
        const after = tokens[i + 3];
        // Only the two-argument form, as a whole command.
        if (names.has(name) && (after === undefined || after.kind === 'pipe' || after.kind === 'rparen')) refs.push({ name, start: token.at, end: end(key) });
      }
    });
  }
  return refs;
}

function directReference(token: Token, dotIsData: boolean): string | undefined {
  let m: RegExpExecArray | null;
  if (token.kind === 'variable' && (m = /^\$(?:labels|\.Labels)\.([A-Za-z0-9_]+)$/.exec(token.text))) return m[1];
  if (token.kind === 'field' && dotIsData && (m = /^\.Labels\.([A-Za-z0-9_]+)$/.exec(token.text))) return m[1];
  return undefined;
}

function isLabelsMap(token: Token, dotIsData: boolean): boolean {
  return (token.kind === 'variable' && (token.text === '$labels' || token.text === '$.Labels')) || (token.kind === 'field' && dotIsData && token.text === '.Labels');
}

/** Every label name a template refers to (labelReferences of any name), each once. */
export function referencedLabelNames(template: string): string[] {
  return [...new Set(labelReferences(template, { has: () => true }).map((r) => r.name))];
}

/** The template with every reference to a known label replaced by its value as a Go string literal. */
export function substituteKnownLabels(template: string, known: Record<string, string>): string {
  const refs = labelReferences(template, new Set(Object.keys(known)));
  let out = template;
  // Right to left, so earlier offsets stay valid.
  for (const ref of [...refs].sort((a, b) => b.start - a.start)) {
    out = out.slice(0, ref.start) + goStringLiteral(known[ref.name] as string) + out.slice(ref.end);
  }
  return out;
}

/** A Go interpreted string literal (JSON's escapes are a subset of Go's). */
function goStringLiteral(value: string): string {
  return JSON.stringify(value);
}
