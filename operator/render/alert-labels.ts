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
import { checkAlertTemplate, type TemplateCheck } from '../promql/wasm.js';
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
 * The references to the labels in `names` in a template, found on the tree Prometheus's template
 * parser builds (operator/wasm); [] for a template it refuses. `.Labels.x` counts only where dot is
 * still the alert data (outside the bodies of with/range and defined templates).
 */
export function labelReferences(template: string, names: ReadonlySet<string>): LabelReference[] {
  if (!template.includes('{{') || names.size === 0) return [];
  const result = checkAlertTemplate(template, { referencedLabels: [...names], parseOnly: true });
  return result.parseError !== undefined ? [] : result.references;
}

/**
 * Prometheus's parse and expansion of a rule's template with the labels Vigil knows, and where it
 * refers to them. Validation and rendering ask the very same question, so rendering a service right
 * after validating it costs no second call (operator/promql/wasm.ts remembers answers).
 */
export function knownLabelTemplateCheck(template: string, known: Record<string, string>): TemplateCheck {
  return checkAlertTemplate(template, { alertName: known.alertname ?? '', labels: known, referencedLabels: Object.keys(known).sort() });
}

/** Every label name a template refers to (labelReferences of any name), each once. */
export function referencedLabelNames(template: string): string[] {
  if (!template.includes('{{')) return [];
  const result = checkAlertTemplate(template, { parseOnly: true });
  return result.parseError !== undefined ? [] : result.labels;
}

/** The template with every reference to a known label replaced by its value as a Go string literal. */
export function substituteKnownLabels(template: string, known: Record<string, string>): string {
  if (!template.includes('{{')) return template;
  const check = knownLabelTemplateCheck(template, known);
  const refs = check.parseError !== undefined ? [] : check.references;
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
