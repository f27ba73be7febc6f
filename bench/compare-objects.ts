// The objects of `make bench-compare` (bench/compare.ts): N services with one small target each, and the
// same monitoring asked of Vigil (one MonitoredService per service) and of prometheus-operator (one
// ServiceMonitor + one PrometheusRule + one AlertmanagerConfig per service, plus one Prometheus and one
// Alertmanager custom resource). Pure builders: no I/O.
//
// Equivalence, as far as prometheus-operator's resources can express it:
// - scrape: the Service's port "metrics", selected by the label app=<name> in the service's namespace,
//   every SCRAPE_INTERVAL, discovered through EndpointSlices (Prometheus CR serviceDiscoveryRole).
// - rules: Vigil renders, per MonitoredService, ServiceDown, ServiceTargetDown and the user's rule
//   (here HighErrorRate, test/operator/helpers.ts monitoredService) plus a recording rule that its
//   ServiceDown reads. The PrometheusRule carries the same three alerts with the same `for`, the same
//   severities and the user's expression with the namespace matcher Vigil injects; ServiceDown is the
//   part of Vigil's expression PromQL can say without Vigil's recording rule (no healthy target), and
//   selects by namespace/service instead of by Vigil's job name.
// - email: one receiver per service sending to <name>-team@example.com, routed by namespace (the
//   operator adds that matcher to every AlertmanagerConfig route) and service.
import { parse, stringify } from 'yaml';
import { enforceNamespace } from '../operator/promql/enforce-namespace.js';
import { monitoredService } from '../test/operator/helpers.js';
import { pointKubernetesSdAt } from './discovery/workload.js';

type Obj = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } };

/** Scrape interval of every job, for both operators (Vigil: settings.scrapeInterval; ServiceMonitor: endpoints[].interval). */
export const SCRAPE_INTERVAL = '5s';
/** Rule evaluation interval (Vigil: settings.evaluationInterval; Prometheus CR: evaluationInterval). */
export const EVALUATION_INTERVAL = '5s';
/** Label on every bench object: which size of the run it belongs to (Vigil's --selector scopes by it). */
export const SIZE_LABEL = 'bench.vigil.dev/size';
/** Name of the Prometheus and Alertmanager custom resources (the Secrets are prometheus-<name>, alertmanager-<name>-generated). */
export const PO_NAME = 'bench';

export interface Target {
  namespace: string;
  name: string;
  /** EndpointSlice FQDN; Prometheus resolves it to 127.0.0.1 through its private hosts file. */
  host: string;
}

export interface CompareSet {
  size: number;
  namespaces: string[];
  targets: Target[];
}

/** `size` services spread round-robin over `namespaceCount` namespaces c<size>-<k>. */
export function compareSet(size: number, namespaceCount: number): CompareSet {
  const namespaces = Array.from({ length: Math.min(namespaceCount, size) }, (_, k) => `c${size}-${String(k).padStart(2, '0')}`);
  const targets = Array.from({ length: size }, (_, i) => {
    const namespace = namespaces[i % namespaces.length] as string;
    const name = `svc-${String(i).padStart(4, '0')}`;
    return { namespace, name, host: `${name}.${namespace}.bench.localhost` };
  });
  return { size, namespaces, targets };
}

