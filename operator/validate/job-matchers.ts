// A job label no series in the namespace can carry. Every series a rule can read (its namespace's)
// comes from a Vigil scrape job named vigil/<namespace>/<name>/<port>, and honor_labels: false
// turns a target's own job label into exported_job; so job="checkout" (a habit from other setups)
// matches nothing: the alert never fires, or under absent() always does. The install's own jobs
// (SELF_SCRAPE_JOBS) are the exception.
import { analyzeExpr } from '../promql/wasm.js';
import { JOB_PREFIX, SELF_SCRAPE_JOBS } from '../render/names.js';

/** Series Prometheus writes at rule evaluation, labelled by the rules (a rule label may be called job). */
const RULE_SERIES = new Set(['ALERTS', 'ALERTS_FOR_STATE']);

const SELF_JOBS: ReadonlySet<string> = new Set(Object.values(SELF_SCRAPE_JOBS));

/** One message per selector whose job="..." cannot name a job of `namespace` (expr must be one checkPromQL accepted). */
export function foreignJobProblems(expr: string, namespace: string, ownJobs: readonly string[]): string[] {
  const prefix = `${JOB_PREFIX}/${namespace}/`;
  // A MonitoredService name holds no /: vigil/<namespace>/<this name>/ names this service's jobs only.
  const ownPrefix = ownJobs[0]?.slice(0, ownJobs[0].lastIndexOf('/') + 1);
  const analysis = analyzeExpr(expr);
  if (!analysis.ok) return [];
  const problems: string[] = [];
  for (const selector of analysis.selectors) {
    if (selector.metric !== undefined && RULE_SERIES.has(selector.metric)) continue;
    for (const m of selector.matchers) {
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
