// Stable names of everything Vigil generates. Kubernetes namespaces and object names cannot
// contain `/` or `_`, so `<ns>/<name>` and `<ns>__<name>` never collide across namespaces.
import { hash } from 'node:crypto';
import type { MonitoredService } from '../api/schema.js';
import type { ObjectRef } from './types.js';

export const JOB_PREFIX = 'vigil';
/**
 * Jobs of the install's own scrape configs (settings.selfScrapeJobs); the operator's series carry
 * the install namespace's namespace label, so rules of MonitoredServices there may read them
 * (all but SCRAPE_ERROR_INFO_METRIC: the chart drops its namespace label, cdk8s/settings.ts).
 */
export const SELF_SCRAPE_JOBS = { prometheus: 'prometheus', operator: 'vigil-operator', alertmanager: 'alertmanager' } as const;
export const DEFAULT_RECEIVER = 'vigil-default';
/**
 * Alertmanager's --enable-feature wherever Vigil runs it: receiver_name on its notification counters,
 * which EmailDelivered reads per receiver (operator/controller/email-delivery.ts).
 */
export const ALERTMANAGER_FEATURES = 'receiver-name-in-metrics';
/** Receiver without integrations for alerts of MonitoredServices that are no longer configured (alertmanager.ts). */
export const UNOWNED_RECEIVER = 'vigil-unowned';
export const EMAIL_TEMPLATE_FILE = 'vigil-email.tmpl';
import { RULE_FILE_SUFFIX, SCRAPE_FILE_PREFIX, SCRAPE_FILE_SUFFIX } from '../contract.js';

export { ALERTMANAGER_CONFIG_FILE, PROMETHEUS_CONFIG_FILE, RULE_FILE_SUFFIX, SCRAPE_FILE_PREFIX, SCRAPE_FILE_SUFFIX } from '../contract.js';

/** Static labels on every alert of a MonitoredService; Alertmanager routes on them. */
export const LABEL_NAMESPACE = 'vigil_namespace';
export const LABEL_MONITORED_SERVICE = 'vigil_monitoredservice';
/** Routes the Watchdog to its own receiver (watchdog.ts); only the Watchdog rule sets it. */
export const LABEL_WATCHDOG = 'vigil_watchdog';
/**
 * The Prometheus shard a Watchdog comes from (watchdog.ts), set only with more than one shard: each
 * shard's heartbeat is its own alert and notification group, so a silent shard shows. The replicas
 * of one shard share it (Alertmanager deduplicates them); no service alert carries it.
 */
export const LABEL_SHARD = 'vigil_shard';
/**
 * Names the receiver of the service's recipient set (recipientSetReceiver) on every alert of the
 * service: alertmanager.yml has one route per receiver that matches on it, so routes grow with
 * distinct recipient sets, not with services (alertmanager.ts).
 */
export const LABEL_RECEIVER = 'vigil_receiver';

/**
 * Prometheus's name for a Kubernetes label in its meta labels: every character outside
 * [a-zA-Z0-9_] becomes `_` (discovery/kubernetes uses strutil.SanitizeLabelName). Two label keys
 * that differ only there (`a.b`, `a_b`) share one meta label.
 */
export const sanitizedLabelName = (key: string) => key.replace(/[^a-zA-Z0-9_]/g, '_');

/** The external label naming the cluster (the chart's clusterName): on every alert a rule does not label itself. */
export const EXTERNAL_CLUSTER_LABEL = 'cluster';

/**
 * The external label naming the Prometheus replica (GlobalSettings.replicaExternalLabel), as prometheus-operator
 * names it; Thanos Query deduplicates on it (--query.replica-label). Never on an alert (alert_relabel_configs).
 */
export const REPLICA_EXTERNAL_LABEL = 'prometheus_replica';

/**
 * The operator's gauge (value 1) carrying Prometheus's scrape error of each service with a failing
 * target, read by the down alerts' descriptions at evaluation (render/scrape-error.ts); labels
 * LABEL_NAMESPACE, LABEL_MONITORED_SERVICE, reason and error (controller/scrape-error-metric.ts).
 */
export const SCRAPE_ERROR_INFO_METRIC = 'vigil_monitoredservice_scrape_error_info';

