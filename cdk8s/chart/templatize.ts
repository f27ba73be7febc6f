// Turns the helm-mode synthesis (objects holding tokens, see ../context.ts) into Helm templates:
// one file per object under templates/<component>/, block YAML printed by emit.ts, names and labels
// through the named templates of _helpers.tpl (helpers.ts).
import { CONDITION_ANNOTATION, RANGE_ANNOTATION, type TokenDef } from '../context.js';
import type { KubeObject } from '../kube.js';
import { labels, selectorLabels } from '../components/common.js';
import { TemplateEmitter } from './emit.js';
import { templateFileName } from './paths.js';

/** Labels the `vigil.labels` helper adds for Helm; the drift test strips them before comparing. */
export const HELM_ONLY_LABELS = ['helm.sh/chart', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/instance'];

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether `a` has every entry of `b`. */
const holds = (a: Record<string, string>, b: Record<string, string>) => Object.entries(b).every(([k, v]) => a[k] === v);
/** The entries of `a` that are not in `b`. */
const without = (a: Record<string, string>, b: Record<string, string>) => Object.fromEntries(Object.entries(a).filter(([k]) => !(k in b)));

/**
 * Label maps built by components/common.ts become `include` of the matching helper, in place
 * (the component name is the argument); other labels (RBAC component labels) stay literal next to it.
 */
class LabelHelpers {
  private n = 0;
  readonly defs = new Map<string, TokenDef>();

  private include(helper: string, component: string): string {
    const id = `VIGILHELMTOKEN${1_000_000 + this.n++}X`; // beyond the context's own numbers
    this.defs.set(id, { kind: 'block', lines: (i) => [`${' '.repeat(i)}{{- include "${helper}" (list $ ${JSON.stringify(component)}) | nindent ${i} }}`] });
    return id;
  }

  /** metadata.labels of the object: vigil.labels (with Helm's labels) plus whatever else it has. */
  objectLabels(l: Record<string, string> | undefined): Json | undefined {
    const component = l?.['app.kubernetes.io/name'];
    if (!l || !component) return l;
    const own = labels(component);
    if (!Object.entries(own).every(([k, v]) => l[k] === v)) return l;
    const rest = Object.fromEntries(Object.entries(l).filter(([k]) => !(k in own)));
    return { [this.include('vigil.labels', component)]: true, ...rest };
  }

  /** Pod template labels and selectors, recognised by exact equality with the common.ts maps. */
  walk(v: unknown, key = ''): unknown {
    if (Array.isArray(v)) return v.map((x) => this.walk(x));
    if (!isMap(v)) return v;
    const asStrings = v as Record<string, string>;
    const component = asStrings['app.kubernetes.io/name'];
    if (typeof component === 'string') {
      // Extra labels (a shard's index) stay literal next to the helper's.
      if ((key === 'matchLabels' || key === 'selector') && holds(asStrings, selectorLabels(component)))
        return { [this.include('vigil.selectorLabels', component)]: true, ...without(asStrings, selectorLabels(component)) };
      if (key === 'labels' && holds(asStrings, labels(component))) return { [this.include('vigil.podLabels', component)]: true, ...without(asStrings, labels(component)) };
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.walk(x, k)]));
  }
}

export interface Template {
  /** File name under templates/. */
  file: string;
  content: string;
}

/** One template per object: helpers for labels, the condition (if any) wrapped around the whole file. */
export function templatize(objects: readonly KubeObject[], tokens: ReadonlyMap<string, TokenDef>): Template[] {
  const seen = new Set<string>();
  return objects.map((original) => {
    const file = templateFileName(original);
    if (seen.has(file)) throw new Error(`two objects map to templates/${file}`);
    seen.add(file);
    const { apiVersion, kind, metadata, ...body } = structuredClone(original);
    const annotations = { ...(metadata.annotations ?? {}) };
    const condition = annotations[CONDITION_ANNOTATION];
    const range = annotations[RANGE_ANNOTATION];
    delete annotations[CONDITION_ANNOTATION];
    delete annotations[RANGE_ANNOTATION];
    const helpers = new LabelHelpers();
    const meta: Json = {
      name: metadata.name,
      ...(metadata.namespace !== undefined ? { namespace: metadata.namespace } : {}),
      ...(metadata.labels ? { labels: helpers.objectLabels(metadata.labels) } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    };
    const obj = { apiVersion, kind, metadata: meta, ...(helpers.walk(body) as Json) };
    const emitter = new TemplateEmitter(new Map([...tokens, ...helpers.defs]));
    const text = `${emitter.mapping(obj, 0).join('\n')}\n`;
    // Inside range, `.` is the index: `with $` gives the body the root context back (.Values ...).
    const body_ = range === undefined ? text : `{{- range ${range} }}\n{{- with $ }}\n---\n${text}{{- end }}\n{{- end }}\n`;
    const content = condition === undefined ? body_ : `{{- if ${condition} }}\n${body_}{{- end }}\n`;
    return { file, content };
  });
}
