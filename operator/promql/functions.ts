// The PromQL functions of the Prometheus Vigil deploys (PROMETHEUS_VERSION in hack/versions.env,
// 3.15.1): name -> argument types, variadic count, result type, and whether it is experimental.
// Transcribed from promql/parser/functions.go of github.com/prometheus/prometheus v0.315.1, with
// the same meaning of `variadic` as there: 0 = exactly args.length arguments; n > 0 = the last
// argument type is optional and up to n arguments of it may follow the others (so from
// args.length - 1 to args.length - 1 + n arguments); -1 = at least args.length - 1 arguments, any
// more of the last type. Experimental functions parse only with --enable-feature=
// promql-experimental-functions, which Vigil's Prometheus does not enable.
// When PROMETHEUS_VERSION changes, compare this table with the new functions.go (the agreement test
// against promtool, operator/validate/promtool-agreement.int.test.ts, catches what differs in its corpus).

export type ValueType = 'vector' | 'matrix' | 'scalar' | 'string';

export interface PromQLFunction {
  args: ValueType[];
  variadic?: number;
  returns: ValueType;
  experimental?: boolean;
}

const V: ValueType = 'vector';
const M: ValueType = 'matrix';
const S: ValueType = 'scalar';
const STR: ValueType = 'string';

export const PROMQL_FUNCTIONS: Readonly<Record<string, PromQLFunction>> = {
  abs: { args: [V], returns: 'vector' },
  absent: { args: [V], returns: 'vector' },
  absent_over_time: { args: [M], returns: 'vector' },
  acos: { args: [V], returns: 'vector' },
  acosh: { args: [V], returns: 'vector' },
  asin: { args: [V], returns: 'vector' },
  asinh: { args: [V], returns: 'vector' },
  atan: { args: [V], returns: 'vector' },
  atanh: { args: [V], returns: 'vector' },
  avg_over_time: { args: [M], returns: 'vector' },
  ceil: { args: [V], returns: 'vector' },
  changes: { args: [M], returns: 'vector' },
  clamp: { args: [V, S, S], returns: 'vector' },
  clamp_max: { args: [V, S], returns: 'vector' },
  clamp_min: { args: [V, S], returns: 'vector' },
  cos: { args: [V], returns: 'vector' },
  cosh: { args: [V], returns: 'vector' },
  count_over_time: { args: [M], returns: 'vector' },
  day_of_month: { args: [V], variadic: 1, returns: 'vector' },
  day_of_week: { args: [V], variadic: 1, returns: 'vector' },
  day_of_year: { args: [V], variadic: 1, returns: 'vector' },
  days_in_month: { args: [V], variadic: 1, returns: 'vector' },
  deg: { args: [V], returns: 'vector' },
  delta: { args: [M], returns: 'vector' },
  deriv: { args: [M], returns: 'vector' },
  double_exponential_smoothing: { args: [M, S, S], returns: 'vector', experimental: true },
  end: { args: [], returns: 'scalar', experimental: true },
  exp: { args: [V], returns: 'vector' },
  first_over_time: { args: [M], returns: 'vector' },
  floor: { args: [V], returns: 'vector' },
  histogram_avg: { args: [V], returns: 'vector' },
  histogram_count: { args: [V], returns: 'vector' },
  histogram_fraction: { args: [S, S, V], returns: 'vector' },
  histogram_quantile: { args: [S, V], returns: 'vector' },
  histogram_quantiles: { args: [V, STR, S, S], variadic: 9, returns: 'vector', experimental: true },
  histogram_stddev: { args: [V], returns: 'vector' },
  histogram_stdvar: { args: [V], returns: 'vector' },
  histogram_sum: { args: [V], returns: 'vector' },
  hour: { args: [V], variadic: 1, returns: 'vector' },
  idelta: { args: [M], returns: 'vector' },
  increase: { args: [M], returns: 'vector' },
  info: { args: [V, V], variadic: 1, returns: 'vector', experimental: true },
  irate: { args: [M], returns: 'vector' },
  label_join: { args: [V, STR, STR, STR], variadic: -1, returns: 'vector' },
  label_replace: { args: [V, STR, STR, STR, STR], returns: 'vector' },
  last_over_time: { args: [M], returns: 'vector' },
  ln: { args: [V], returns: 'vector' },
  log10: { args: [V], returns: 'vector' },
  log2: { args: [V], returns: 'vector' },
  mad_over_time: { args: [M], returns: 'vector', experimental: true },
  max_of: { args: [S, S], returns: 'scalar', experimental: true },
  max_over_time: { args: [M], returns: 'vector' },
  min_of: { args: [S, S], returns: 'scalar', experimental: true },
  min_over_time: { args: [M], returns: 'vector' },
  minute: { args: [V], variadic: 1, returns: 'vector' },
  month: { args: [V], variadic: 1, returns: 'vector' },
  pi: { args: [], returns: 'scalar' },
  predict_linear: { args: [M, S], returns: 'vector' },
  present_over_time: { args: [M], returns: 'vector' },
  quantile_over_time: { args: [S, M], returns: 'vector' },
  rad: { args: [V], returns: 'vector' },
  range: { args: [], returns: 'scalar', experimental: true },
  rate: { args: [M], returns: 'vector' },
  resets: { args: [M], returns: 'vector' },
  round: { args: [V, S], variadic: 1, returns: 'vector' },
  scalar: { args: [V], returns: 'scalar' },
  sgn: { args: [V], returns: 'vector' },
  sin: { args: [V], returns: 'vector' },
  sinh: { args: [V], returns: 'vector' },
  sort: { args: [V], returns: 'vector' },
  sort_by_label: { args: [V, STR], variadic: -1, returns: 'vector', experimental: true },
  sort_by_label_desc: { args: [V, STR], variadic: -1, returns: 'vector', experimental: true },
  sort_desc: { args: [V], returns: 'vector' },
  sqrt: { args: [V], returns: 'vector' },
  start: { args: [], returns: 'scalar', experimental: true },
  start_timestamp: { args: [V], returns: 'vector', experimental: true },
  stddev_over_time: { args: [M], returns: 'vector' },
  stdvar_over_time: { args: [M], returns: 'vector' },
  step: { args: [], returns: 'scalar', experimental: true },
  sum_over_time: { args: [M], returns: 'vector' },
  tan: { args: [V], returns: 'vector' },
  tanh: { args: [V], returns: 'vector' },
  time: { args: [], returns: 'scalar' },
  timestamp: { args: [V], returns: 'vector' },
  ts_of_first_over_time: { args: [M], returns: 'vector', experimental: true },
  ts_of_last_over_time: { args: [M], returns: 'vector', experimental: true },
  ts_of_max_over_time: { args: [M], returns: 'vector', experimental: true },
  ts_of_min_over_time: { args: [M], returns: 'vector', experimental: true },
  vector: { args: [S], returns: 'vector' },
  year: { args: [V], variadic: 1, returns: 'vector' },
};

/** Aggregation operators: parameter types before the vector; limitk/limit_ratio are experimental (Prometheus 3.15). */
export const PROMQL_AGGREGATIONS: Readonly<Record<string, { args: ValueType[]; experimental?: boolean }>> = {
  sum: { args: [V] },
  avg: { args: [V] },
  count: { args: [V] },
  min: { args: [V] },
  max: { args: [V] },
  group: { args: [V] },
  stddev: { args: [V] },
  stdvar: { args: [V] },
  topk: { args: [S, V] },
  bottomk: { args: [S, V] },
  quantile: { args: [S, V] },
  count_values: { args: [STR, V] },
  limitk: { args: [S, V], experimental: true },
  limit_ratio: { args: [S, V], experimental: true },
};

/** The --enable-feature flags behind PromQL syntax Vigil's Prometheus does not enable, by what they gate. */
export const PROMQL_FEATURE_FLAGS = {
  experimentalFunctions: 'promql-experimental-functions',
  extendedRangeSelectors: 'promql-extended-range-selectors',
  fillModifiers: 'promql-binop-fill-modifiers',
} as const;
