// The discovery benchmarks' workload as plain data (issue #13): N Services with a few endpoints
// each, spread over several namespaces, as the Kubernetes objects the harness applies, plus the
// pure helpers that read what Prometheus and the API server report. No I/O here (unit-tested).
import { stringify, parse } from 'yaml';
import { localTargetHost } from '../../hack/local-stack/local-target.js';

export interface WorkloadOptions {
  /** How many Services (each one scrape target per endpoint). */
  services: number;
  /** Spread round-robin over this many namespaces `disc-NN`. */
  namespaces: number;
  /** Endpoints (targets) per Service. */
  endpointsPerService: number;
  /** Port of the loopback target server every endpoint points at. */
  targetPort: number;
  /**
   * One Pod object per endpoint (never scheduled: no kubelet), referenced by the endpoint's
   * targetRef, as in a real namespace; Prometheus's endpointslice role watches the Pods of each
   * namespace it discovers in, and attaches their metadata. Default true.
   */
  pods?: boolean;
}

export interface WorkloadService {
  namespace: string;
  name: string;
  /** The Service's (and its EndpointSlice's) labels: what selectors select. */
  labels: Record<string, string>;
  /** One FQDN per endpoint, resolved to 127.0.0.1 by Prometheus's private hosts file. */
  hosts: string[];
}

export interface Workload {
  namespaces: string[];
  services: WorkloadService[];
  /** Name and number of the one port every Service and EndpointSlice has. */
  port: { name: string; number: number };
  /** Whether each endpoint has a Pod (WorkloadOptions.pods). */
  pods: boolean;
}

/** Label key the workload's Services carry (dots and a slash: exercises Prometheus's label-name sanitising). */
export const WORKLOAD_LABEL = 'app.kubernetes.io/name';
export const WORKLOAD_PORT_NAME = 'metrics';
/** Every workload host name ends in this; the harness counts targets whose `instance` does. */
export const WORKLOAD_HOST_SUFFIX = localTargetHost('');

/**
 * `services` Services named `svc-NNNN` round-robin over namespaces `disc-00`, `disc-01`, ...; each
 * labelled app.kubernetes.io/name=<name> and tier=bench, with endpoints `e<i>.<name>.<namespace>.vigil.localhost`.
 * Throws on counts that are not positive integers.
 */
export function discoveryWorkload(o: WorkloadOptions): Workload {
  for (const [k, v] of Object.entries(o)) {
    if (k !== 'pods' && (!Number.isInteger(v) || v < 1)) throw new Error(`discoveryWorkload: ${k} must be a positive integer, got ${v}`);
  }
  const namespaces = Array.from({ length: o.namespaces }, (_, i) => `disc-${String(i).padStart(2, '0')}`);
  const services = Array.from({ length: o.services }, (_, i): WorkloadService => {
    const namespace = namespaces[i % o.namespaces] as string;
    const name = `svc-${String(i).padStart(4, '0')}`;
    return {
      namespace,
      name,
      labels: { [WORKLOAD_LABEL]: name, tier: 'bench' },
      hosts: Array.from({ length: o.endpointsPerService }, (_, e) => localTargetHost(`e${e}.${name}.${namespace}`)),
    };
  });
  return { namespaces, services, port: { name: WORKLOAD_PORT_NAME, number: o.targetPort }, pods: o.pods ?? true };
}

/** Number of scrape targets the workload should give: one per endpoint. */
export const workloadTargets = (w: Workload) => w.services.reduce((n, s) => n + s.hosts.length, 0);

/** Name of the Pod behind endpoint `i` of a Service. */
export const podName = (s: WorkloadService, i: number) => `${s.name}-e${i}`;

/**
 * One Pod per endpoint (if w.pods), never scheduled, labelled like its Service. Apply them before
 * workloadObjects, as in a cluster where the EndpointSlice controller only lists existing pods:
 * Prometheus attaches a pod's metadata when the slice arrives, not when a pod arrives later.
 */
export function workloadPods(w: Workload): object[] {
  if (!w.pods) return [];
  return w.services.flatMap((s) =>
    s.hosts.map((_, i) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: podName(s, i), namespace: s.namespace, labels: s.labels },
      // Never pulled: no kubelet runs in the benchmark's cluster.
      spec: { containers: [{ name: 'target', image: 'vigil.invalid/bench-target:none' }] },
    })),
  );
}

/**
 * The Services (no spec.selector: nothing would manage their endpoints) and their FQDN
 * EndpointSlices, as the EndpointSlice controller would label them (Service labels copied, plus
 * kubernetes.io/service-name), each endpoint referencing its Pod when w.pods.
 */
export function workloadObjects(w: Workload): object[] {
  return w.services.flatMap((s) => [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: s.name, namespace: s.namespace, labels: s.labels },
      spec: { ports: [{ name: w.port.name, port: w.port.number, targetPort: w.port.number, protocol: 'TCP' }] },
    },
    endpointSlice(w, s),
  ]);
}

