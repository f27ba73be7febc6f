// Turns the helm-mode synthesis (objects holding tokens, see context.ts) into Helm templates.
import { stringify } from 'yaml';
import { CONDITION_ANNOTATION, TOKEN_PATTERN, type TokenDef } from '../context.js';
import type { KubeObject } from '../app.js';

/** Labels Helm charts conventionally carry; the drift test strips them before comparing. */
export const HELM_ONLY_LABELS = ['helm.sh/chart', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/instance'];

const HELM_LABEL_VALUES: Record<string, string> = {
  'helm.sh/chart': '{{ .Chart.Name }}-{{ .Chart.Version | replace "+" "_" }}',
  'app.kubernetes.io/managed-by': '{{ .Release.Service }}',
  'app.kubernetes.io/instance': '{{ .Release.Name }}',
};

function wholeValue(def: TokenDef): string {
  return def.kind === 'expr' ? `{{ toJson (${def.expr}) }}` : def.template;
}

function embeddedValue(def: TokenDef): string {
  return def.kind === 'expr' ? `{{ ${def.expr} }}` : def.template;
}

/**
 * Replaces every token in YAML (or JSON) text. A token that is a whole value, quoted ("T", 'T') or
 * plain after `key: ` / `- `, becomes JSON-printing template text; one inside a longer string becomes
 * `{{ EXPR }}`. Replacements may contain tokens again (choose alternatives), hence the loop.
 */
export function replaceTokens(text: string, tokens: ReadonlyMap<string, TokenDef>): string {
  const lookup = (id: string): TokenDef => {
    const def = tokens.get(id);
    if (!def) throw new Error(`unknown Helm token ${id}`);
    return def;
  };
  let out = text;
  for (let round = 0; round < 20; round++) {
    if (!new RegExp(TOKEN_PATTERN.source).test(out)) return out;
    // One regex pass per round, so text a replacement inserts is only classified in the next round.
    const t = TOKEN_PATTERN.source;
    const any = new RegExp(`"(${t})"|'(${t})'|(: |- |^)(${t})$|(${t})`, 'gm');
    out = out.replace(any, (_m, dq?: string, sq?: string, lead?: string, line?: string, bare?: string) => {
      if (dq ?? sq) return wholeValue(lookup((dq ?? sq) as string));
      if (line) return (lead ?? '') + wholeValue(lookup(line));
      return embeddedValue(lookup(bare as string));
    });
  }
  throw new Error('Helm tokens nested more than 20 levels deep');
}

export interface Template {
  /** File name under templates/. */
  file: string;
  content: string;
}

/** `<name>-<kind>.yaml`; a token in the name (e.g. the ClusterRoles' `-{{ .Release.Namespace }}`) is left out. */
export function templateFileName(obj: { kind: string; metadata: { name: string } }): string {
  const name = obj.metadata.name.replace(new RegExp(`-?${TOKEN_PATTERN.source}`, 'g'), '');
  return `${name}-${obj.kind.toLowerCase()}.yaml`;
}

/** One template per object: helm labels added, condition (if any) wrapped around the whole file. */
export function templatize(objects: readonly KubeObject[], tokens: ReadonlyMap<string, TokenDef>): Template[] {
  const seen = new Set<string>();
  return objects.map((original) => {
    const obj = structuredClone(original);
    const annotations = { ...(obj.metadata.annotations ?? {}) };
    const condition = annotations[CONDITION_ANNOTATION];
    delete annotations[CONDITION_ANNOTATION];
    if (Object.keys(annotations).length > 0) obj.metadata.annotations = annotations;
    else delete obj.metadata.annotations;
    // Placeholders survive YAML serialization as plain strings; they become template text afterwards.
    const labelPlaceholders = Object.fromEntries(HELM_ONLY_LABELS.map((l, i) => [l, `VIGILHELMLABEL${i}X`]));
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), ...labelPlaceholders };
    let body = stringify(obj, { lineWidth: 0, minContentWidth: 0 });
    HELM_ONLY_LABELS.forEach((l, i) => {
      body = body.replace(`VIGILHELMLABEL${i}X`, `${JSON.stringify('@@')}`.replace('@@', HELM_LABEL_VALUES[l] ?? ''));
    });
    body = replaceTokens(body, tokens);
    const file = templateFileName(obj);
    if (seen.has(file)) throw new Error(`two objects map to templates/${file}`);
    seen.add(file);
    const content = condition === undefined ? body : `{{- if ${condition} }}\n${body}{{- end }}\n`;
    return { file, content };
  });
}
