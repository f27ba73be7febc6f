// Prints one object of the helm-mode synthesis (values are tokens, see ../context.ts) as the block
// YAML of a Helm template: maps and lists in block style at every depth, whole values from
// values.yaml as `{{ EXPR }}` (scalars) or `{{- toYaml EXPR | nindent N }}` (maps, lists), each
// optional list item or field behind its own `{{- if }}`/`{{- with }}` line. Key order is the order
// the constructs wrote them in (cdk8s synthesized with CDK8S_DISABLE_SORT, see ../synth.ts).
import { stringify } from 'yaml';
import { TOKEN_PATTERN, type TokenDef, type ValueShape } from '../context.js';

type Tokens = ReadonlyMap<string, TokenDef>;
const WHOLE_TOKEN = new RegExp(`^${TOKEN_PATTERN.source}$`);

const pad = (n: number) => ' '.repeat(n);
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const keyText = (k: string) => (/^[A-Za-z0-9_./-]+$/.test(k) ? k : JSON.stringify(k));

/** `{{ EXPR }}` printing a scalar of the given shape as valid YAML (strings quoted). */
export function scalarAction(expr: string, shape: ValueShape): string {
  if (shape === 'string') return `{{ ${expr} | quote }}`;
  if (shape === 'null') return `{{ toJson ${expr} }}`;
  return `{{ ${expr} }}`;
}

export class TemplateEmitter {
  constructor(private readonly tokens: Tokens) {}

  private def(id: string): TokenDef {
    const d = this.tokens.get(id);
    if (!d) throw new Error(`unknown Helm token ${id}`);
    return d;
  }

  private wholeToken(v: unknown): TokenDef | undefined {
    return typeof v === 'string' && WHOLE_TOKEN.test(v) ? this.def(v) : undefined;
  }

  /** Replaces tokens embedded in a longer string by `{{ EXPR }}` (raw: its template text). */
  private embed(text: string): string {
    return text.replace(new RegExp(TOKEN_PATTERN.source, 'g'), (id) => {
      const d = this.def(id);
      if (d.kind === 'expr') return `{{ ${d.expr} }}`;
      if (d.kind === 'raw') return d.template;
      throw new Error(`a ${d.kind} Helm token cannot stand inside a string`);
    });
  }

  /** YAML text of a scalar (or `key: scalar`) at column `indent`; strings holding tokens are double-quoted. */
  private scalar(key: string | null, v: unknown, indent: number): string[] {
    const hasToken = typeof v === 'string' && new RegExp(TOKEN_PATTERN.source).test(v) && !v.includes('\n');
    const text = hasToken ? `${key === null ? '- ' : `${keyText(key)}: `}${JSON.stringify(v)}` : stringify(key === null ? [v] : { [key]: v }, { lineWidth: 0, minContentWidth: 0 }).replace(/\n$/, '');
    return text.split('\n').map((l) => pad(indent) + this.embed(l));
  }

  /** Inline text of a scalar alternative of `choose`. */
  private inline(v: unknown): string {
    const d = this.wholeToken(v);
    if (d?.kind === 'expr') return scalarAction(d.expr, d.shape);
    if (d?.kind === 'raw') return d.template;
    return this.embed(JSON.stringify(v));
  }

  /** The lines of a map or list value whose entries start at column `indent`. */
  private block(v: unknown, indent: number): string[] {
    if (Array.isArray(v)) return this.sequence(v, indent);
    if (isMap(v)) return this.mapping(v, indent);
    throw new Error(`expected a map or list, got ${JSON.stringify(v)}`);
  }

