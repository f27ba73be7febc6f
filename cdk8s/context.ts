// One description, two outputs. The constructs are written once against a RenderContext:
// - mode 'concrete': every value is the real one (cdk8s/dist/<profile>/*.yaml, the drift reference);
// - mode 'helm': values are opaque tokens (plain alphanumeric strings that survive cdk8s and YAML
//   serialization untouched) which chart/templatize.ts replaces by Helm expressions.
// The chart generator (chart/emit.ts) prints block YAML: a token standing for a whole scalar becomes
// `{{ EXPR }}` (strings `| quote`d), a whole map or list `{{- toYaml EXPR | nindent N }}`, a token
// inside a longer string `{{ EXPR }}`. Optional parts are one guarded line (or block) each:
// `optionalItems`/`optionalFields` (`{{- if }}`), `fieldFromValues` (`{{- with }}`),
// `itemsFromValues`/`fieldsFromValues` (values spliced in); `choose` is if/else of two values; whole
// objects use `when` (the object's template is wrapped in `{{- if }}`).
//
// cdk8s-plus-27: used where every value it handles is a plain string or fixed, so tokens pass
// through untouched: the ConfigMaps (kplus.ConfigMap with `data`, see components/common.ts
// `configMap`). Their metadata comes from `objectMetadata` below, like every raw ApiObject's, so
// they get the same namespace, labels and Helm condition. kplus adds `immutable: false` (the
// Kubernetes default) to them, nothing else. Everything else stays a raw ApiObject (kubeObject),
// because kplus would have to own values that are Helm tokens or change what is rendered:
// - Pods and pod templates (Deployments, StatefulSets, the helm-test and demo Pods): kplus builds
//   resources from Cpu/Size objects, nodeSelector and tolerations from typed calls, and here each
//   of them is one token for a whole values.yaml object; it also adds its own defaults
//   (resource limits, a `cdk8s.io/metadata.addr` label and selector, container security context
//   fields, dnsPolicy, hostNetwork ...), which would alter the Pod Security and resource settings.
// - Services: kplus ServicePort.targetPort is a number, ours are named ports ('http-web', 'smtps'...);
//   it has no publishNotReadyAddresses (the Alertmanager headless Service needs it); and the
//   exposed Services' type and port list are tokens (`ctx.choose` on the NodePort values).
// - The mail catcher's TLS Secret: kplus.Secret only writes `stringData`, ours is base64 `data`
//   that one Helm expression produces as a whole (`lookup` of the existing Secret, else
//   genSelfSignedCert): split into two tokens, cert and key would come from two different calls.
// - ServiceAccounts and RBAC: taken verbatim from operator/rbac-objects.ts (components/rbac.ts).
import { ApiObject, type ApiObjectMetadata } from 'cdk8s';
import type { Construct } from 'constructs';
import { stringify } from 'yaml';
import type { VigilValues } from './values.js';

export type RenderMode = 'concrete' | 'helm';

/** A boolean known in TypeScript (concrete) and as a Helm condition (helm mode). */
export interface Flag {
  readonly expr: string;
  readonly value: boolean;
}

/** Shape of the value a whole-value token stands for; decides how the chart prints it. */
export type ValueShape = 'string' | 'number' | 'boolean' | 'null' | 'block';

export type TokenDef =
  /** A Go template expression producing a value of the given shape (block = map or list: toYaml + nindent). */
  | { kind: 'expr'; expr: string; shape: ValueShape }
  /** Template text printing a scalar by itself (include ... | sha256sum ...). */
  | { kind: 'raw'; template: string }
  /** Template lines printing a block value; `indent` is the column of the value's entries. */
  | { kind: 'block'; lines: (indent: number) => string[] }
  /** One of two values (scalars inline, blocks as `{{- if }}`/`{{- else }}` around block YAML). */
  | { kind: 'choice'; cond: string; whenTrue: unknown; whenFalse: unknown }
  /** List items or map fields (`value`) present only when `cond` holds: `{{- if }}` around them. */
  | { kind: 'guard'; cond: string; value: unknown }
  /** A map field `key` set from values only when not empty: `{{- with }}` around it. */
  | { kind: 'with'; key: string; expr: string; shape: ValueShape }
  /** List items or map fields taken from a values list/map, spliced in: `{{- with }}`/toYaml. */
  | { kind: 'splice'; expr: string }
  /** A string that is itself a YAML document (a ConfigMap file), printed as a literal block. */
  | { kind: 'document'; value: unknown };