/** The Service's EndpointSlice; `firstNotReady` marks its first endpoint not ready (the harness's churn). */
export function endpointSlice(w: Workload, s: WorkloadService, firstNotReady = false): object {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${s.name}-bench`,
      namespace: s.namespace,
      labels: { ...s.labels, 'kubernetes.io/service-name': s.name, 'endpointslice.kubernetes.io/managed-by': 'vigil-bench' },
    },
    addressType: 'FQDN',
    endpoints: s.hosts.map((host, i) => ({
      addresses: [host],
      conditions: { ready: !(firstNotReady && i === 0) },
      ...(w.pods ? { targetRef: { kind: 'Pod', namespace: s.namespace, name: podName(s, i) } } : {}),
    })),
    ports: [{ name: w.port.name, port: w.port.number, protocol: 'TCP' }],
  };
}

/** `127.0.0.1 <host>` for every workload host: the lines of Prometheus's private hosts file. */
export const workloadHostsLines = (w: Workload) => w.services.flatMap((s) => s.hosts.map((h) => `127.0.0.1 ${h}`));

/** How a Prometheus outside the cluster reaches the harness's API server. */
export interface SdConnection {
  /** A kubeconfig file naming the server and the credentials (Prometheus's `kubeconfig_file`). */
  kubeconfigFile: string;
}

const CONNECTION_KEYS = ['api_server', 'kubeconfig_file', 'authorization', 'basic_auth', 'oauth2', 'bearer_token', 'bearer_token_file', 'tls_config', 'proxy_url', 'follow_redirects', 'enable_http2'];

/**
 * A Prometheus config (YAML text) with every `kubernetes_sd_configs` block of every scrape job
 * pointed at `sd` the same way: its connection fields (api_server, credentials, tls_config, ...)
 * removed and `kubeconfig_file` set; everything else (role, namespaces, selectors, attach_metadata)
 * kept as it was. Vigil's and prometheus-operator's configs (the latter written for in-cluster
 * discovery, without api_server) then talk to one API server with one identity, and blocks that
 * were identical stay identical, so Prometheus shares their watches exactly as it would in the
 * cluster. Returns YAML text; throws if the text is not a YAML mapping.
 */
export function pointKubernetesSdAt(configYaml: string, sd: SdConnection): string {
  const config = parse(configYaml) as unknown;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new Error('pointKubernetesSdAt: the Prometheus config is not a YAML mapping');
  const jobs = (config as { scrape_configs?: unknown }).scrape_configs;
  const scrapeConfigs = Array.isArray(jobs)
    ? jobs.map((job: Record<string, unknown>) =>
        Array.isArray(job.kubernetes_sd_configs)
          ? {
              ...job,
              kubernetes_sd_configs: job.kubernetes_sd_configs.map((block: Record<string, unknown>) => ({
                ...Object.fromEntries(Object.entries(block).filter(([k]) => !CONNECTION_KEYS.includes(k))),
                kubeconfig_file: sd.kubeconfigFile,
              })),
            }
          : job,
      )
    : jobs;
  return stringify({ ...config, ...(jobs === undefined ? {} : { scrape_configs: scrapeConfigs }) }, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** Count of `kubernetes_sd_configs` blocks and of distinct ones (Prometheus runs one provider per distinct block). */
export function sdBlockCounts(configYaml: string): { blocks: number; distinct: number } {
  const jobs = ((parse(configYaml) as { scrape_configs?: Array<{ kubernetes_sd_configs?: unknown[] }> }).scrape_configs ?? []).flatMap((j) => j.kubernetes_sd_configs ?? []);
  return { blocks: jobs.length, distinct: new Set(jobs.map((b) => JSON.stringify(b))).size };
}

// --- Reading what the processes report ---------------------------------------------------------

/**
 * utime + stime of a process in seconds, from the text of /proc/<pid>/stat (fields 14 and 15,
 * counted after the parenthesised command name, which may hold spaces), at `ticksPerSecond`
 * (sysconf CLK_TCK, 100 on Linux).
 */
export function cpuSecondsFromStat(stat: string, ticksPerSecond = 100): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After ")": state is field 3, so utime (14) and stime (15) are at 11 and 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot read utime/stime from /proc stat: ${stat.slice(0, 120)}`);
  return (utime + stime) / ticksPerSecond;
}

/** VmRSS and VmHWM (peak) in MiB from the text of /proc/<pid>/status. */
export function memoryFromStatus(status: string): { rssMiB: number; peakRssMiB: number } {
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`/proc status has no ${field}`);
    return Number(m[1]);
  };
  return { rssMiB: kb('VmRSS') / 1024, peakRssMiB: kb('VmHWM') / 1024 };
}
