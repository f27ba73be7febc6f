// prometheus.yml: global settings, where alerts go, the rule files, and one scrape job per
// (MonitoredService, endpoint) using Kubernetes service discovery.
import { posix } from 'node:path';
import { stringify } from 'yaml';
import type { Endpoint, LabelSelector, MonitoredService } from '../api/schema.js';
import { compareStrings, jobName, refOf, RULE_FILE_SUFFIX, SCRAPE_FILE_SUFFIX, sanitizedLabelName, sortServices } from './names.js';
import { resolveScrapeLimits, scrapeLimitFields } from './scrape-limits.js';
import { DEFAULT_SCRAPE_CREDENTIALS_DIR, scrapeAuthFields } from './scrape-auth.js';
import { scrapeTiming } from './scrape-timing.js';
import type { GlobalSettings, ScrapeHints } from './types.js';
import { placeholder, splicedOrThrow, stringifyItems } from './yaml-fragments.js';

/** Prometheus 3's name for the classic text exposition format (config `scrape_protocols` values). */
export const FALLBACK_SCRAPE_PROTOCOL = 'PrometheusText0.0.4';

/**
 * Options for `yaml.stringify` shared by every renderer: no line folding, no anchors, and no
 * directives. Vigil writes no tags, so `yaml` would print no `%TAG` lines anyway; `directives: false`
 * only spares it a walk over the whole node tree per document looking for tags (the same text).
 */
export const YAML_OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false, directives: false } as const;

export function renderPrometheusConfig(services: readonly MonitoredService[], settings: GlobalSettings): string {
  return assemblePrometheusConfig(
    sortServices(services).map((service) => renderScrapeJobsText(service, settings)),
    settings,
  );
}

/**
 * The scrape jobs of one service as the text of block-sequence items (yaml-fragments.ts), the
 * piece assemblePrometheusConfig joins; '' for a service without endpoints.
 */
export function renderScrapeJobsText(service: MonitoredService, settings: GlobalSettings, hints?: ScrapeHints): string {
  return stringifyItems(scrapeJobs(service, settings, hints), YAML_OPTIONS);
}

/** Whether `hints` change any scrape job of `service` (else its usual pieces stand). */
export function hasScrapeHints(service: MonitoredService, hints: ScrapeHints | undefined): boolean {
  if (!hints) return false;
  return service.spec.endpoints.some((endpoint) => {
    const hint = hints[jobName(refOf(service), endpoint.port)];
    return hint !== undefined && (hint.skipServices.length > 0 || hint.onlyServices !== undefined);
  });
}

/**
 * prometheus.yml from every service's renderScrapeJobsText, in service order: byte-identical to
 * stringifying the whole document (yaml-fragments.ts explains why), without building a YAML node
 * tree of every job on each reconcile. `skeleton`: prometheusSkeleton of the same, when at hand.
 */
export function assemblePrometheusConfig(
  scrapeJobTexts: readonly string[],
  settings: GlobalSettings,
  skeleton = prometheusSkeleton(
    scrapeJobTexts.some((t) => t !== ''),
    settings,
  ),
): string {
  return splicedOrThrow(skeleton, [scrapeJobTexts], 'prometheus.yml');
}

/** prometheus.yml with one placeholder item (yaml-fragments.ts) where the services' jobs go, none without jobs. */
export function prometheusSkeleton(hasJobs: boolean, settings: GlobalSettings): string {
  return stringify(prometheusDocument(hasJobs ? [placeholder(0)] : [], settings), YAML_OPTIONS);
}

/**
 * prometheus.yml of a partitioned config (assemble/partitioned-config.ts): the services' jobs are
 * not in it but in the partitions' scrape files next to it (`scrapeFiles`, file names), which
 * Prometheus (2.43 and later) loads through `scrape_config_files`. Each file is named, not matched
 * by a glob: Prometheus reports these names (not the files' jobs) in /api/v1/status/config, and a
 * scrape file's name carries the digest of its jobs (names.ts partitionScrapeFileName).
 */