export const SERVICE_DOWN_ALERT = 'ServiceDown';
export const TARGET_DOWN_ALERT = 'ServiceTargetDown';
/** The heartbeat alert (watchdog.ts): always firing, routed to the watchdog receiver. */
export const WATCHDOG_ALERT = 'Watchdog';
/** alertname of the test alert (test-email.ts): no inhibit rule names it, so it never inhibits nor is inhibited. */
export const TEST_EMAIL_ALERT = 'VigilTestEmail';

export function refOf(service: MonitoredService): ObjectRef {
  return { namespace: service.metadata.namespace, name: service.metadata.name };
}

export function compareRefs(a: ObjectRef, b: ObjectRef): number {
  return a.namespace === b.namespace ? compareStrings(a.name, b.name) : compareStrings(a.namespace, b.namespace);
}

/** Code-unit order, independent of the machine's locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortServices(services: readonly MonitoredService[]): MonitoredService[] {
  return [...services].sort((a, b) => compareRefs(refOf(a), refOf(b)));
}

/** Scrape job of one endpoint: `vigil/<namespace>/<name>/<port>`. */
export function jobName(ref: ObjectRef, port: string): string {
  return `${JOB_PREFIX}/${ref.namespace}/${ref.name}/${port}`;
}

/** Rule group of one MonitoredService: `vigil/<namespace>/<name>`. */
export function ruleGroupName(ref: ObjectRef): string {
  return `${JOB_PREFIX}/${ref.namespace}/${ref.name}`;
}

/**
 * The scrape file of config partition `id` (assemble/partitions.ts) whose jobs have digest
 * `jobsDigest` (hex, first 16 characters kept): prometheus.yml names every such file in
 * `scrape_config_files`, and Prometheus reports those names in /api/v1/status/config, so what it
 * runs can be compared with what Vigil wrote down to each partition's jobs (docs/contract.md).
 */
export function partitionScrapeFileName(id: string, jobsDigest: string): string {
  return `${SCRAPE_FILE_PREFIX}${id}-${jobsDigest.slice(0, 16)}${SCRAPE_FILE_SUFFIX}`;
}

/** ConfigMap key of one MonitoredService's rule file: `<namespace>__<name>.rules.yaml`. */

export function ruleFileName(ref: ObjectRef): string {
  return `${ref.namespace}__${ref.name}${RULE_FILE_SUFFIX}`;
}

/** Prefix of the receivers of recipient sets (recipientSetReceiver); Vigil's fixed receivers (vigil-default, vigil-watchdog, vigil-unowned) do not start with it. */
export const RECIPIENT_SET_RECEIVER_PREFIX = 'vigil-to:';
/** Longest receiver name that lists its recipients; a longer list is named by its first address, count and digest. */
export const MAX_LISTED_RECEIVER_LENGTH = 200;

/**
 * The Alertmanager receiver of an email recipient set, also the value of LABEL_RECEIVER on the
 * alerts of every service with that set, so the same on every operator start:
 * - `vigil-to:a@example.com,b@example.com` (the recipients in order: they make the To header),
 *   `;noresolved` appended when sendResolved is false, while that fits in MAX_LISTED_RECEIVER_LENGTH;
 * - else `vigil-to:<first address> and <n-1> more;<16 hex>`, the first 64 bits of sha256 over
 *   `[to, sendResolved]` as JSON.
 * Addresses hold no `,`, `;` or space (EMAIL_PATTERN), so distinct sets get distinct names. Names
 * rather than digests throughout: sorted by address, alertmanager.yml compresses several times
 * better (the Secret's limit), and the email footer and EmailDelivered name the recipients.
 * DEFAULT_RECEIVER without recipients.
 */
export function recipientSetReceiver(email: { to: readonly string[]; sendResolved: boolean } | undefined): string {
  if (!email || email.to.length === 0) return DEFAULT_RECEIVER;
  const listed = `${RECIPIENT_SET_RECEIVER_PREFIX}${email.to.join(',')}${email.sendResolved ? '' : ';noresolved'}`;
  if (listed.length <= MAX_LISTED_RECEIVER_LENGTH) return listed;
  const digest = hash('sha256', JSON.stringify([email.to, email.sendResolved]), 'hex').slice(0, 16);
  return `${RECIPIENT_SET_RECEIVER_PREFIX}${email.to[0]} and ${email.to.length - 1} more;${digest}`;
}
