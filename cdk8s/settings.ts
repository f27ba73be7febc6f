// The GlobalSettings file (operator/render/types.ts) the chart gives the operator, without SMTP credentials.
import { EXTERNAL_CLUSTER_LABEL, REPLICA_EXTERNAL_LABEL, SCRAPE_ERROR_INFO_METRIC, SELF_SCRAPE_JOBS } from '../operator/render/names.js';
import type { RenderContext } from './context.js';
import { PROMETHEUS_GENERATED_DIR, PROMETHEUS_PORT } from './components/prometheus.js';
import { alertmanagerTargets } from './components/alertmanager.js';
import { MAIL_CATCHER_CA } from './components/mail-catcher.js';
import { OPERATOR_NAME, OPERATOR_PORT } from './components/operator.js';
import { alertmanagerReplicas } from './values.js';

/** GlobalSettings (operator/render/types.ts) the operator reads, without SMTP credentials. */
export function operatorSettings(ctx: RenderContext, routePrefixes: { prometheus: string; alertmanager: string }): Record<string, unknown> {
  const v = <T>(path: string) => ctx.value<T>(path);
  const v0 = ctx.values;
  return {
    profile: v('profile'),
    scrapeInterval: v('scrapeInterval'),
    evaluationInterval: v('evaluationInterval'),
    smtp: ctx.choose(
      ctx.flag('mailCatcher.enabled'),
      // The in-cluster catcher: implicit TLS on 465 through stunnel (forced, not inferred from the port),
      // its install-time certificate trusted.
      // hello "" is left out of alertmanager.yml by the renderer: Alertmanager's own default.
      {
        smarthost: MAIL_CATCHER_CA.smarthost,
        from: v('smtp.from'),
        hello: v('smtp.hello'),
        requireTls: false,
        forceImplicitTls: true,
        tlsCaFile: MAIL_CATCHER_CA.file,
        tlsServerName: MAIL_CATCHER_CA.serverName,
      },
      {
        smarthost: v('smtp.smarthost'),
        from: v('smtp.from'),
        hello: v('smtp.hello'),
        requireTls: v('smtp.requireTls'),
        forceImplicitTls: v('smtp.forceImplicitTls'),
        tlsInsecureSkipVerify: v('smtp.insecureSkipVerify'),
      },
    ),
    defaultRecipients: v('smtp.defaultRecipients'),
    alertmanagerTargets: alertmanagerTargets(ctx, alertmanagerReplicas(v0)),
    alertmanagerPathPrefix: routePrefixes.alertmanager,
    prometheusUrl: v('prometheus.externalUrl'),
    alertmanagerUrl: v('alertmanager.externalUrl'),
    rulesDir: PROMETHEUS_GENERATED_DIR,
    selfScrapeJobs: [
      { job_name: SELF_SCRAPE_JOBS.prometheus, metrics_path: `${routePrefixes.prometheus}/metrics`, static_configs: [{ targets: [`localhost:${PROMETHEUS_PORT}`] }] },
      // Every replica: alertmanager_notifications_failed_total{integration="email",receiver_name=...} is per pod.
      { job_name: SELF_SCRAPE_JOBS.alertmanager, metrics_path: `${routePrefixes.alertmanager}/metrics`, static_configs: [{ targets: alertmanagerTargets(ctx, alertmanagerReplicas(v0)) }] },
      {
        job_name: SELF_SCRAPE_JOBS.operator,
        kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [ctx.namespace] }, selectors: [{ role: 'pod', label: `app.kubernetes.io/name=${OPERATOR_NAME}` }] }],
        relabel_configs: [
          { source_labels: ['__meta_kubernetes_pod_container_port_number'], regex: String(OPERATOR_PORT), action: 'keep' },
          { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
          { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
        ],
        // Every service's scrape errors (targets' URLs included) are for the down alerts' emails, not
        // for the rules of the teams in the install's namespace: without a namespace label no tenant rule reads them.
        metric_relabel_configs: [{ source_labels: ['__name__'], regex: SCRAPE_ERROR_INFO_METRIC, target_label: 'namespace', replacement: '' }],
      },
    ],
    watchdog: { webhookUrl: v('watchdog.webhookUrl'), interval: v('watchdog.interval') },
    externalLabels: { [EXTERNAL_CLUSTER_LABEL]: v('clusterName') },
    // Every install, one replica too: scaling prometheus.replicas up or down never renames the series, and
    // Prometheus takes the value from the pod's POD_NAME (components/prometheus.ts) when it loads the config.
    replicaExternalLabel: { name: REPLICA_EXTERNAL_LABEL, value: '${POD_NAME}' },
    remoteWrite: v('prometheus.remoteWrite'),
    scrapeLimits: v('scrapeLimits'),
  };
}