export function partitionedPrometheusConfig(settings: GlobalSettings, scrapeFiles: readonly string[]): string {
  const files = [...scrapeFiles].sort(compareStrings).map((name) => posix.join(settings.rulesDir, name));
  return stringify({ ...prometheusDocument([], settings), ...(files.length > 0 ? { scrape_config_files: files } : {}) }, YAML_OPTIONS);
}

/** A partition's scrape file: its services' jobs (renderScrapeJobsText, in service order) under scrape_configs. */
export function partitionScrapeFile(scrapeJobTexts: readonly string[]): string {
  const items = scrapeJobTexts.join('');
  // As `yaml` writes the document { scrape_configs: [...] } (stringifyItems writes the items of a top-level list).
  return items === '' ? 'scrape_configs: []\n' : `scrape_configs:\n${items}`;
}

function prometheusDocument(serviceJobs: unknown[], settings: GlobalSettings): Record<string, unknown> {
  const replica = settings.replicaExternalLabel;
  const externalLabels = replica ? { ...settings.externalLabels, [replica.name]: replica.value } : settings.externalLabels;
  const remoteWrite = settings.remoteWrite ?? [];
  return {
    global: {
      scrape_interval: settings.scrapeInterval,
      evaluation_interval: settings.evaluationInterval,
      ...(Object.keys(externalLabels).length > 0 ? { external_labels: sortedRecord(externalLabels) } : {}),
    },
    alerting: {
      // Prometheus adds the external labels to every alert it sends: without the replica's, the
      // replicas of one Prometheus send the same alert and Alertmanager groups them into one email.
      ...(replica ? { alert_relabel_configs: [{ action: 'labeldrop', regex: escapeRegex(replica.name) }] } : {}),
      alertmanagers: [{ ...(settings.alertmanagerPathPrefix ? { path_prefix: settings.alertmanagerPathPrefix } : {}), static_configs: [{ targets: [...settings.alertmanagerTargets] }] }],
    },
    rule_files: [posix.join(settings.rulesDir, `*${RULE_FILE_SUFFIX}`)],
    scrape_configs: [...settings.selfScrapeJobs, ...serviceJobs],
    ...(remoteWrite.length > 0 ? { remote_write: remoteWrite } : {}),
  };
}

/**
 * How many dropped targets each job keeps for Prometheus's targets API and UI (`keep_dropped_targets`;
 * 0 would mean all). Prometheus keeps the first ones it meets while syncing the job's target groups
 * (scrape pool Sync), not the job's own: with one discovery shared by the namespace these are mostly
 * other Services' endpoints, so in a namespace of more than a few Services a job's own not-ready or
 * terminating endpoint is usually not among them. Bounds the memory every job would otherwise spend
 * on every other endpoint of its namespace; the dropped count stays exact (Prometheus counts them all).
 */
export const KEEP_DROPPED_TARGETS = 10;

/** Meta labels of Prometheus's endpointslice role (2.42 and 3.x alike) for the endpoint's conditions. */
export const ENDPOINT_READY_LABEL = '__meta_kubernetes_endpointslice_endpoint_conditions_ready';
export const ENDPOINT_TERMINATING_LABEL = '__meta_kubernetes_endpointslice_endpoint_conditions_terminating';

/** One scrape job per endpoint, sorted by port name so the output does not depend on spec order. */
export function scrapeJobs(service: MonitoredService, settings: GlobalSettings, hints?: ScrapeHints): Record<string, unknown>[] {
  const endpoints = [...service.spec.endpoints].sort((a, b) => compareStrings(a.port, b.port));
  // One service's limits apply to each of its jobs alike; throws ScrapeLimitRefusal above a ceiling
  // or below what its own target labels need.
  const jobNames = endpoints.map((endpoint) => jobName(refOf(service), endpoint.port));
  const limits = scrapeLimitFields(resolveScrapeLimits(service.spec.limits, settings.scrapeLimits, jobNames));
  return endpoints.map((endpoint) => scrapeJob(service, endpoint, settings, hints?.[jobName(refOf(service), endpoint.port)], limits));
}

