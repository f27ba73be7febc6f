// Shared pieces of the operator integration tests: a real API server with Vigil's RBAC, the
// operator's own ServiceAccount kubeconfig and MonitoredService fixtures (polling: hack/local-stack/net.ts pollUntil).
import { join } from 'node:path';
import { startCluster, REPO_ROOT, type Cluster } from '../../hack/local-stack/cluster.js';
import { startProcess, logTail, type ManagedProcess } from '../../hack/local-stack/process.js';
import { installRbac, vigilKubeconfigs } from '../../hack/local-stack/rbac.js';
import { OBJECT_NAMES } from '../../operator/rbac.js';
import { ANNOTATIONS } from '../../operator/controller/annotations.js';
import { filesFromConfigMap } from '../../operator/sync/files.js';
import { pollUntil } from '../../hack/local-stack/net.js';

export const INSTALL_NS = 'vigil-system';

export interface OperatorEnv {
  cluster: Cluster;
  /** Kubeconfig of the vigil-operator ServiceAccount: RBAC is really exercised. */
  operatorKubeconfig: string;
}

export async function startOperatorEnv(namespaces: string[]): Promise<OperatorEnv> {
  const cluster = await startCluster();
  try {
    await installRbac(cluster, INSTALL_NS);
    for (const ns of namespaces) await cluster.ensureNamespace(ns);
    const { operator } = await vigilKubeconfigs(cluster, INSTALL_NS);
    return { cluster, operatorKubeconfig: operator };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

export function monitoredService(namespace: string, name: string, opts: { expr?: string; port?: string } = {}): object {
  return {
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace, name },
    spec: {
      selector: { matchLabels: { app: name } },
      endpoints: [{ port: opts.port ?? 'metrics' }],
      rules: [{ name: 'HighErrorRate', expr: opts.expr ?? 'rate(http_requests_total{code=~"5.."}[5m]) > 1', for: '1m' }],
      notify: { email: { to: [`${name}-team@example.com`] } },
    },
  };
}

/** kubectl apply of many objects in one call (one List), as the admin. */
export async function applyObjects(cluster: Cluster, objects: object[]): Promise<void> {
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
}

export async function getJson<T = any>(cluster: Cluster, args: string[]): Promise<T | undefined> {
  const res = await cluster.kubectlResult(['get', ...args, '-o', 'json']);
  if (res.code !== 0) {
    if (/NotFound|not found/.test(res.stderr)) return undefined;
    throw new Error(`kubectl get ${args.join(' ')}: ${res.stderr}`);
  }
  return JSON.parse(res.stdout) as T;
}

export interface ConfigMapView {
  metadata: { resourceVersion: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  /** A large config is one gzip bundle here (operator/assemble/config-bundle.ts). */
  binaryData?: Record<string, string>;
}

export async function getConfigMap(cluster: Cluster): Promise<ConfigMapView | undefined> {
  return getJson<ConfigMapView>(cluster, ['configmap', OBJECT_NAMES.prometheusConfigMap, '-n', INSTALL_NS]);
}

export async function getSecretData(cluster: Cluster): Promise<{ annotations: Record<string, string>; data: Record<string, string> } | undefined> {
  const s = await getJson<{ metadata: { annotations?: Record<string, string> }; data?: Record<string, string> }>(cluster, ['secret', OBJECT_NAMES.alertmanagerSecret, '-n', INSTALL_NS]);
  if (!s) return undefined;
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
  return { annotations: s.metadata.annotations ?? {}, data };
}

/** Scrape job names in the generated prometheus.yml (vigil/... only), in file order. */
export function vigilJobs(configMap: ConfigMapView | undefined): string[] {
  // Decoded as the sync sidecar does: plain keys, or the gzip bundle of a large config.
  const yml = configMap ? (filesFromConfigMap(configMap)['prometheus.yml'] ?? '') : '';
  return [...yml.matchAll(/job_name:\s*['"]?(vigil\/[^'"\s]+)['"]?/g)].map((m) => m[1] as string);
}

export function condition(obj: any, type: string): { status: string; reason: string; message: string; observedGeneration?: number } | undefined {
  return obj?.status?.conditions?.find((c: { type: string }) => c.type === type);
}

/** Writes the annotations a sync sidecar writes after a confirmed reload (the documented contract). */
export async function simulateSidecarApplied(cluster: Cluster, kind: 'configmap' | 'secret', name: string, hash: string, namespace = INSTALL_NS): Promise<void> {
  const patch = {
    metadata: {
      annotations: { [ANNOTATIONS.appliedHash]: hash, [ANNOTATIONS.appliedAt]: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), [ANNOTATIONS.reloadError]: null, [ANNOTATIONS.failedHash]: null },
    },
  };
  await cluster.kubectl(['patch', kind, name, '-n', namespace, '--type=merge', '-p', JSON.stringify(patch)]);
}

/** Marks an install's generated Prometheus and Alertmanager objects applied at their current hash, as both sync sidecars would (waits up to 30 s for each object). */
export async function simulateSidecarsApplied(cluster: Cluster, namespace: string): Promise<void> {
  for (const [kind, name] of [
    ['configmap', OBJECT_NAMES.prometheusConfigMap],
    ['secret', OBJECT_NAMES.alertmanagerSecret],
  ] as const) {
    const obj = await pollUntil<{ metadata: { annotations: Record<string, string> } }>(`${kind} ${namespace}/${name}`, 30_000, () => getJson(cluster, [kind, name, '-n', namespace]));
    await simulateSidecarApplied(cluster, kind, name, obj.metadata.annotations[ANNOTATIONS.configHash] as string, namespace);
  }
}

/** The install's leader Lease (undefined until one is taken). */
export const leaderLease = (cluster: Cluster, namespace: string) => getJson(cluster, ['lease', OBJECT_NAMES.leaderLease, '-n', namespace]);

export async function simulateSidecarFailed(cluster: Cluster, kind: 'configmap' | 'secret', name: string, hash: string, message: string): Promise<void> {
  const patch = { metadata: { annotations: { [ANNOTATIONS.reloadError]: message, [ANNOTATIONS.failedHash]: hash } } };
  await cluster.kubectl(['patch', kind, name, '-n', INSTALL_NS, '--type=merge', '-p', JSON.stringify(patch)]);
}

/** The real `vigil` CLI entry (it loads the TypeScript sources through tsx itself). */
const VIGIL_CLI = join(REPO_ROOT, 'operator/bin/vigil.js');

export interface OperatorProcess extends ManagedProcess {
  logs(lines?: number): string;
}

/** Starts `vigil operator` as a real child process, logs into logFile. */
export function spawnOperator(name: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = {}): OperatorProcess {
  const node = process.execPath;
  const proc = startProcess(name, node, [VIGIL_CLI, 'operator', ...args], logFile, {
    ...process.env,
    NODE_OPTIONS: '',
    KUBECONFIG: '',
    ...env,
  });
  return Object.assign(proc, { logs: (lines = 60) => logTail(logFile, lines) });
}

/** Parsed JSON log lines of an operator log file. */
export function logRecords(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
}

/** Records every version of the generated ConfigMap through a watch (admin identity), for "never contained" checks. */
export async function recordConfigMapVersions(cluster: Cluster): Promise<{ versions: ConfigMapView[]; stop: () => void }> {
  const { KubeConfig, Watch } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const versions: ConfigMapView[] = [];
  let stopped = false;
  let controller: AbortController | undefined;
  const start = async (): Promise<void> => {
    if (stopped) return;
    controller = await new Watch(kc).watch(
      `/api/v1/namespaces/${INSTALL_NS}/configmaps`,
      { fieldSelector: `metadata.name=${OBJECT_NAMES.prometheusConfigMap}` },
      (phase, obj: ConfigMapView) => {
        if (phase === 'ADDED' || phase === 'MODIFIED') {
          if (!versions.some((v) => v.metadata.resourceVersion === obj.metadata.resourceVersion)) versions.push(obj);
        }
      },
      () => {
        if (!stopped) setTimeout(() => void start(), 200);
      },
    );
  };
  await start();
  return {
    versions,
    stop: () => {
      stopped = true;
      controller?.abort();
    },
  };
}