  mapping(obj: Record<string, unknown>, indent: number): string[] {
    const p = pad(indent);
    const out: string[] = [];
    for (const [k, v] of Object.entries(obj)) {
      const keyDef = WHOLE_TOKEN.test(k) ? this.def(k) : undefined;
      if (keyDef) {
        if (keyDef.kind === 'guard') out.push(`${p}{{- if ${keyDef.cond} }}`, ...this.block(keyDef.value, indent), `${p}{{- end }}`);
        else if (keyDef.kind === 'with') {
          const body = keyDef.shape === 'block' ? [`${p}${keyText(keyDef.key)}:`, `${p}  {{- toYaml . | nindent ${indent + 2} }}`] : [`${p}${keyText(keyDef.key)}: ${scalarAction('.', keyDef.shape)}`];
          out.push(`${p}{{- with ${keyDef.expr} }}`, ...body, `${p}{{- end }}`);
        } else if (keyDef.kind === 'splice') out.push(`${p}{{- with ${keyDef.expr} }}`, `${p}{{- toYaml . | nindent ${indent} }}`, `${p}{{- end }}`);
        else if (keyDef.kind === 'block') out.push(...keyDef.lines(indent));
        else throw new Error(`a ${keyDef.kind} Helm token cannot be a map key`);
        continue;
      }
      out.push(...this.entry(k, v, indent));
    }
    return out;
  }

  private entry(k: string, v: unknown, indent: number): string[] {
    const p = pad(indent);
    const key = keyText(k);
    const d = this.wholeToken(v);
    if (d) {
      switch (d.kind) {
        case 'expr':
          return d.shape === 'block' ? [`${p}${key}:`, `${p}  {{- toYaml ${d.expr} | nindent ${indent + 2} }}`] : [`${p}${key}: ${scalarAction(d.expr, d.shape)}`];
        case 'raw':
          return [`${p}${key}: ${d.template}`];
        case 'block':
          return [`${p}${key}:`, ...d.lines(indent + 2)];
        case 'choice':
          if (typeof d.whenTrue !== 'object' && typeof d.whenFalse !== 'object') return [`${p}${key}: {{ if ${d.cond} }}${this.inline(d.whenTrue)}{{ else }}${this.inline(d.whenFalse)}{{ end }}`];
          return [`${p}${key}:`, `${p}{{- if ${d.cond} }}`, ...this.block(d.whenTrue, indent + 2), `${p}{{- else }}`, ...this.block(d.whenFalse, indent + 2), `${p}{{- end }}`];
        case 'document':
          return [`${p}${key}: |`, ...this.block(d.value, indent + 2)];
        default:
          throw new Error(`a ${d.kind} Helm token cannot be a value`);
      }
    }
    if (Array.isArray(v)) return v.length === 0 ? [`${p}${key}: []`] : [`${p}${key}:`, ...this.sequence(v, indent + 2)];
    if (isMap(v)) return Object.keys(v).length === 0 ? [`${p}${key}: {}`] : [`${p}${key}:`, ...this.mapping(v, indent + 2)];
    return this.scalar(k, v, indent);
  }

  sequence(items: readonly unknown[], indent: number): string[] {
    const p = pad(indent);
    const out: string[] = [];
    for (const item of items) {
      const d = this.wholeToken(item);
      if (d?.kind === 'guard') out.push(`${p}{{- if ${d.cond} }}`, ...this.sequence(d.value as unknown[], indent), `${p}{{- end }}`);
      else if (d?.kind === 'splice') out.push(`${p}{{- with ${d.expr} }}`, `${p}{{- toYaml . | nindent ${indent} }}`, `${p}{{- end }}`);
      else if (d?.kind === 'choice' && (typeof d.whenTrue === 'object' || typeof d.whenFalse === 'object'))
        out.push(`${p}{{- if ${d.cond} }}`, ...this.sequence([d.whenTrue], indent), `${p}{{- else }}`, ...this.sequence([d.whenFalse], indent), `${p}{{- end }}`);
      else if (d?.kind === 'block') out.push(...d.lines(indent));
      else if (d) out.push(`${p}- ${this.inline(item)}`);
      else if (isMap(item) && Object.keys(item).length > 0) {
        const lines = this.mapping(item, indent + 2);
        const first = lines[0] as string;
        if (first.startsWith(`${p}  `) && !first.trimStart().startsWith('{{')) out.push(`${p}- ${first.slice(indent + 2)}`, ...lines.slice(1));
        else out.push(`${p}-`, ...lines);
      } else if (Array.isArray(item) && item.length > 0) out.push(`${p}-`, ...this.sequence(item, indent + 2));
      else out.push(...this.scalar(null, item, indent));
    }
    return out;
  }
}
