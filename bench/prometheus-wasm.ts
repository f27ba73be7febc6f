// The cost of validating with Prometheus's own code (operator/wasm) in-process: module size, the
// one-time load, and per call: parsing an expression, enforcing the namespace, checking a template.
// Prints numbers; docs/benchmarks.md holds the figures and the comparison with the emulation it replaced.
//   node --import tsx bench/prometheus-wasm.ts
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { analyzeExpr, checkAlertTemplate, enforceLabel, initPrometheusWasm, promqlGrammar, WASM_DIR } from '../operator/promql/wasm.js';
import { promqlCorpus } from '../test/promql/corpus.js';

const TYPICAL = [
  'up == 0',
  'rate(http_requests_total{code=~"5.."}[5m]) / rate(http_requests_total[5m]) > 0.05',
  'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > 0.5',
  '(count(up{job="vigil/shop/checkout/http"} == 1) or vector(0)) == 0',
];
const TEMPLATES = ['{{ $labels.instance }} is down', '{{ $value | humanizePercentage }} of requests fail on {{ $labels.instance }}'];

/** Microseconds per call of fn over inputs; the inputs are made unique per round so no answer is remembered. */
function perCall(inputs: readonly string[], rounds: number, fn: (input: string) => unknown): number {
  let calls = 0;
  const started = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (const input of inputs) {
      fn(`${input}${' '.repeat(r + 1)}`);
      calls++;
    }
  }
  return ((performance.now() - started) * 1000) / calls;
}

const size = statSync(join(WASM_DIR, 'vigil-prometheus.wasm')).size;
const initMs = initPrometheusWasm();
const corpus = promqlCorpus(promqlGrammar());
const rows: [string, string][] = [
  ['module size', `${(size / 1024 / 1024).toFixed(1)} MiB`],
  ['load (once per process)', `${initMs.toFixed(0)} ms`],
  [`parse, corpus (${corpus.length} expressions)`, `${perCall(corpus, 3, (e) => analyzeExpr(e)).toFixed(0)} µs`],
  ['parse, typical alert expression', `${perCall(TYPICAL, 500, (e) => analyzeExpr(e)).toFixed(0)} µs`],
  ['namespace enforcement, typical', `${perCall(TYPICAL, 500, (e) => enforceLabel(e, 'namespace', 'shop')).toFixed(0)} µs`],
  ['template parse + expansion', `${perCall(TEMPLATES, 500, (t) => checkAlertTemplate(t, { alertName: 'A' })).toFixed(0)} µs`],
  ['template references only (rendering)', `${perCall(TEMPLATES, 500, (t) => checkAlertTemplate(t, { referencedLabels: ['instance'], parseOnly: true })).toFixed(0)} µs`],
];
for (const [what, value] of rows) console.log(`${what.padEnd(44)} ${value}`);
