// The Vigil app: maps the values (cdk8s/values.ts) onto the component constructs. Synthesized with
// concrete values it gives the manifests of one profile; in helm mode it gives the chart's templates.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Chart } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { getPath, RenderContext, type Flag, type RenderMode } from './context.js';
import type { VigilValues } from './values.js';
import type { ImageRef, Resources, Scheduling, ServiceExposure } from './components/common.js';
import { Prometheus, PROMETHEUS_GENERATED_DIR, PROMETHEUS_PORT } from './components/prometheus.js';
import { Alertmanager, alertmanagerTargets } from './components/alertmanager.js';
import { MailCatcher, MAIL_CATCHER_CA } from './components/mail-catcher.js';
import { Operator, OPERATOR_NAME, OPERATOR_PORT } from './components/operator.js';
import { DemoTarget } from './components/demo-target.js';
import { HelmTest } from './components/helm-test.js';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** crds/ as generated from the zod schema; VIGIL_CRD_DIR overrides it (tests of the generator itself). */
export const CRD_DIR = process.env.VIGIL_CRD_DIR ?? join(REPO_ROOT, 'crds');
/** Namespace of the concrete renderings (and of `make kind-up`). */
export const DEFAULT_NAMESPACE = 'vigil-system';

export type KubeObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } };

function imageRef(ctx: RenderContext, path: string): ImageRef {
  return { repository: ctx.value(`${path}.repository`), tag: ctx.value(`${path}.tag`), pullPolicy: ctx.value(`${path}.pullPolicy`) };
}

function exposure(ctx: RenderContext, path: string): ServiceExposure {
  const concrete = getPath(ctx.values, `${path}.service`) as { type: string; nodePort: number | null };
  return {
    type: ctx.value(`${path}.service.type`),
    nodePort: ctx.value(`${path}.service.nodePort`),
    fixedNodePort: {
      expr: `and (eq .Values.${path}.service.type "NodePort") .Values.${path}.service.nodePort`,
      value: concrete.type === 'NodePort' && concrete.nodePort !== null,
    },
  };
}