function scrapeJob(service: MonitoredService, endpoint: Endpoint, settings: GlobalSettings, hint: ScrapeHints[string] | undefined, limits: Record<string, number | string>): Record<string, unknown> {
  const skipServices = hint?.skipServices ?? [];
  const { namespace } = service.metadata;
  return {
    job_name: jobName(refOf(service), endpoint.port),
    // Labels a target exposes about itself (namespace, pod, ...) must not override ours: they
    // become exported_<name>, so a pod cannot pretend its series belong to another namespace.
    honor_labels: false,
    scheme: endpoint.scheme,
    metrics_path: endpoint.path,
    ...(endpoint.params && Object.keys(endpoint.params).length > 0 ? { params: sortedRecord(endpoint.params) } : {}),
    ...scrapeTimingFields(endpoint),
    ...scrapeAuthFields(namespace, endpoint, settings.scrapeCredentialsDir ?? DEFAULT_SCRAPE_CREDENTIALS_DIR),
    // Prometheus 3 fails a scrape whose Content-Type is missing or unknown (2.x parsed it as text):
    // a target with a sloppy header would be reported down. The text format is what such targets send.
    fallback_scrape_protocol: FALLBACK_SCRAPE_PROTOCOL,
    // A scrape over a limit fails whole (up 0): one service's burst cannot grow the shared Prometheus.
    ...limits,
    kubernetes_sd_configs: [namespaceDiscovery(namespace, settings)],
    // The shared discovery hands this job every endpoint of the namespace; Prometheus would keep
    // each one its relabelling drops (all other Services' endpoints) in memory for its targets API.
    keep_dropped_targets: KEEP_DROPPED_TARGETS,
    relabel_configs: [
      // The job's own Services, by the MonitoredService's selector on the Service labels: the
      // discovery above is the whole namespace's, shared with the namespace's other jobs. Where the
      // labels cannot tell them apart (ScrapeHints.onlyServices), by the names the operator matched.
      ...(hint?.onlyServices !== undefined ? [servicesByName(hint.onlyServices)] : selectorRelabelRules(service.spec.selector)),
      // Only the named port; other ports of the same Service belong to other jobs (or none).
      { source_labels: ['__meta_kubernetes_endpointslice_port_name'], regex: escapeRegex(endpoint.port), action: 'keep' },
      // Only slices whose Service exists (a slice not created by the EndpointSlice controller for
      // a Service has no Service metadata; a selector of only NotIn/DoesNotExist would keep it).
      { source_labels: ['__meta_kubernetes_service_name'], regex: '.+', action: 'keep' },
      // Only endpoints that take traffic (issue #14): a terminating pod (EndpointSlice
      // `terminating: true`, `ready: false`) often stops serving /metrics long before it is gone,
      // and a pod that is not ready yet may not serve it either; scraping them made healthy
      // rolling updates page. Kubernetes leaves a condition unset to mean ready / not terminating,
      // and Prometheus then sets no label, hence "false"/"true" and not "".
      {
        source_labels: [ENDPOINT_READY_LABEL, ENDPOINT_TERMINATING_LABEL],
        regex: 'false;.*|.*;true',
        action: 'drop',
      },
      // Services selecting the same pods as another selected Service (the operator saw identical
      // spec.selectors, controller/selection.ts): the same pods, scraped once through the other.
      ...(skipServices.length > 0 ? [{ source_labels: ['__meta_kubernetes_service_name'], regex: [...skipServices].sort(compareStrings).map(escapeRegex).join('|'), action: 'drop' }] : []),
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace', action: 'replace' },
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service', action: 'replace' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod', action: 'replace' },
    ],
  };
}

/**
 * The one kubernetes_sd block of every job in `namespace`: EndpointSlices (the Endpoints API is
 * deprecated since Kubernetes 1.33) of that namespace only, the tenancy fence. It is identical for
 * all jobs of the namespace on purpose: Prometheus runs one discovery (one set of watches on
 * EndpointSlices, Services and Pods) per distinct block, so N jobs in K namespaces cost K sets of
 * watches instead of N, and each job picks its Services by relabelling (selectorRelabelRules).
 * Measured against per-job `selectors` blocks: docs/benchmarks.md "Discovery layout" (issue #13).
 */
