// The pinned Prometheus's own PromQL parser and alert template package, compiled to WebAssembly
// from operator/wasm (hack/install-wasm.sh, run by `make deps`). Loaded once, synchronously, at the
// first call, so validation and rendering stay plain synchronous functions; every call after that is
// a synchronous call into Go with JSON in and out.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the built module lives: operator/wasm/dist in a checkout, dist/operator/wasm/dist in the image. */
export const WASM_DIR = process.env.VIGIL_WASM_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'wasm', 'dist');
const WASM_FILE = 'vigil-prometheus.wasm';

export interface Matcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface Selector {
  /** As written, with the offset/@ modifiers Prometheus folds into the selector. */
  text: string;
  /** The metric name (`up`, `{"up"}` or `{__name__="up"}`); absent when none is given. */
  metric?: string;
  /** Every matcher but the metric name. */
  matchers: Matcher[];
  /** False when there is no metric name and every matcher lets (nearly) every non-empty value through. */
  narrowing: boolean;
}

export type RangeSource =
  /** Samples of the selected series: as many as scrapes fall in the range. */
  | { kind: 'selector'; metric?: string; matchers: Matcher[] }
  /** Points of a subquery: one per step in the range; no step means the global evaluation interval. */
  | { kind: 'subquery'; stepMs?: number };

export interface RangeUse {
  /** The function that reads the range, e.g. rate. */
  fn: string;
  /** The range argument as written, e.g. x[1m] or rate(x[1m])[5m:1m]. */
  text: string;
  /** Undefined when the range is a duration expression, known only at evaluation. */
  rangeMs: number | undefined;
  source: RangeSource;
}

export interface Subquery {
  text: string;
  rangeMs: number | undefined;
  /** Undefined: no step (the global evaluation interval) or an expression. */
  stepMs: number | undefined;
}

export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

/** What Prometheus's parser says about an expression, and what Vigil's checks read from its tree. */
export type ExprAnalysis =
  | { ok: false /** Prometheus's own error, e.g. `1:1: parse error: no grouping allowed for "and" operation`. */; error: string }
  | {
      ok: true;
      type: ValueType;
      selectors: Selector[];
      ranges: RangeUse[];
      subqueries: Subquery[];
      /** An upper bound of the result series' label names (without __name__); undefined when the expression does not bound them (a plain selector). */
      resultLabels: string[] | undefined;
      /** The error every rule evaluation fails with before reading data (duration expressions evaluated with step() and range() 0s), e.g. `5:12: duration must be greater than 0`. */
      evalError?: string;
    };

/** An alert annotation or label template as Prometheus parses and expands it. */
export interface TemplateCheck {
  /** Prometheus's error when it loads the rule (promtool check rules reports the same). */
  parseError?: string;
  /** The first error of an expansion with representative data (labels given or "x", several values). */
  expandError?: string;
  /** Why the template is refused as too costly to expand (a range over a number, a printf width above 100, output above 64 KiB); set instead of expandError. */
  costError?: string;
  /** Whether the expanded text differs between alert values. */
  dependsOnValue: boolean;
  /** Every function name the template calls (Go builtins and Prometheus's). */
  functions: string[];
  /** References to the requested labels ($labels.x, $.Labels.x, .Labels.x, index $labels "x"); UTF-16 offsets. */
  references: { name: string; start: number; end: number }[];
  /** Every label name the template reads, whether requested or not; sorted. */
  labels: string[];
}

interface Api {
  grammar(req: string): string;
  analyzeExpr(req: string): string;
  enforceNamespace(req: string): string;
  matchLabel(req: string): string;
  checkTemplate(req: string): string;
  parseAddress(req: string): string;
}

// Node's WebAssembly global, typed as far as this file uses it (the project's TypeScript libs do not declare it).
type WasmInstance = object;
interface WasmGlobal {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => WasmInstance;
}
const { WebAssembly: wasm } = globalThis as unknown as { WebAssembly: WasmGlobal };

interface GoRuntime {
  importObject: object;
  run(instance: WasmInstance): Promise<void>;
}

let api: Api | undefined;

/** Loads the module (about half a second, once per process); throws when it was not built. */
function load(): Api {
  if (api) return api;
  const file = join(WASM_DIR, WASM_FILE);
  if (!existsSync(file)) throw new Error(`${file} is missing: build it with \`make deps\` (or \`make wasm\`; needs Go)`);
  const scope = globalThis as unknown as { Go?: new () => GoRuntime; __vigilPrometheus?: Api };
  // Go's wasm_exec.js (copied from the toolchain that built the module) defines globalThis.Go.
  if (!scope.Go) new Function(readFileSync(join(WASM_DIR, 'wasm_exec.js'), 'utf8'))();
  const Go = scope.Go;
  if (!Go) throw new Error(`${join(WASM_DIR, 'wasm_exec.js')} did not define Go`);
  const go = new Go();
  const instance = new wasm.Instance(new wasm.Module(readFileSync(file)), go.importObject);
  // run() executes Go's main synchronously up to its final select{}, which registers the functions;
  // the promise it returns settles only if Go exits, which it never does.
  void go.run(instance);
  if (!scope.__vigilPrometheus) throw new Error(`${file} did not register its functions`);
  api = scope.__vigilPrometheus;
  return api;
}

