// The down alerts' sentence quoting Prometheus's own scrape error. Prometheus keeps a target's
// lastError in its targets API only, never in a series; the operator reads it there (TargetsHealthy)
// and exports it as SCRAPE_ERROR_INFO_METRIC, which the description reads with the template
// function `query` when the alert is evaluated. The rule file thus stays the same whatever the error
// (no re-render, no reload, the same config hash from a restarted operator).
import { LABEL_MONITORED_SERVICE, LABEL_NAMESPACE, SCRAPE_ERROR_INFO_METRIC, SELF_SCRAPE_JOBS } from './names.js';
import type { ObjectRef } from './types.js';

/**
 * The PromQL reading a service's scrape error: only from the install's own operator job (a scrape
 * job of a MonitoredService has honor_labels: false, so no target can pose as it), one series per
 * distinct error (replicas of the operator and their instance labels folded together).
 */
export function scrapeErrorQuery(ref: ObjectRef): string {
  const selector = `${SCRAPE_ERROR_INFO_METRIC}{job=${JSON.stringify(SELF_SCRAPE_JOBS.operator)}, ${LABEL_NAMESPACE}=${JSON.stringify(ref.namespace)}, ${LABEL_MONITORED_SERVICE}=${JSON.stringify(ref.name)}}`;
  return `max by (reason, error) (${selector})`;
}

/**
 * Go-template text for an alert description: `<before><sentence> (<reason>): <error>.<after>` when the
 * operator's series exists, nothing at all when it does not (not scraped yet, no failing target, the
 * operator not scraped), so the text around it reads right either way. The error is printed as data
 * at evaluation, never parsed as a template, so `{{` in an error is harmless. `sentence`, `before`
 * and `after` are operator text without template actions or backquotes.
 */
export function scrapeErrorTemplate(ref: ObjectRef, text: { sentence: string; before?: string; after?: string }): string {
  // A Go raw string: PromQL's double quotes need no escaping. Namespaces and names hold no backquote.
  return `{{ with query \`${scrapeErrorQuery(ref)}\` }}{{ with first . }}` + `${text.before ?? ''}${text.sentence} ({{ .Labels.reason }}): {{ .Labels.error }}.${text.after ?? ''}{{ end }}{{ end }}`;
}
