// prometheus.yml: global settings, where alerts go, the rule files, and one scrape job per
// (MonitoredService, endpoint) using Kubernetes service discovery.
import { posix } from 'node:path';
import { stringify } from 'yaml';
import type { Endpoint, MonitoredService } from '../api/schema.js';
import { labelSelectorString } from './label-selector.js';
import { compareStrings, jobName, refOf, RULE_FILE_SUFFIX, sortServices } from './names.js';
import { scrapeTiming } from './scrape-timing.js';
import type { GlobalSettings, ScrapeHints } from './types.js';
import { placeholder, splicedOrThrow, stringifyItems } from './yaml-fragments.js';

/** Prometheus 3's name for the classic text exposition format (config `scrape_protocols` values). */
export const FALLBACK_SCRAPE_PROTOCOL = 'PrometheusText0.0.4';

/** Options for `yaml.stringify` shared by every renderer: no line folding, no anchors. */
export const YAML_OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false } as const;

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
  return service.spec.endpoints.some((endpoint) => (hints[jobName(refOf(service), endpoint.port)]?.skipServices.length ?? 0) > 0);
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

function prometheusDocument(serviceJobs: unknown[], settings: GlobalSettings): Record<string, unknown> {
  return {
    global: {
      scrape_interval: settings.scrapeInterval,
      evaluation_interval: settings.evaluationInterval,
      ...(Object.keys(settings.externalLabels).length > 0 ? { external_labels: sortedRecord(settings.externalLabels) } : {}),
    },
    alerting: {
      alertmanagers: [{ static_configs: [{ targets: [...settings.alertmanagerTargets] }] }],
    },
    rule_files: [posix.join(settings.rulesDir, `*${RULE_FILE_SUFFIX}`)],
    scrape_configs: [...settings.selfScrapeJobs, ...serviceJobs],
  };
}

/** Meta labels of Prometheus's endpointslice role (2.42 and 3.x alike) for the endpoint's conditions. */
export const ENDPOINT_READY_LABEL = '__meta_kubernetes_endpointslice_endpoint_conditions_ready';
export const ENDPOINT_TERMINATING_LABEL = '__meta_kubernetes_endpointslice_endpoint_conditions_terminating';

/** One scrape job per endpoint, sorted by port name so the output does not depend on spec order. */
export function scrapeJobs(service: MonitoredService, settings: GlobalSettings, hints?: ScrapeHints): Record<string, unknown>[] {
  const endpoints = [...service.spec.endpoints].sort((a, b) => compareStrings(a.port, b.port));
  return endpoints.map((endpoint) => scrapeJob(service, endpoint, settings, hints?.[jobName(refOf(service), endpoint.port)]?.skipServices ?? []));
}

function scrapeJob(service: MonitoredService, endpoint: Endpoint, settings: GlobalSettings, skipServices: readonly string[]): Record<string, unknown> {
  const { namespace } = service.metadata;
  const selector = labelSelectorString(service.spec.selector);
  return {
    job_name: jobName(refOf(service), endpoint.port),
    // Labels a target exposes about itself (namespace, pod, ...) must not override ours: they
    // become exported_<name>, so a pod cannot pretend its series belong to another namespace.
    honor_labels: false,
    scheme: endpoint.scheme,
    metrics_path: endpoint.path,
    ...scrapeTimingFields(endpoint),
    // Prometheus 3 fails a scrape whose Content-Type is missing or unknown (2.x parsed it as text):
    // a target with a sloppy header would be reported down. The text format is what such targets send.
    fallback_scrape_protocol: FALLBACK_SCRAPE_PROTOCOL,
    kubernetes_sd_configs: [
      {
        ...kubernetesSdConnection(settings),
        // EndpointSlices (the Endpoints API is deprecated since Kubernetes 1.33).
        role: 'endpointslice',
        namespaces: { names: [namespace] },
        // Each job watches only the Services it scrapes and their EndpointSlices (which carry
        // their Service's labels), instead of every endpoint of the namespace filtered by
        // relabelling: SD cost then grows with what is scraped, not with jobs x endpoints.
        selectors: [
          { role: 'endpointslice', label: selector },
          { role: 'service', label: selector },
        ],
      },
    ],
    relabel_configs: [
      // Only the named port; other ports of the same Service belong to other jobs (or none).
      { source_labels: ['__meta_kubernetes_endpointslice_port_name'], regex: escapeRegex(endpoint.port), action: 'keep' },
      // Only slices whose Service was found by the selector (a slice not created by the
      // EndpointSlice controller for a selected Service has no Service metadata).
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

export function sortedRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => compareStrings(a, b)));
}
