// Pieces every Vigil workload shares: labels, the restricted security contexts, images, scheduling.
import type { Construct } from 'constructs';
import * as kplus from 'cdk8s-plus-27';
import { getPath, kubeObject, objectMetadata, type Flag, type ObjectMeta, type RenderContext } from '../context.js';

export interface ImageRef {
  /** The whole reference, [registry/]repository:tag (in helm mode one `vigil.image` include). */
  name: string;
  pullPolicy: string;
}

export interface Resources {
  requests: Record<string, string | number>;
  limits: Record<string, string | number>;
}

/**
 * What every pod of the release gets from the values: `podFields` spread into the pod spec
 * (imagePullSecrets, nodeSelector, affinity, tolerations, priorityClassName, each only when set),
 * `podAnnotations` merged into the pod template annotations of the long-running workloads.
 */
export interface Scheduling {
  podFields: Record<string, unknown>;
  /** The pod template's `annotations` field (or nothing) holding `fixed` plus the values' podAnnotations. */
  podAnnotations(fixed: Record<string, string>): Record<string, unknown>;
}

export type Json = Record<string, unknown>;

export function labels(component: string): Record<string, string> {
  return { 'app.kubernetes.io/name': component, 'app.kubernetes.io/part-of': 'vigil' };
}

/** Only the immutable identity: selectors must not change between releases. */
export function selectorLabels(component: string): Record<string, string> {
  return { 'app.kubernetes.io/name': component };
}

/** [registry/]repository:tag, the registry being the image's own, else global.imageRegistry (_helpers.tpl `vigil.image`). */
export function imageReference(image: { registry: string; repository: string; tag: string }, globalRegistry: string): string {
  const registry = image.registry || globalRegistry;
  return `${registry ? `${registry}/` : ''}${image.repository}:${image.tag}`;
}

/** Pod Security "restricted": non-root, seccomp RuntimeDefault; 65534 (nobody) owns the volumes. */
export const POD_SECURITY_CONTEXT: Json = {
  runAsNonRoot: true,
  runAsUser: 65534,
  runAsGroup: 65534,
  fsGroup: 65534,
  seccompProfile: { type: 'RuntimeDefault' },
};

export const CONTAINER_SECURITY_CONTEXT: Json = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

export interface ContainerSpec {
  name: string;
  image: ImageRef;
  args?: unknown[];
  command?: string[];
  env?: Json[];
  ports?: Json[];
  volumeMounts?: Json[];
  resources: Resources;
  readinessProbe?: Json;
  livenessProbe?: Json;
  startupProbe?: Json;
}

export function container(spec: ContainerSpec): Json {
  return {
    name: spec.name,
    image: spec.image.name,
    imagePullPolicy: spec.image.pullPolicy,
    ...(spec.command ? { command: spec.command } : {}),
    ...(spec.args ? { args: spec.args } : {}),
    ...(spec.env ? { env: spec.env } : {}),
    ...(spec.ports ? { ports: spec.ports } : {}),
    ...(spec.volumeMounts ? { volumeMounts: spec.volumeMounts } : {}),
    resources: spec.resources,
    ...(spec.readinessProbe ? { readinessProbe: spec.readinessProbe } : {}),
    ...(spec.livenessProbe ? { livenessProbe: spec.livenessProbe } : {}),
    ...(spec.startupProbe ? { startupProbe: spec.startupProbe } : {}),
    securityContext: CONTAINER_SECURITY_CONTEXT,
  };
}

export function podSpec(scheduling: Scheduling, spec: Json): Json {
  return { ...spec, securityContext: POD_SECURITY_CONTEXT, ...scheduling.podFields };
}

/** Pod template metadata of a workload: its labels, the fixed annotations and the values' podAnnotations. */
export function podMetadata(scheduling: Scheduling, component: string, annotations: Record<string, string> = {}): Json {
  return { labels: labels(component), ...scheduling.podAnnotations(annotations) };
}

/** The downward API env every Vigil process uses to find its namespace and identity. */
export const POD_IDENTITY_ENV: Json[] = [
  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
];

/**
 * The route prefix a server serves under: the path of its external URL without trailing slashes, '' at
 * the root. Prometheus and Alertmanager derive --web.route-prefix from --web.external-url the same way,
 * so every URL the chart builds for them (probes, reloads, polls, helm test) starts with it.
 */
export function routePrefix(ctx: RenderContext, externalUrlPath: string): string {
  const url = getPath(ctx.values, externalUrlPath) as string;
  const concrete = url ? new URL(url).pathname.replace(/\/+$/, '') : '';
  return ctx.expr(`include "vigil.routePrefix" .Values.${externalUrlPath}`, concrete);
}

export function httpProbe(path: string, port: string | number, periodSeconds = 10, failureThreshold = 3): Json {
  return { httpGet: { path, port }, periodSeconds, failureThreshold, timeoutSeconds: 3 };
}

/** How a UI Service is exposed; `fixedNodePort` holds when a NodePort Service asks for a fixed port. */
export interface ServiceExposure {
  type: string;
  nodePort: number | null;
  fixedNodePort: Flag;
}

/** A Service whose `uiPort` gets the fixed nodePort of the exposure when there is one. */
export function exposedService(scope: Construct, ctx: RenderContext, id: string, name: string, component: string, exposure: ServiceExposure, ports: Json[], uiPort: string): void {
  const withNodePort = ports.map((p) => (p.name === uiPort ? { ...p, ...ctx.optionalFields(exposure.fixedNodePort, { nodePort: exposure.nodePort }) } : p));
  kubeObject(
    scope,
    ctx,
    id,
    'v1',
    'Service',
    { name, labels: labels(component) },
    {
      spec: {
        type: exposure.type,
        selector: selectorLabels(component),
        ports: withNodePort,
      },
    },
  );
}

/**
 * A ConfigMap of files (key = file name). cdk8s-plus checks the keys and passes the values through
 * as they are, so file contents holding Helm tokens (the operator settings) come out unchanged.
 * Not immutable: `helm upgrade` rewrites these ConfigMaps when the settings or the bootstrap configs
 * change, which Kubernetes refuses for an immutable one.
 */
export function configMap(scope: Construct, ctx: RenderContext, id: string, meta: ObjectMeta, files: Record<string, string>): kplus.ConfigMap {
  return new kplus.ConfigMap(scope, id, { metadata: objectMetadata(ctx, meta), data: files, immutable: false });
}