/** Loads the module now (the first call otherwise pays for it); returns the milliseconds it took. */
export function initPrometheusWasm(): number {
  const started = performance.now();
  load();
  return performance.now() - started;
}

// Rules repeat across reconciles: remember recent answers (pure functions of their input).
const MEMO_LIMIT = 20000;
const memo = new Map<string, unknown>();

function call<T>(fn: keyof Api, req: object): T {
  const key = `${fn}\0${JSON.stringify(req)}`;
  const cached = memo.get(key);
  if (cached !== undefined) return cached as T;
  const out = JSON.parse(load()[fn](JSON.stringify(req))) as T & { error?: string };
  if (typeof out.error === 'string' && out.error.startsWith('internal error:')) throw new Error(`operator/wasm ${fn}: ${out.error}`);
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, out);
  return out;
}

interface RawAnalysis {
  error?: string;
  type?: ValueType;
  selectors?: Selector[];
  ranges?: (Omit<RangeUse, 'rangeMs'> & { rangeMs: number | null })[];
  subqueries?: { text: string; rangeMs: number | null; stepMs: number | null }[];
  resultLabels?: string[];
  evalError?: string;
}

const orUndefined = (n: number | null | undefined) => (n === null ? undefined : n);

/** Parses `expr` with Prometheus's parser (the server's default options) and lists its selectors and ranges. */
export function analyzeExpr(expr: string): ExprAnalysis {
  const raw = call<RawAnalysis>('analyzeExpr', { expr });
  if (raw.error !== undefined) return { ok: false, error: raw.error };
  return {
    ok: true,
    type: raw.type as ValueType,
    selectors: raw.selectors ?? [],
    ranges: (raw.ranges ?? []).map((r) => ({
      ...r,
      rangeMs: orUndefined(r.rangeMs),
      source: r.source.kind === 'selector' ? { ...r.source, matchers: r.source.matchers ?? [] } : r.source,
    })),
    subqueries: (raw.subqueries ?? []).map((s) => ({ text: s.text, rangeMs: orUndefined(s.rangeMs), stepMs: orUndefined(s.stepMs) })),
    resultLabels: raw.resultLabels,
    ...(raw.evalError !== undefined && { evalError: raw.evalError }),
  };
}

/**
 * `expr` with `label="value"` on every vector selector (kept where written exactly so), formatted as
 * written; or the error: a parse error, or a selector with another matcher on `label`.
 */
export function enforceLabel(expr: string, label: string, value: string): { ok: true; expr: string } | { ok: false; error: string } {
  const out = call<{ expr?: string; error?: string }>('enforceNamespace', { expr, label, value });
  return out.error !== undefined ? { ok: false, error: out.error } : { ok: true, expr: out.expr ?? '' };
}

/** Whether each value passes the matcher, with Prometheus's matching (RE2, anchored). Throws on an invalid regex. */
export function matchLabel(matcher: Matcher, values: readonly string[]): boolean[] {
  const out = call<{ matches?: boolean[]; error?: string }>('matchLabel', { matcher, values });
  if (out.error !== undefined) throw new Error(out.error);
  return out.matches ?? [];
}

/**
 * `address` as Go's net/mail.ParseAddress reads it, the parser Alertmanager runs on its `to` and
 * `from` lists: the bare address and display name, or net/mail's error.
 */
export function parseMailAddress(address: string): { ok: true; name: string; address: string } | { ok: false; error: string } {
  const out = call<{ parseError?: string; name?: string; address?: string }>('parseAddress', { address });
  return out.parseError !== undefined ? { ok: false, error: out.parseError } : { ok: true, name: out.name ?? '', address: out.address ?? '' };
}

/**
 * An alert template (annotation or label value) as Prometheus parses it when loading rule `alertName`
 * and expands it when the alert fires (not with `parseOnly`, nor when it calls query). `labels`: values
 * known at render time; `referencedLabels`: labels whose references are listed.
 */
export function checkAlertTemplate(text: string, options: { alertName?: string; labels?: Record<string, string>; referencedLabels?: readonly string[]; parseOnly?: boolean } = {}): TemplateCheck {
  return call<TemplateCheck>('checkTemplate', {
    text,
    name: options.alertName ?? '',
    labels: options.labels ?? {},
    referencedLabels: options.referencedLabels ?? [],
    parseOnly: options.parseOnly ?? false,
  });
}

/** The functions, aggregations and binary operators of the pinned parser (parser.Functions and its keywords). */
export interface PromQLGrammar {
  functions: { name: string; argTypes: ValueType[]; variadic: number; returnType: ValueType; experimental: boolean }[];
  aggregations: { name: string; hasParam: boolean; experimental: boolean }[];
  operators: { op: string; comparison: boolean; set: boolean }[];
}

export function promqlGrammar(): PromQLGrammar {
  return call<PromQLGrammar>('grammar', {});
}
