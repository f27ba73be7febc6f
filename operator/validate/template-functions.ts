// The template functions of the pinned Prometheus, in one place: the syntax check (template.ts)
// takes the names from here, the dry-run (template-run.ts) the signatures and the failure modes.
// Source: Prometheus template/template.go (NewTemplateExpander's text FuncMap, which is what alert
// annotations and labels are expanded with; `tmpl` exists only in the HTML console expander) and
// prometheus/common helpers/templates (ConvertToFloat, HumanizeDuration, HumanizeTimestamp).
// When the pinned Prometheus changes (hack/versions.env), update this table and the agreement test
// (template-run.int.test.ts) proves it against that Prometheus' own expansion.
import { isDuration } from './duration.js';

/**
 * Go parameter types the dry-run distinguishes: `string` (a Go string: a float or a missing label
 * is an error), `any` (interface{}: anything, a missing value becomes nil), `float` (interface{}
 * then common_templates.ConvertToFloat: float64, ints, numeric strings; anything else is an error),
 * `sample` / `queryResult` (what `query` returns; nothing else converts).
 */
export type ParamType = 'string' | 'any' | 'float' | 'sample' | 'queryResult';
/** What a function returns, as far as the dry-run needs to know. */
export type ResultType = 'string' | 'float' | 'bool' | 'time' | 'html' | 'sample' | 'queryResult' | 'args';

export interface TemplateFunction {
  params: ParamType[];
  /** The last parameter repeats (Go `...`). */
  variadic?: boolean;
  result: ResultType;
  /**
   * A failure that depends on known argument values (given as JS values: strings and numbers);
   * returns the error text, or undefined. Unknown values (label values) never fail here.
   */
  failsWith?: (args: unknown[]) => string | undefined;
}

const GO_FLOAT = /^[+-]?(\d[\d_]*\.?[\d_]*([eE][+-]?\d+)?|\.\d[\d_]*([eE][+-]?\d+)?|inf(inity)?|nan|0[xX][\da-fA-F_.]+([pP][+-]?\d+)?)$/i;

/** strconv.ParseFloat's verdict on a known string (shape of the Go error text). */
function parseFloatProblem(value: unknown): string | undefined {
  if (typeof value === 'string' && !GO_FLOAT.test(value)) return `strconv.ParseFloat: parsing ${JSON.stringify(value)}: invalid syntax`;
  return undefined;
}

function regexpProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string') return undefined;
  // RE2 has no lookaround or backreferences; JS accepts both, so check them first.
  if (/\(\?[=!<]|\\[1-9]/.test(pattern)) return `error parsing regexp: invalid or unsupported Perl syntax in ${JSON.stringify(pattern)}`;
  try {
    new RegExp(pattern, 'u');
    return undefined;
  } catch (err) {
    return `error parsing regexp: ${(err as Error).message}`;
  }
}

const floatFn = (extra?: (v: number) => string | undefined): TemplateFunction => ({
  params: ['float'],
  result: 'string',
  failsWith: ([v]) => parseFloatProblem(v) ?? (typeof v === 'number' && extra ? extra(v) : undefined),
});

/** Prometheus' text-mode template functions, by name (Go's builtins are in template-run.ts). */
export const PROMETHEUS_TEMPLATE_FUNCTIONS: Readonly<Record<string, TemplateFunction>> = {
  query: { params: ['string'], result: 'queryResult' },
  first: { params: ['queryResult'], result: 'sample' },
  label: { params: ['string', 'sample'], result: 'string' },
  value: { params: ['sample'], result: 'float' },
  strvalue: { params: ['sample'], result: 'string' },
  args: { params: ['any'], variadic: true, result: 'args' },
  reReplaceAll: { params: ['string', 'string', 'string'], result: 'string', failsWith: ([p]) => regexpProblem(p) },
  safeHtml: { params: ['string'], result: 'html' },
  match: { params: ['string', 'string'], result: 'bool', failsWith: ([p]) => regexpProblem(p) },
  title: { params: ['string'], result: 'string' },
  toUpper: { params: ['string'], result: 'string' },
  toLower: { params: ['string'], result: 'string' },
  graphLink: { params: ['string'], result: 'string' },
  tableLink: { params: ['string'], result: 'string' },
  sortByLabel: { params: ['string', 'queryResult'], result: 'queryResult' },
  stripPort: { params: ['string'], result: 'string' },
  stripDomain: { params: ['string'], result: 'string' },
  humanize: floatFn(),
  humanize1024: floatFn(),
  humanizeDuration: floatFn(),
  humanizePercentage: floatFn(),
  humanizeTimestamp: floatFn(),
  toTime: {
    params: ['float'],
    result: 'time',
    failsWith: ([v]) => parseFloatProblem(v) ?? (typeof v === 'number' && !Number.isFinite(v) ? 'value is NaN or Inf' : undefined),
  },
  // Prometheus 3.x additions: toDuration (float seconds -> a Go duration, printed like 1m30s),
  // now (the evaluation time in float seconds), urlQueryEscape (net/url.QueryEscape).
  toDuration: floatFn(),
  now: { params: [], result: 'float' },
  urlQueryEscape: { params: ['string'], result: 'string' },
  pathPrefix: { params: [], result: 'string' },
  externalURL: { params: [], result: 'string' },
  parseDuration: {
    params: ['string'],
    result: 'float',
    // Prometheus 3 parses with model.ParseDurationAllowNegative: "-5m" is fine.
    failsWith: ([d]) => {
      if (typeof d !== 'string') return undefined;
      const unsigned = d.replace(/^-/, '');
      return !isDuration(unsigned) ? `not a valid duration string: ${JSON.stringify(d)}` : undefined;
    },
  },
};

/** Go text/template's predefined functions (text/template/funcs.go). */
export const GO_TEMPLATE_BUILTINS = ['and', 'call', 'html', 'index', 'slice', 'js', 'len', 'not', 'or', 'print', 'printf', 'println', 'urlquery', 'eq', 'ge', 'gt', 'le', 'lt', 'ne'] as const;

/** Every function name an alert template may call. */
export const TEMPLATE_FUNCTION_NAMES: ReadonlySet<string> = new Set([...GO_TEMPLATE_BUILTINS, ...Object.keys(PROMETHEUS_TEMPLATE_FUNCTIONS)]);

/**
 * Function names of Alertmanager's templates (the email templates), Alertmanager 0.35.0
 * template/template.go DefaultFuncs, plus Go's builtins. Names only: Vigil's own email template is
 * checked by amtool; this is for anything that validates user-supplied email text.
 */
export const ALERTMANAGER_TEMPLATE_FUNCTION_NAMES: ReadonlySet<string> = new Set([
  ...GO_TEMPLATE_BUILTINS,
  'toUpper',
  'toLower',
  'title',
  'trimSpace',
  'join',
  'match',
  'safeHtml',
  'safeUrl',
  'urlUnescape',
  'reReplaceAll',
  'stringSlice',
  'routeLabels',
  'date',
  'tz',
  'now',
  'since',
  'humanizeDuration',
  'toDate',
  'mustToDate',
  'addDuration',
  'toJson',
  'base64encode',
  'base64decode',
  'list',
  'append',
  'dict',
]);

/** The variables Prometheus declares before an alert template (rules/alerting.go: the `defs` prefix). */
export const PROMETHEUS_TEMPLATE_PREFIX = '{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}';
