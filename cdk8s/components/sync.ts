// The config sync sidecar (`vigil sync`) next to Prometheus and Alertmanager, same image as the operator.
import { container, httpProbe, POD_IDENTITY_ENV, type ImageRef, type Json, type Resources } from './common.js';

export const SYNC_PORT = 8081;

/**
 * The sidecar container shared by Prometheus and Alertmanager (same image as the operator).
 * An ordinary container next to the server, not a native sidecar (init container with
 * restartPolicy Always, Kubernetes >= 1.29): starting first would not give the server its config
 * at start either, because nothing the sidecar serves says "files written" (its /readyz means a
 * confirmed reload, which needs the running server: as a startupProbe that would deadlock). The
 * bootstrap init container guarantees a config at start; the sidecar then writes the generated
 * files (atomically, whenever it gets them, so a server starting later reads them directly), waits
 * up to 30 s for --ready-url and reloads, retrying with backoff if the server is slower
 * (e.g. a long WAL replay). The chart thereby keeps working on Kubernetes 1.27 and 1.28.
 */
export function syncSidecar(p: {
  image: ImageRef;
  resources: Resources;
  source: ['--configmap' | '--secret', string];
  /** Named explicitly: the sidecar would otherwise guess it from the file names it receives. */
  server: 'prometheus' | 'alertmanager';
  dir: string;
  serverPort: number;
  /** The server's route prefix ('' at the root). */
  routePrefix: string;
  logLevel: string;
  /** The scrape-credentials Secret and the directory (own volume `scrape-credentials`) its files go to. */
  credentials?: { secret: string; dir: string };
  /** `--partitions`: the ConfigMap is the main object of a partitioned config (the operator's --config-partitions). */
  partitions?: boolean;
}): Json {
  return container({
    name: 'config-sync',
    image: p.image,
    args: [
      'sync',
      '--namespace=$(POD_NAMESPACE)',
      `${p.source[0]}=${p.source[1]}`,
      `--server=${p.server}`,
      `--dir=${p.dir}`,
      `--reload-url=http://127.0.0.1:${p.serverPort}${p.routePrefix}/-/reload`,
      `--ready-url=http://127.0.0.1:${p.serverPort}${p.routePrefix}/-/ready`,
      `--listen=0.0.0.0:${SYNC_PORT}`,
      `--log-level=${p.logLevel}`,
      ...(p.credentials ? [`--credentials-secret=${p.credentials.secret}`, `--credentials-dir=${p.credentials.dir}`] : []),
      ...(p.partitions ? ['--partitions'] : []),
    ],
    env: POD_IDENTITY_ENV,
    ports: [{ name: 'http-sync', containerPort: SYNC_PORT }],
    volumeMounts: [{ name: 'generated-config', mountPath: p.dir }, ...(p.credentials ? [{ name: 'scrape-credentials', mountPath: p.credentials.dir }] : [])],
    resources: p.resources,
    livenessProbe: httpProbe('/healthz', 'http-sync'),
  });
}