/** Annotation carrying the Helm condition of a whole object; removed by the chart generator. */
export const CONDITION_ANNOTATION = 'vigil.dev/helm-condition';
/** Annotation carrying the `range` clause an object is repeated in (RenderContext.repeat); removed by the chart generator. */
export const RANGE_ANNOTATION = 'vigil.dev/helm-range';

/** A count known in TypeScript (concrete) and as a Helm expression giving an int (helm mode). */
export interface Count {
  readonly expr: string;
  readonly value: number;
}

const TOKEN_PREFIX = 'VIGILHELMTOKEN';
export const TOKEN_PATTERN = /VIGILHELMTOKEN[0-9]+X/g;

export function shapeOf(v: unknown): ValueShape {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') return 'block';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'boolean';
  return 'string';
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

export class RenderContext {
  readonly tokens = new Map<string, TokenDef>();
  private readonly conditions: string[] = [];
  private range: string | undefined;

  constructor(
    readonly mode: RenderMode,
    readonly values: VigilValues,
    /** Namespace in concrete mode; the `vigil.namespace` helper in helm mode. */
    private readonly concreteNamespace: string,
  ) {}

  get isHelm(): boolean {
    return this.mode === 'helm';
  }

  get namespace(): string {
    return this.expr('include "vigil.namespace" $', this.concreteNamespace);
  }

  private token(def: TokenDef): string {
    const id = `${TOKEN_PREFIX}${this.tokens.size}X`;
    this.tokens.set(id, def);
    return id;
  }

  /** The value at a dotted path of values.yaml, e.g. `prometheus.retention`. */
  value<T>(path: string): T {
    const concrete = getPath(this.values, path) as T;
    return this.expr(`.Values.${path}`, concrete);
  }

  /** A boolean of values.yaml as a Flag for choose/when/optional. */
  flag(path: string): Flag {
    return { expr: `.Values.${path}`, value: Boolean(getPath(this.values, path)) };
  }

  /** Any Go template expression with its concrete counterpart (computed in TypeScript). */
  expr<T>(goExpr: string, concrete: T): T {
    if (!this.isHelm) return concrete;
    return this.token({ kind: 'expr', expr: goExpr, shape: shapeOf(concrete) }) as T;
  }

  /** Template text printing a scalar (may use named templates from _helpers.tpl). */
  raw<T>(template: string, concrete: T): T {
    if (!this.isHelm) return concrete;
    return this.token({ kind: 'raw', template }) as T;
  }

  /** Template lines printing a map or list value at column `indent` (see TokenDef 'block'). */
  block<T>(lines: (indent: number) => string[], concrete: T): T {
    if (!this.isHelm) return concrete;
    return this.token({ kind: 'block', lines }) as T;
  }

  /** whenTrue or whenFalse, decided by the values; both alternatives may contain tokens. */
  choose<T>(flag: Flag, whenTrue: T, whenFalse: T): T {
    if (!this.isHelm) return flag.value ? whenTrue : whenFalse;
    return this.token({ kind: 'choice', cond: flag.expr, whenTrue, whenFalse }) as T;
  }

  /** List items present only when the flag holds; spread into the list: `[a, ...ctx.optionalItems(f, [b])]`. */
  optionalItems<T>(flag: Flag, items: T[]): T[] {
    if (!this.isHelm) return flag.value ? items : [];
    return [this.token({ kind: 'guard', cond: flag.expr, value: items }) as T];
  }

  /** Map fields present only when the flag holds; spread into the map: `{ a, ...ctx.optionalFields(f, { b }) }`. */
  optionalFields<T extends object>(flag: Flag, fields: T): Partial<T> {
    if (!this.isHelm) return flag.value ? fields : {};
    return { [this.token({ kind: 'guard', cond: flag.expr, value: fields })]: true } as Partial<T>;
  }

  /** `{ key: <value at path> }` when that value is not empty, else nothing (nodeSelector, affinity ...). */
  fieldFromValues(key: string, path: string): Record<string, unknown> {
    const concrete = getPath(this.values, path);
    if (!this.isHelm) return isEmpty(concrete) ? {} : { [key]: concrete };
    return { [this.token({ kind: 'with', key, expr: `.Values.${path}`, shape: shapeOf(concrete) })]: true };
  }

  /** The items of a values list (extraArgs ...), spread into a list. */
  itemsFromValues<T>(path: string): T[] {
    const concrete = getPath(this.values, path) as T[];
    if (!this.isHelm) return concrete;
    return [this.token({ kind: 'splice', expr: `.Values.${path}` }) as T];
  }

  /** The entries of a values map (podAnnotations ...), spread into a map. */
  fieldsFromValues(path: string): Record<string, unknown> {
    const concrete = getPath(this.values, path) as Record<string, unknown>;
    if (!this.isHelm) return concrete;
    return { [this.token({ kind: 'splice', expr: `.Values.${path}` })]: true };
  }

  /** A YAML file's text (ConfigMap data): stringified here, block YAML with Helm actions in the chart. */
  yamlDocument(value: unknown): string {
    if (!this.isHelm) return stringify(value);
    return this.token({ kind: 'document', value });
  }

  /**
   * Objects created by `build` exist only when the flag holds: in concrete mode build runs or not;
   * in helm mode it always runs and every object it creates carries the condition.
   */
  when(flag: Flag, build: () => void): void {
    if (!this.isHelm) {
      if (flag.value) build();
      return;
    }
    this.conditions.push(flag.expr);
    try {
      build();
    } finally {
      this.conditions.pop();
    }
  }

  /**
   * Objects created by `build` exist once per index from `from` to count - 1 (none when the count is
   * at most `from`). In concrete mode build runs once per index; in helm mode it runs once with the
   * index as a token (`$<variable>`, a string, e.g. inside names: `vigil-prometheus-shard-{{ $shard }}`),
   * and every object it creates is repeated by a `range` around its template (templatize.ts).
   * Not nestable.
   */
  repeat(variable: string, count: Count, from: number, build: (index: string) => void): void {
    if (!this.isHelm) {
      for (let i = from; i < count.value; i++) build(String(i));
      return;
    }
    if (this.range !== undefined) throw new Error('repeat inside repeat is not supported');
    this.range = `$${variable} := untilStep ${from} (int ${count.expr}) 1`;
    try {
      build(this.expr(`$${variable}`, String(from)));
    } finally {
      this.range = undefined;
    }
  }

  /** The `range` clause objects created right now are repeated in (undefined: not repeated). */
  currentRange(): string | undefined {
    return this.range;
  }

  /** The Helm condition objects created right now get (undefined: unconditional). */
  currentCondition(): string | undefined {
    if (this.conditions.length === 0) return undefined;
    return this.conditions.length === 1 ? this.conditions[0] : `and ${this.conditions.map((c) => `(${c})`).join(' ')}`;
  }
}

/** The negation of a flag. */
export function not(flag: Flag): Flag {
  return { expr: `not (${flag.expr})`, value: !flag.value };
}

export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || !(part in cur)) throw new Error(`values have no ${path}`);
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export interface ObjectMeta {
  name: string;
  /** Omit for cluster-scoped objects. */
  namespaced?: boolean;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * Metadata of every Kubernetes object of the app, raw ApiObject or cdk8s-plus construct: sets the
 * namespace and records the Helm condition of the enclosing `when` (templatize.ts turns that
 * annotation into the `{{- if }}` around the object's template file).
 */
export function objectMetadata(ctx: RenderContext, meta: ObjectMeta): ApiObjectMetadata {
  const annotations: Record<string, string> = { ...(meta.annotations ?? {}) };
  const condition = ctx.currentCondition();
  if (condition !== undefined) annotations[CONDITION_ANNOTATION] = condition;
  const range = ctx.currentRange();
  if (range !== undefined) annotations[RANGE_ANNOTATION] = range;
  return {
    name: meta.name,
    ...(meta.namespaced === false ? {} : { namespace: ctx.namespace }),
    ...(meta.labels ? { labels: meta.labels } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}

/**
 * A raw ApiObject with `objectMetadata`. Raw (not cdk8s-plus) wherever values may be tokens:
 * cdk8s-plus converts quantities, ports and selectors itself and would not pass them through
 * (see the top of this file).
 */
export function kubeObject(scope: Construct, ctx: RenderContext, id: string, apiVersion: string, kind: string, meta: ObjectMeta, body: Record<string, unknown>): ApiObject {
  return new ApiObject(scope, id, { apiVersion, kind, metadata: objectMetadata(ctx, meta), ...body });
}
