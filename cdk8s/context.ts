// One description, two outputs. The constructs are written once against a RenderContext:
// - mode 'concrete': every value is the real one (cdk8s/dist/<profile>/*.yaml, the drift reference);
// - mode 'helm': values are opaque tokens (plain alphanumeric strings that survive cdk8s and YAML
//   serialization untouched) which chart/templatize.ts replaces by Helm expressions.
// A token standing for a whole YAML value becomes `{{ toJson EXPR }}` (JSON is valid YAML flow
// syntax at any indentation, so no nindent bookkeeping); a token inside a longer string becomes
// `{{ EXPR }}`. Conditional parts are `choose` (if/else of two JSON alternatives) and, for whole
// objects, `when` (the object's template file is wrapped in `{{- if }}`).
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
import type { VigilValues } from './values.js';

export type RenderMode = 'concrete' | 'helm';

/** A boolean known in TypeScript (concrete) and as a Helm condition (helm mode). */
export interface Flag {
  readonly expr: string;
  readonly value: boolean;
}

export type TokenDef =
  /** A Go template expression producing a value. */
  | { kind: 'expr'; expr: string }
  /** Template text that prints a JSON value by itself (if/else, range, include ...). */
  | { kind: 'raw'; template: string };

/** Annotation carrying the Helm condition of a whole object; removed by the chart generator. */
export const CONDITION_ANNOTATION = 'vigil.dev/helm-condition';

const TOKEN_PREFIX = 'VIGILHELMTOKEN';
export const TOKEN_PATTERN = /VIGILHELMTOKEN[0-9]+X/g;

export class RenderContext {
  readonly tokens = new Map<string, TokenDef>();
  private readonly conditions: string[] = [];

  constructor(
    readonly mode: RenderMode,
    readonly values: VigilValues,
    /** Namespace in concrete mode; `.Release.Namespace` in helm mode. */
    private readonly concreteNamespace: string,
  ) {}

  get isHelm(): boolean {
    return this.mode === 'helm';
  }

  get namespace(): string {
    return this.expr('.Release.Namespace', this.concreteNamespace);
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

  /** A boolean of values.yaml as a Flag for choose/when. */
  flag(path: string): Flag {
    return { expr: `.Values.${path}`, value: Boolean(getPath(this.values, path)) };
  }

  /** Any Go template expression with its concrete counterpart (computed in TypeScript). */
  expr<T>(goExpr: string, concrete: T): T {
    if (!this.isHelm) return concrete;
    return this.token({ kind: 'expr', expr: goExpr }) as T;
  }

  /** Template text printing a JSON value (may use named templates from _helpers.tpl). */
  raw<T>(template: string, concrete: T): T {
    if (!this.isHelm) return concrete;
    return this.token({ kind: 'raw', template }) as T;
  }

  /** whenTrue or whenFalse, decided by the values; both alternatives may contain tokens. */
  choose<T>(flag: Flag, whenTrue: T, whenFalse: T): T {
    if (!this.isHelm) return flag.value ? whenTrue : whenFalse;
    const json = (v: unknown) => JSON.stringify(v ?? null);
    return this.raw<T>(`{{ if ${flag.expr} }}${json(whenTrue)}{{ else }}${json(whenFalse)}{{ end }}`, whenTrue);
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

  /** The Helm condition objects created right now get (undefined: unconditional). */
  currentCondition(): string | undefined {
    if (this.conditions.length === 0) return undefined;
    return this.conditions.length === 1 ? this.conditions[0] : `and ${this.conditions.map((c) => `(${c})`).join(' ')}`;
  }
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
export function kubeObject(
  scope: Construct,
  ctx: RenderContext,
  id: string,
  apiVersion: string,
  kind: string,
  meta: ObjectMeta,
  body: Record<string, unknown>,
): ApiObject {
  return new ApiObject(scope, id, { apiVersion, kind, metadata: objectMetadata(ctx, meta), ...body });
}
