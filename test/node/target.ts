// The demo target (target-service/, image built by hack/node/images.sh) as a workload of its own on the real node:
// the Namespace, Service and Deployment that the real-node test (test/node/real-node.int.test.ts) and its benchmark
// (bench/real-node.ts) put next to the release for their MonitoredServices to select (issue #12: one builder).

/** The demo target's image as hack/node/images.sh tags it (the package version); never pulled (no registry). */
export const TARGET_IMAGE = `vigil/target-service:${process.env.npm_package_version ?? '0.1.0'}`;

/** A container's securityContext that Pod Security `restricted` admits; the user is left to the pod or image. */
export const RESTRICTED_CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** The target's container securityContext: restricted, as nobody (65534; the image sets no numeric user). */
export const TARGET_SECURITY_CONTEXT = { ...RESTRICTED_CONTAINER_SECURITY, runAsUser: 65534 };

/** Labels of the target's pods, Deployment and Services: `app.kubernetes.io/name=<app>` (what a MonitoredService selects). */
export const targetLabels = (app: string): Record<string, string> => ({ 'app.kubernetes.io/name': app });

/**
 * A Service over the target's pods in `namespace`: labelled and selecting `targetLabels(app)`, port `metrics`
 * 8000 → the container's 8000. `name` defaults to `app`; `headless` sets `clusterIP: None` (a chart's DNS twin).
 */
export function targetService(namespace: string, app: string, opts: { name?: string; headless?: boolean } = {}): object {
  const labels = targetLabels(app);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: opts.name ?? app, namespace, labels },
    spec: { ...(opts.headless ? { clusterIP: 'None' } : {}), selector: labels, ports: [{ name: 'metrics', port: 8000, targetPort: 8000 }] },
  };
}

export interface TargetOptions {
  namespace: string;
  /** Name of the Service and the Deployment, value of `app.kubernetes.io/name`. */
  app: string;
  image: string;
  /** Default 1. */
  replicas?: number;
  /** The container's name; default `app`. */
  container?: string;
  /** Labels of the Namespace (e.g. Pod Security `restricted`); none by default. */
  namespaceLabels?: Record<string, string>;
}

/**
 * Namespace, Service (`targetService`) and Deployment of the demo target: `replicas` pods of `image`
 * (imagePullPolicy Never: imported into the node's containerd), container port `metrics` 8000,
 * `TARGET_SECURITY_CONTEXT`, no probe. Objects for one `kubectl apply` (JSON lines).
 */
export function targetObjects(o: TargetOptions): object[] {
  const labels = targetLabels(o.app);
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.namespace, ...(o.namespaceLabels ? { labels: o.namespaceLabels } : {}) } },
    targetService(o.namespace, o.app),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: o.app, namespace: o.namespace, labels },
      spec: {
        replicas: o.replicas ?? 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: o.container ?? o.app,
                image: o.image,
                imagePullPolicy: 'Never',
                ports: [{ name: 'metrics', containerPort: 8000 }],
                securityContext: TARGET_SECURITY_CONTEXT,
              },
            ],
          },
        },
      },
    },
  ];
}
