// A job label no series in the namespace can carry. Every series a rule can read (its namespace's)
// comes from a Vigil scrape job named vigil/<namespace>/<name>/<port>, and honor_labels: false
// turns a target's own job label into exported_job; so job="checkout" (a habit from other setups)
// matches nothing: the alert never fires, or under absent() always does. The install's own jobs
// (SELF_SCRAPE_JOBS) are the exception.
import { analyzeExpr, matchLabel, type Matcher } from '../promql/wasm.js';
import { JOB_PREFIX, SELF_SCRAPE_JOBS } from '../render/names.js';

/** Series Prometheus writes at rule evaluation, labelled by the rules (a rule label may be called job). */
const RULE_SERIES = new Set(['ALERTS', 'ALERTS_FOR_STATE']);

const SELF_JOBS: ReadonlySet<string> = new Set(Object.values(SELF_SCRAPE_JOBS));

/**
 * Series Prometheus writes for every scrape (documented as "automatically generated labels and time
 * series"): they carry the target's labels only, never the scraped app's.
 */
const SCRAPE_SERIES: ReadonlySet<string> = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']);

/**
 * The labels a target of a namespace can have: job and instance, and what Vigil's relabelling sets
 * (render/prometheus.ts: namespace, service, pod; the chart's own scrape jobs set pod and namespace).
 */
const TARGET_LABELS: ReadonlySet<string> = new Set(['__name__', 'job', 'instance', 'namespace', 'service', 'pod']);

/** Whether a matcher holds for a series without its label (an absent label reads as ""). */
function matchesAbsent(m: Matcher): boolean {
  if (m.op === '=') return m.value === '';
  if (m.op === '!=') return m.value !== '';
  return matchLabel(m, [''])[0] === true;
}

/**
 * The text every match of an RE2 regex (anchored, as Prometheus anchors label regexes) starts with,
 * conservatively: the literal characters before the first special one, less the last when a
 * quantifier follows it; empty for a regex with an alternation anywhere, or when unsure.
 * "vigil/shop/.*" -> "vigil/shop/"; "checkout-?api" -> "checkout"; "a|b" -> "".
 */
export function regexLiteralPrefix(regex: string): string {
  if (regex.includes('|')) return '';
  let prefix = '';
  for (const ch of regex) {
    if ('\\.+*?()[]{}^$'.includes(ch)) return '*?+{'.includes(ch) ? [...prefix].slice(0, -1).join('') : prefix;
    prefix += ch;
  }
  return prefix;
}

/**
 * One message per selector that can match no series of `namespace`: a job="..." or a job=~"..."
 * (by its literal prefix) that cannot name a job of the namespace, and a matcher on a label that
 * Prometheus's own scrape series (up, scrape_*) never carry. expr must be one checkPromQL accepted.
 */
export function foreignJobProblems(expr: string, namespace: string, ownJobs: readonly string[]): string[] {
  const prefix = `${JOB_PREFIX}/${namespace}/`;
  // A MonitoredService name holds no /: vigil/<namespace>/<this name>/ names this service's jobs only.
  const ownPrefix = ownJobs[0]?.slice(0, ownJobs[0].lastIndexOf('/') + 1);
  const analysis = analyzeExpr(expr);
  if (!analysis.ok) return [];
  const problems: string[] = [];
  for (const selector of analysis.selectors) {
    if (selector.metric !== undefined && RULE_SERIES.has(selector.metric)) continue;
    if (selector.metric !== undefined && SCRAPE_SERIES.has(selector.metric)) {
      for (const m of selector.matchers) {
        if (TARGET_LABELS.has(m.name) || matchesAbsent(m)) continue;
        problems.push(
          `selector ${selector.text} can match no series: ${selector.metric} carries only its target's labels (${[...TARGET_LABELS].filter((l) => l !== '__name__').join(', ')}), ` +
            `so ${m.name}${m.op}${JSON.stringify(m.value)} never holds; select by one of those, or read a metric of the app that has ${m.name}`,
        );
      }
    }
    for (const m of selector.matchers) {
      if (m.name === 'job' && m.op === '=~') {
        // Every match starts with `start`: no job of the namespace (nor of the install) can.
        const start = regexLiteralPrefix(m.value);
        const canMatch = start === '' || start.startsWith(prefix) || prefix.startsWith(start) || [...SELF_JOBS].some((job) => job.startsWith(start));
        if (!canMatch) {
          problems.push(
            `selector ${selector.text} can match no series: job=~${JSON.stringify(m.value)} only matches jobs starting with ${JSON.stringify(start)}, ` +
              `and the scrape jobs of namespace ${namespace} are named ${prefix}<MonitoredService>/<port>; match ${JSON.stringify(`${prefix}.*`)} or a job of this namespace`,
          );
        }
        continue;
      }
      if (m.name !== 'job' || m.op !== '=' || m.value === '') continue;
      if (ownPrefix !== undefined && m.value.startsWith(ownPrefix) && !ownJobs.includes(m.value)) {
        problems.push(
          `selector ${selector.text} can match no series: job ${m.value} would scrape port ${m.value.slice(ownPrefix.length)}, which spec.endpoints does not list; ` +
            `this service's jobs are ${ownJobs.join(', ')}`,
        );
        continue;
      }
      if (m.value.startsWith(prefix) || SELF_JOBS.has(m.value)) continue;
      const example = ownJobs[0] ?? `${prefix}<name>/<port>`;
      problems.push(
        `selector ${selector.text} can match no series: the scrape jobs of namespace ${namespace} are named ${prefix}<MonitoredService>/<port>` +
          `${ownJobs.length > 0 ? ` (this service's: ${ownJobs.join(', ')})` : ''}, and a target's own job label becomes exported_job; ` +
          `use job="${example}", or select by Service with service="<name>"`,
      );
    }
  }
  return problems;
}