export function namespaceDiscovery(namespace: string, settings: GlobalSettings): Record<string, unknown> {
  return { ...kubernetesSdConnection(settings), role: 'endpointslice', namespaces: { names: [namespace] } };
}

/**
 * A MonitoredService's Service selector as relabel rules on the Service meta labels of the
 * endpointslice role, with Kubernetes semantics: each requirement must hold (keep), `NotIn` and
 * `DoesNotExist` also match Services without the label (drop only present-and-matching). The
 * `labelpresent` meta label tells an empty value from a missing label, as Kubernetes does.
 * Values are RE2-escaped (relabel regexes are fully anchored). Shapes: matchLabels first (sorted
 * by key), then matchExpressions in spec order.
 */
export function selectorRelabelRules(selector: LabelSelector): Record<string, unknown>[] {
  const present = (key: string) => `__meta_kubernetes_service_labelpresent_${sanitizedLabelName(key)}`;
  const value = (key: string) => `__meta_kubernetes_service_label_${sanitizedLabelName(key)}`;
  const oneOf = (values: readonly string[]) => `(${[...values].sort(compareStrings).map(escapeRegex).join('|')})`;
  const rules: Record<string, unknown>[] = [];
  for (const key of Object.keys(selector.matchLabels ?? {}).sort(compareStrings)) {
    rules.push({ source_labels: [present(key), value(key)], regex: `true;${escapeRegex(selector.matchLabels![key]!)}`, action: 'keep' });
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    if (operator === 'In') rules.push({ source_labels: [present(key), value(key)], regex: `true;${oneOf(values)}`, action: 'keep' });
    if (operator === 'NotIn') rules.push({ source_labels: [present(key), value(key)], regex: `true;${oneOf(values)}`, action: 'drop' });
    if (operator === 'Exists') rules.push({ source_labels: [present(key)], regex: 'true', action: 'keep' });
    if (operator === 'DoesNotExist') rules.push({ source_labels: [present(key)], regex: 'true', action: 'drop' });
  }
  return rules;
}

/** Keeps exactly the Services named; an empty list drops every endpoint (no Service matched). */
function servicesByName(names: readonly string[]): Record<string, unknown> {
  if (names.length === 0) return { source_labels: ['__meta_kubernetes_service_name'], regex: '.*', action: 'drop' };
  return { source_labels: ['__meta_kubernetes_service_name'], regex: [...names].sort(compareStrings).map(escapeRegex).join('|'), action: 'keep' };
}

function scrapeTimingFields(endpoint: Endpoint): Record<string, string> {
  const timing = scrapeTiming(endpoint);
  return { scrape_interval: timing.interval, scrape_timeout: timing.scrapeTimeout };
}

/** How Prometheus reaches the API server: in-cluster by default, explicit when it runs outside. */
function kubernetesSdConnection(settings: GlobalSettings): Record<string, unknown> {
  const sd = settings.kubernetesSd;
  if (!sd) return {};
  // Prometheus rejects api_server together with kubeconfig_file: the kubeconfig names the server.
  if (sd.kubeconfigFile) return { kubeconfig_file: sd.kubeconfigFile };
  const tls = {
    ...(sd.caFile ? { ca_file: sd.caFile } : {}),
    ...(sd.insecureSkipVerify ? { insecure_skip_verify: true } : {}),
  };
  return {
    api_server: sd.apiServer,
    ...(sd.bearerTokenFile ? { authorization: { type: 'Bearer', credentials_file: sd.bearerTokenFile } } : {}),
    ...(Object.keys(tls).length > 0 ? { tls_config: tls } : {}),
  };
}

/** RE2 escaping, for label values used as (fully anchored) relabel or PromQL regexes. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** Keys sorted (so the output does not depend on input order); values as they are. */
export function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => compareStrings(a, b)));
}