/** GlobalSettings (operator/render/types.ts) the operator reads, without SMTP credentials. */
export function operatorSettings(ctx: RenderContext): Record<string, unknown> {
  const v = <T>(path: string) => ctx.value<T>(path);
  const v0 = ctx.values;
  return {
    profile: v('profile'),
    scrapeInterval: v('scrapeInterval'),
    evaluationInterval: v('evaluationInterval'),
    smtp: ctx.choose(
      ctx.flag('mailCatcher.enabled'),
      // The in-cluster catcher: implicit TLS on 465 through stunnel, its install-time certificate trusted.
      // hello "" is left out of alertmanager.yml by the renderer: Alertmanager's own default.
      { smarthost: MAIL_CATCHER_CA.smarthost, from: v('smtp.from'), hello: v('smtp.hello'), requireTls: false, tlsCaFile: MAIL_CATCHER_CA.file, tlsServerName: MAIL_CATCHER_CA.serverName },
      { smarthost: v('smtp.smarthost'), from: v('smtp.from'), hello: v('smtp.hello'), requireTls: v('smtp.requireTls'), tlsInsecureSkipVerify: v('smtp.insecureSkipVerify') },
    ),
    defaultRecipients: v('smtp.defaultRecipients'),
    alertmanagerTargets: alertmanagerTargets(ctx, v0.alertmanager.replicas),
    prometheusUrl: v('prometheus.externalUrl'),
    alertmanagerUrl: v('alertmanager.externalUrl'),
    rulesDir: PROMETHEUS_GENERATED_DIR,
    selfScrapeJobs: [
      { job_name: 'prometheus', static_configs: [{ targets: [`localhost:${PROMETHEUS_PORT}`] }] },
      {
        job_name: 'vigil-operator',
        kubernetes_sd_configs: [
          { role: 'pod', namespaces: { names: [ctx.namespace] }, selectors: [{ role: 'pod', label: `app.kubernetes.io/name=${OPERATOR_NAME}` }] },
        ],
        relabel_configs: [
          { source_labels: ['__meta_kubernetes_pod_container_port_number'], regex: String(OPERATOR_PORT), action: 'keep' },
          { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
          { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
        ],
      },
    ],
    externalLabels: { cluster: v('clusterName') },
  };
}

export function buildApp(ctx: RenderContext): Chart {
  const app = new App();
  const chart = new Chart(app, 'vigil');
  const vals = ctx.values;
  const scheduling: Scheduling = { nodeSelector: ctx.value('nodeSelector'), tolerations: ctx.value('tolerations') };
  const res = (path: string) => ctx.value<Resources>(path);
  const operatorImage = imageRef(ctx, 'operator.image');
  const mailCatcherOn = ctx.flag('mailCatcher.enabled');

  new Operator(chart, 'operator', {
    ctx,
    image: operatorImage,
    replicas: ctx.value('operator.replicas'),
    watchNamespaces: ctx.expr('join "," .Values.operator.watchNamespaces', vals.operator.watchNamespaces.join(',')),
    smtpSecret: ctx.value('smtp.credentialsSecret'),
    hasSmtpSecret: ctx.flag('smtp.credentialsSecret'),
    logLevel: ctx.value('operator.logLevel'),
    settings: operatorSettings(ctx),
    resources: res('operator.resources'),
    scheduling,
  });

  new Prometheus(chart, 'prometheus', {
    ctx,
    image: imageRef(ctx, 'prometheus.image'),
    syncImage: operatorImage,
    retention: ctx.value('prometheus.retention'),
    externalUrl: ctx.value('prometheus.externalUrl'),
    persistence: {
      enabled: ctx.flag('prometheus.persistence.enabled'),
      size: ctx.value('prometheus.persistence.size'),
      storageClassName: ctx.value('prometheus.persistence.storageClassName'),
      hasStorageClass: ctx.flag('prometheus.persistence.storageClassName'),
    },
    service: exposure(ctx, 'prometheus'),
    resources: res('prometheus.resources'),
    syncResources: res('sync.resources'),
    scheduling,
    logLevel: ctx.value('operator.logLevel'),
  });

  const clustered: Flag = { expr: 'gt (int .Values.alertmanager.replicas) 1', value: vals.alertmanager.replicas > 1 };
  new Alertmanager(chart, 'alertmanager', {
    ctx,
    image: imageRef(ctx, 'alertmanager.image'),
    syncImage: operatorImage,
    replicas: ctx.value('alertmanager.replicas'),
    clustered,
    externalUrl: ctx.value('alertmanager.externalUrl'),
    service: exposure(ctx, 'alertmanager'),
    resources: res('alertmanager.resources'),
    syncResources: res('sync.resources'),
    scheduling,
    extraVolume: { volume: MAIL_CATCHER_CA.volume, mount: MAIL_CATCHER_CA.mount },
    extraVolumeEnabled: mailCatcherOn,
    logLevel: ctx.value('operator.logLevel'),
  });

  ctx.when(mailCatcherOn, () => {
    new MailCatcher(chart, 'mail-catcher', {
      ctx,
      isMailpit: { expr: 'eq .Values.mailCatcher.kind "mailpit"', value: vals.mailCatcher.kind === 'mailpit' },
      mailpitImage: imageRef(ctx, 'mailCatcher.mailpitImage'),
      mailhogImage: imageRef(ctx, 'mailCatcher.mailhogImage'),
      stunnelImage: imageRef(ctx, 'mailCatcher.stunnelImage'),
      service: exposure(ctx, 'mailCatcher'),
      resources: res('mailCatcher.resources'),
      scheduling,
    });
  });

  ctx.when(ctx.flag('demoTarget.enabled'), () => {
    new DemoTarget(chart, 'demo-target', { ctx, image: imageRef(ctx, 'demoTarget.image'), resources: res('demoTarget.resources'), scheduling });
  });

  new HelmTest(chart, 'helm-test', { ctx, image: operatorImage, resources: res('sync.resources'), scheduling });
  return chart;
}

/** The CRDs from crds/ exactly as generated from the zod schema. */
export function crdObjects(dir = CRD_DIR): KubeObject[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch {
    files = [];
  }
  if (files.length === 0) throw new Error(`no CRD manifests in ${dir}: run \`make generate\``);
  return files.flatMap((f) =>
    parseAllDocuments(readFileSync(join(dir, f), 'utf8'))
      .map((d) => d.toJS() as KubeObject | null)
      .filter((o): o is KubeObject => o !== null),
  );
}

export interface Synthesis {
  objects: KubeObject[];
  ctx: RenderContext;
}

/** All objects of one rendering. Concrete renderings include the CRDs; the chart ships them in crds/. */
export function synthesize(mode: RenderMode, values: VigilValues, namespace = DEFAULT_NAMESPACE): Synthesis {
  const ctx = new RenderContext(mode, values, namespace);
  const chart = buildApp(ctx);
  const objects = chart.toJson() as KubeObject[];
  return { objects: mode === 'concrete' ? [...crdObjects(), ...objects] : objects, ctx };
}
