// Thin helpers over @kubernetes/client-node 2.x: loading a kubeconfig, the typed API clients
// the operator uses, and error classification. Nothing here knows about MonitoredServices.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { ApiException, CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * --kubeconfig wins; else in-cluster (service account token mounted); else $KUBECONFIG or
 * ~/.kube/config (loadFromDefault covers both, and in-cluster too, but we want the explicit order).
 */
export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else if (process.env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error('no Kubernetes cluster configured: pass --kubeconfig, set KUBECONFIG, or run in a pod');
  return shareConnections(kc);
}

/** The part of an undici Dispatcher used here. */
interface ClosableDispatcher {
  close(): Promise<void>;
}
type DispatcherFactory = (cluster: unknown, agentOptions: Record<string, unknown>) => ClosableDispatcher | undefined;

const sharing = new WeakSet<KubeConfig>();

/** Identifies the TLS setup a dispatcher was built for: server, proxy and every TLS option (key material hashed). */
function dispatcherKey(cluster: unknown, agentOptions: Record<string, unknown>): string {
  const c = (cluster ?? {}) as { server?: unknown; proxyUrl?: unknown; skipTLSVerify?: unknown; tlsServerName?: unknown };
  const hash = createHash('sha256');
  hash.update(JSON.stringify([c.server, c.proxyUrl, c.skipTLSVerify, c.tlsServerName]));
  for (const name of Object.keys(agentOptions).sort()) {
    const value = agentOptions[name];
    if (value === undefined) continue;
    hash.update(`\0${name}=`);
    if (Buffer.isBuffer(value) || typeof value === 'string') hash.update(value);
    else hash.update(JSON.stringify(value) ?? String(value));
  }
  return hash.digest('hex');
}

/**
 * client-node 2.0.1 builds a new undici Agent for every API request and every watch
 * (KubeConfig.applySecurityAuthentication → createDispatcher), so every request opened its own TLS
 * connection, left it idle until undici's keep-alive timeout, and paid a TLS handshake on both
 * sides: after a burst of 2,000 MonitoredServices that is thousands of handshakes, hundreds of
 * open sockets and most of the operator's CPU. This makes one KubeConfig reuse one Agent (one
 * connection pool) for as long as the TLS setup it was built for stays the same; a change (rotated
 * client certificate or CA, read again from disk by client-node on each request) builds a new one
 * and closes the old one once its requests are done. Authorization headers (tokens that rotate)
 * are still computed per request by client-node. Idempotent.
 */
export function shareConnections(kc: KubeConfig): KubeConfig {
  if (sharing.has(kc)) return kc;
  const target = kc as unknown as { createDispatcher?: DispatcherFactory };
  const build = target.createDispatcher;
  if (typeof build !== 'function') return kc; // a client-node without this hook: nothing to share
  let current: { key: string; dispatcher: ClosableDispatcher | undefined } | undefined;
  target.createDispatcher = (cluster, agentOptions) => {
    const key = dispatcherKey(cluster, agentOptions);
    if (current?.key === key) return current.dispatcher;
    const previous = current?.dispatcher;
    current = { key, dispatcher: build.call(kc, cluster, agentOptions) };
    // close() lets requests in flight (a watch) finish; it only stops new ones.
    if (previous) void previous.close().catch(() => undefined);
    return current.dispatcher;
  };
  sharing.add(kc);
  return kc;
}

export interface KubeClients {
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  coordination: CoordinationV1Api;
}

export function makeClients(kc: KubeConfig): KubeClients {
  shareConnections(kc);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    coordination: kc.makeApiClient(CoordinationV1Api),
  };
}

/** Request options making a patch call send a JSON merge patch (client-node defaults to JSON patch). */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** HTTP status of an API error (ApiException, watch errors), or undefined for network errors. */
export function statusCodeOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const e = err as { code?: unknown; statusCode?: unknown } | undefined;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  if (typeof e?.code === 'number') return e.code;
  return undefined;
}

export const isNotFound = (err: unknown): boolean => statusCodeOf(err) === 404;
export const isConflict = (err: unknown): boolean => statusCodeOf(err) === 409;
export const isAlreadyExists = (err: unknown): boolean => statusCodeOf(err) === 409;

/** A one-line description of an API error for logs: status code and the Status message, never the request. */
export function describeApiError(err: unknown): string {
  if (err instanceof ApiException) {
    let message = '';
    const body = err.body as unknown;
    if (typeof body === 'string') {
      try {
        message = (JSON.parse(body) as { message?: string }).message ?? body;
      } catch {
        message = body;
      }
    } else if (body && typeof body === 'object') {
      message = (body as { message?: string }).message ?? '';
    }
    return `HTTP ${err.code}${message ? `: ${message}` : ''}`;
  }
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ? `${err.message} (${cause.code})` : err.message;
  }
  return String(err);
}