/** The Service (no selector, as no kubelet runs pods) and its FQDN EndpointSlice pointing at `port` on the target host. */
export function targetObjects(t: Target, port: number): Obj[] {
  const labels = { app: t.name };
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: t.name, namespace: t.namespace, labels }, spec: { ports: [{ name: 'metrics', port, targetPort: port, protocol: 'TCP' }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${t.name}-bench`, namespace: t.namespace, labels: { ...labels, 'kubernetes.io/service-name': t.name, 'endpointslice.kubernetes.io/managed-by': 'vigil-bench' } },
      addressType: 'FQDN',
      endpoints: [{ addresses: [t.host], conditions: { ready: true } }],
      ports: [{ name: 'metrics', port, protocol: 'TCP' }],
    },
  ];
}

/** Vigil: the MonitoredService of the integration tests, labelled with the run size. */
export function vigilObjects(t: Target, size: number): Obj {
  const ms = monitoredService(t.namespace, t.name) as Obj;
  return { ...ms, metadata: { ...ms.metadata, labels: { [SIZE_LABEL]: String(size) } } };
}

/** The user's rule of monitoredService() (its one custom rule), with the namespace matcher Vigil injects into every selector. */
function userRule(t: Target): { alert: string; expr: string; for: string } {
  const rule = (monitoredService(t.namespace, t.name) as { spec: { rules: Array<{ name: string; expr: string; for: string }> } }).spec.rules[0]!;
  return { alert: rule.name, expr: enforceNamespace(rule.expr, t.namespace), for: rule.for };
}

/** prometheus-operator: ServiceMonitor, PrometheusRule and AlertmanagerConfig of one service. */
export function prometheusOperatorObjects(t: Target, size: number, smtp: { smarthost: string; from: string }): Obj[] {
  const metadata = { name: t.name, namespace: t.namespace, labels: { [SIZE_LABEL]: String(size) } };
  const sel = `namespace="${t.namespace}",service="${t.name}"`;
  const labels = { namespace: t.namespace, service: t.name };
  return [
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata,
      spec: { selector: { matchLabels: { app: t.name } }, endpoints: [{ port: 'metrics', interval: SCRAPE_INTERVAL, path: '/metrics', scheme: 'http' }] },
    },
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata,
      spec: {
        groups: [
          {
            name: `${t.namespace}/${t.name}`,
            rules: [
              {
                alert: 'ServiceDown',
                expr: `(count(up{${sel}} == 1) or vector(0)) == 0`,
                for: '1m',
                labels: { ...labels, severity: 'critical' },
                annotations: { summary: `${t.namespace}/${t.name} is down: no healthy scrape target` },
              },
              {
                alert: 'ServiceTargetDown',
                expr: `(up{${sel}} == 0) and (max_over_time(up{${sel}}[3m10s]) == 0) and on() (count(up{${sel}} == 1) > 0)`,
                for: '1m',
                labels: { ...labels, severity: 'warning' },
                annotations: { summary: `${t.namespace}/${t.name}: target {{ $labels.instance }} is down` },
              },
              { ...userRule(t), labels: { ...labels, severity: 'warning' }, annotations: { summary: `${userRule(t).alert} on ${t.namespace}/${t.name}` } },
            ],
          },
        ],
      },
    },
    {
      apiVersion: 'monitoring.coreos.com/v1alpha1',
      kind: 'AlertmanagerConfig',
      metadata,
      spec: {
        route: { receiver: 'email', groupBy: ['alertname', 'namespace', 'service'], matchers: [{ name: 'service', value: t.name, matchType: '=' }] },
        receivers: [{ name: 'email', emailConfigs: [{ to: `${t.name}-team@example.com`, sendResolved: true, smarthost: smtp.smarthost, from: smtp.from, requireTLS: false }] }],
      },
    },
  ];
}

/**
 * The Prometheus and Alertmanager custom resources: select every ServiceMonitor, PrometheusRule and
 * AlertmanagerConfig in the namespaces the operator watches (its --namespaces flag scopes a run),
 * discovery through EndpointSlices, the Prometheus version Vigil runs (so the operator generates for it).
 */
export function prometheusOperatorInstances(namespace: string, prometheusVersion: string): Obj[] {
  const all = {};
  return [
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'Prometheus',
      metadata: { name: PO_NAME, namespace },
      spec: {
        version: `v${prometheusVersion}`,
        replicas: 1,
        serviceDiscoveryRole: 'EndpointSlice',
        scrapeInterval: SCRAPE_INTERVAL,
        evaluationInterval: EVALUATION_INTERVAL,
        serviceMonitorSelector: all,
        serviceMonitorNamespaceSelector: all,
        ruleSelector: all,
        ruleNamespaceSelector: all,
        alerting: { alertmanagers: [{ namespace, name: 'alertmanager-operated', port: 'web' }] },
      },
    },
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'Alertmanager',
      metadata: { name: PO_NAME, namespace },
      spec: { replicas: 1, alertmanagerConfigSelector: all, alertmanagerConfigNamespaceSelector: all },
    },
  ];
}

/**
 * prometheus-operator's generated Prometheus config, made runnable outside a pod: `$(SHARD)` and
 * `$(POD_NAME)` expanded as its prometheus-config-reloader expands them from the pod's environment
 * (shard `shard`, default 0, and that shard's first pod); every scrape job's kubernetes_sd_configs block pointed at the
 * benchmark's API server with one kubeconfig (bench/discovery/workload.ts pointKubernetesSdAt, as the
 * discovery harness does), the Alertmanager discovery blocks too; the rule files' mount path
 * (/etc/prometheus/rules/) becomes `rulesDir`. Nothing else changes.
 */
export function runnablePrometheusOperatorConfig(yamlText: string, kubeconfigFile: string, rulesDir: string, shard = 0): string {
  // Its StatefulSet of shard i > 0 is prometheus-<name>-shard-<i>, whose first pod is ...-0.
  const pod = shard === 0 ? `prometheus-${PO_NAME}-0` : `prometheus-${PO_NAME}-shard-${shard}-0`;
  const expanded = yamlText.replaceAll('$(SHARD)', String(shard)).replaceAll('$(POD_NAME)', pod);
  const config = parse(pointKubernetesSdAt(expanded, { kubeconfigFile })) as { rule_files?: string[]; alerting?: { alertmanagers?: Array<{ kubernetes_sd_configs?: object[] }> } };
  for (const am of config.alerting?.alertmanagers ?? []) if (am.kubernetes_sd_configs) am.kubernetes_sd_configs = am.kubernetes_sd_configs.map((b) => ({ ...b, kubeconfig_file: kubeconfigFile }));
  if (config.rule_files) config.rule_files = config.rule_files.map((f) => f.replace(/^\/etc\/prometheus\/rules\//, `${rulesDir}/`));
  return stringify(config, { lineWidth: 0 });
}
