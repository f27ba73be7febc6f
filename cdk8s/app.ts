// The Vigil app: assembles the component constructs from the values (cdk8s/values.ts, where every
// default lives). Synthesized (synth.ts) with concrete values it gives the manifests of one profile;
// in helm mode it gives the chart's templates.
import { App, Chart } from 'cdk8s';
import { getPath, type Count, type Flag, type RenderContext } from './context.js';
import { imageReference, routePrefix, type ImageRef, type Resources, type Scheduling, type ServiceExposure } from './components/common.js';
import { Prometheus } from './components/prometheus.js';
import { ThanosQuery } from './components/thanos.js';
import { Alertmanager } from './components/alertmanager.js';
import { MailCatcher, MAIL_CATCHER_CA } from './components/mail-catcher.js';
import { Operator } from './components/operator.js';
import { DemoTarget } from './components/demo-target.js';
import { HelmTest } from './components/helm-test.js';
import { UninstallHook } from './components/uninstall-hook.js';
import { operatorSettings } from './settings.js';
import { ALERTMANAGER_REPLICAS_GO, alertmanagerReplicas } from './values.js';

function imageRef(ctx: RenderContext, path: string): ImageRef {
  const concrete = imageReference(getPath(ctx.values, path) as { registry: string; repository: string; tag: string }, ctx.values.global.imageRegistry);
  return { name: ctx.raw(`{{ include "vigil.image" (list $ .Values.${path}) | quote }}`, concrete), pullPolicy: ctx.value(`${path}.pullPolicy`) };
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

export function buildApp(ctx: RenderContext): Chart {
  const app = new App();
  const chart = new Chart(app, 'vigil');
  const vals = ctx.values;
  const scheduling: Scheduling = {
    podFields: {
      ...ctx.fieldFromValues('imagePullSecrets', 'imagePullSecrets'),
      ...ctx.fieldFromValues('nodeSelector', 'nodeSelector'),
      ...ctx.fieldFromValues('affinity', 'affinity'),
      ...ctx.fieldFromValues('tolerations', 'tolerations'),
      ...ctx.fieldFromValues('priorityClassName', 'priorityClassName'),
    },
    podAnnotations: (fixed) => (Object.keys(fixed).length === 0 ? ctx.fieldFromValues('annotations', 'podAnnotations') : { annotations: { ...fixed, ...ctx.fieldsFromValues('podAnnotations') } }),
  };
  const res = (path: string) => ctx.value<Resources>(path);
  const operatorImage = imageRef(ctx, 'operator.image');
  const mailCatcherOn = ctx.flag('mailCatcher.enabled');
  const prometheusRoutePrefix = routePrefix(ctx, 'prometheus.externalUrl');
  const alertmanagerRoutePrefix = routePrefix(ctx, 'alertmanager.externalUrl');
  const prometheusShards: Count = { expr: '.Values.prometheus.shards', value: vals.prometheus.shards };

  new Operator(chart, 'operator', {
    ctx,
    image: operatorImage,
    replicas: ctx.value('operator.replicas'),
    watchNamespaces: ctx.expr('join "," .Values.operator.watchNamespaces', vals.operator.watchNamespaces.join(',')),
    selector: ctx.value('operator.selector'),
    smtpSecret: ctx.value('smtp.credentialsSecret'),
    hasSmtpSecret: ctx.flag('smtp.credentialsSecret'),
    logLevel: ctx.value('operator.logLevel'),
    extraArgs: ctx.itemsFromValues('operator.extraArgs'),
    settings: operatorSettings(ctx, { prometheus: prometheusRoutePrefix, alertmanager: alertmanagerRoutePrefix }),
    prometheusRoutePrefix,
    alertmanagerRoutePrefix,
    prometheusReplicas: ctx.value('prometheus.replicas'),
    alertmanagerReplicas: ctx.expr(ALERTMANAGER_REPLICAS_GO, alertmanagerReplicas(vals)),
    prometheusShards,
    resources: res('operator.resources'),
    scheduling,
  });

  new Prometheus(chart, 'prometheus', {
    ctx,
    image: imageRef(ctx, 'prometheus.image'),
    syncImage: operatorImage,
    retention: ctx.value('prometheus.retention'),
    externalUrl: ctx.value('prometheus.externalUrl'),
    routePrefix: prometheusRoutePrefix,
    extraArgs: ctx.itemsFromValues('prometheus.extraArgs'),
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
    replicas: ctx.value('prometheus.replicas'),
    shards: prometheusShards,
    thanos: { enabled: ctx.flag('thanos.enabled'), image: imageRef(ctx, 'thanos.image'), resources: res('thanos.sidecarResources') },
  });

  ctx.when(ctx.flag('thanos.enabled'), () => {
    new ThanosQuery(chart, 'thanos-query', {
      ctx,
      image: imageRef(ctx, 'thanos.image'),
      replicas: ctx.value('thanos.query.replicas'),
      service: exposure(ctx, 'thanos.query'),
      resources: res('thanos.query.resources'),
      extraArgs: ctx.itemsFromValues('thanos.query.extraArgs'),
      scheduling,
      logLevel: ctx.value('operator.logLevel'),
      shards: prometheusShards,
    });
  });

  const clustered: Flag = { expr: `gt ${ALERTMANAGER_REPLICAS_GO} 1`, value: alertmanagerReplicas(vals) > 1 };
  new Alertmanager(chart, 'alertmanager', {
    ctx,
    image: imageRef(ctx, 'alertmanager.image'),
    syncImage: operatorImage,
    replicas: ctx.expr(ALERTMANAGER_REPLICAS_GO, alertmanagerReplicas(vals)),
    maintenanceInterval: ctx.value('alertmanager.maintenanceInterval'),
    persistence: {
      enabled: ctx.flag('alertmanager.persistence.enabled'),
      size: ctx.value('alertmanager.persistence.size'),
      storageClassName: ctx.value('alertmanager.persistence.storageClassName'),
      hasStorageClass: ctx.flag('alertmanager.persistence.storageClassName'),
    },
    clustered,
    // The values' affinity, when set, replaces it (one affinity field per pod).
    spreadReplicas: { expr: `and (gt ${ALERTMANAGER_REPLICAS_GO} 1) (empty .Values.affinity)`, value: alertmanagerReplicas(vals) > 1 && Object.keys(vals.affinity).length === 0 },
    externalUrl: ctx.value('alertmanager.externalUrl'),
    routePrefix: alertmanagerRoutePrefix,
    extraArgs: ctx.itemsFromValues('alertmanager.extraArgs'),
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

  new UninstallHook(chart, 'uninstall-hook', {
    ctx,
    image: operatorImage,
    watchNamespaces: ctx.expr('join "," .Values.operator.watchNamespaces', vals.operator.watchNamespaces.join(',')),
    logLevel: ctx.value('operator.logLevel'),
    resources: res('sync.resources'),
    scheduling,
  });

  new HelmTest(chart, 'helm-test', { ctx, image: operatorImage, resources: res('sync.resources'), scheduling, prometheusRoutePrefix, alertmanagerRoutePrefix });
  return chart;
}
