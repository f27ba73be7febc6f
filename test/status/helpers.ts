// Reading a MonitoredService's status in the integration suites, the same way for every stack
// (test/hostile/stack.ts and hack/local-stack/stack.ts both carry the API server as `cluster`):
// one kubectl read, one condition lookup, one wait.
import { randomBytes } from 'node:crypto';
import type { Cluster } from '../../hack/local-stack/cluster.js';
import { pollUntil } from '../../hack/local-stack/net.js';

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}

/** The parts of status.* the suites read. */
export interface MsStatus {
  discoveredTargets?: number;
  healthyTargets?: number;
  conditions?: Condition[];
}

/** A MonitoredService by namespace and name. */
export interface MsRef {
  namespace: string;
  name: string;
}

/** `.status` of the object; `{}` while it has none or does not exist (yet). */
export async function readStatus(cluster: Cluster, ref: MsRef): Promise<MsStatus> {
  const r = await cluster.kubectlResult(['get', 'monitoredservice', ref.name, '-n', ref.namespace, '-o', 'jsonpath={.status}']);
  return (r.code === 0 && r.stdout.trim() ? JSON.parse(r.stdout) : {}) as MsStatus;
}

/** The condition of `type` in a status (or an object's status). */
export const cond = (st: { conditions?: Condition[] | undefined } | undefined, type: string): Condition | undefined => st?.conditions?.find((c) => c.type === type);

/** The conditions of the object by type; empty while it has none. */
export async function readConditions(cluster: Cluster, ref: MsRef): Promise<Map<string, Condition>> {
  return new Map((await readStatus(cluster, ref)).conditions?.map((c) => [c.type, c]));
}

export interface WaitOptions {
  timeoutMs: number;
  /** Between reads; default 500 ms. */
  intervalMs?: number;
  /** Appended to the timeout's error (e.g. the stack's log tails). */
  logs?: () => string;
}

/** Waits until the condition `type` has every field of `want`; returns the whole status then. On timeout the error shows the last status. */
export async function waitForCondition(cluster: Cluster, ref: MsRef, type: string, want: Partial<Condition>, opts: WaitOptions): Promise<MsStatus> {
  return pollUntil(
    `${ref.namespace}/${ref.name} ${type} ${JSON.stringify(want)}`,
    opts.timeoutMs,
    async () => {
      const st = await readStatus(cluster, ref);
      const c = cond(st, type);
      return c && Object.entries(want).every(([k, v]) => (c as unknown as Record<string, unknown>)[k] === v) ? st : false;
    },
    { intervalMs: opts.intervalMs ?? 500 },
  ).catch(async (e: Error) => {
    const last = await readStatus(cluster, ref).catch(() => ({}));
    throw new Error(`${e.message}\nlast status: ${JSON.stringify(last)}${opts.logs ? `\n${opts.logs()}` : ''}`);
  });
}

/** Waits until `check` holds for the object's conditions (by type); returns them. On timeout the error shows the last ones. */
export async function waitForConditions(cluster: Cluster, ref: MsRef, what: string, check: (c: Map<string, Condition>) => boolean, opts: WaitOptions): Promise<Map<string, Condition>> {
  let last = new Map<string, Condition>();
  await pollUntil(
    what,
    opts.timeoutMs,
    async () => {
      last = await readConditions(cluster, ref);
      return check(last);
    },
    { intervalMs: opts.intervalMs ?? 500 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last conditions: ${JSON.stringify([...last.values()])}${opts.logs ? `\n${opts.logs()}` : ''}`);
  });
  return last;
}

/**
 * A Service `name` in `namespace` over a target at `host`:`port` (the EndpointSlice the controller would
 * publish, none running here; `managedBy` names the test), and its MonitoredService scraping port
 * "metrics" every 2 s, `spec` merged over that.
 */
export function monitoredHostTarget(o: { namespace: string; name: string; host: string; port: number; managedBy: string; spec?: Record<string, unknown> }): object[] {
  const { namespace, name, port } = o;
  const labels = { app: name };
  const ports = [{ name: 'metrics', port, protocol: 'TCP' }];
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name, labels }, spec: { ports: ports.map((p) => ({ ...p, targetPort: port })) } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace, name: `${name}-local`, labels: { ...labels, 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': o.managedBy } },
      addressType: 'FQDN',
      endpoints: [{ addresses: [o.host], conditions: { ready: true } }],
      ports,
    },
    {
      apiVersion: 'vigil.dev/v1alpha1',
      kind: 'MonitoredService',
      metadata: { namespace, name },
      spec: { selector: { matchLabels: labels }, endpoints: [{ port: 'metrics', interval: '2s', scrapeTimeout: '1s' }], ...o.spec },
    },
  ];
}

/** A MonitoredService of `name` in `namespace` (pods labelled app=<name>, port "metrics") with these rules. */
export function monitoredWithRules(namespace: string, name: string, rules: object[]): object {
  return {
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace, name },
    spec: { selector: { matchLabels: { app: name } }, endpoints: [{ port: 'metrics' }], rules },
  };
}

/** 50 rules whose descriptions are 4,000 characters of random base64: about 200 KB that gzip cannot shrink much. */
export function bigRules(): object[] {
  return Array.from({ length: 50 }, (_, i) => ({ name: `Report${i}`, expr: 'up == 0', description: randomBytes(3000).toString('base64').slice(0, 4000) }));
}
