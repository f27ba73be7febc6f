// `make local-target NAME=my-app PORT=9100`: monitor your own process on a loopback port with the running
// `make local-up` (issue #11, "adding your own target"). The local stack has no kubelet, so a target is what
// the demo target is (examples/demo-target-service.yaml): a Service without a selector, an FQDN EndpointSlice
// naming <name>.vigil.localhost, that host in Prometheus's private hosts file, and a MonitoredService.
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runKubectl } from './kubectl.js';
import { BIN_DIR } from './components.js';
import { LOCAL_DIR, readStackState } from './control.js';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown };

export interface LocalTarget {
  /** Service, EndpointSlice and MonitoredService name: a DNS-1123 label. */
  name: string;
  namespace: string;
  /** The process's port on 127.0.0.1 (1-65535). */
  port: number;
  /** Recipients of its alerts; none: the stack's default recipients. */
  to: string[];
  /** Scrape interval (Prometheus duration). */
  interval: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The target from make variables; every error names the variable and says what is accepted. */
export function parseLocalTarget(env: Record<string, string | undefined>): LocalTarget {
  const errors: string[] = [];
  const name = env.NAME ?? '';
  if (!(DNS_LABEL.test(name) && name.length <= 63)) errors.push(`NAME="${name}": a DNS-1123 label is accepted (lower case letters, digits, '-', at most 63, e.g. my-app)`);
  const namespace = env.NAMESPACE ?? 'default';
  if (!(DNS_LABEL.test(namespace) && namespace.length <= 63)) errors.push(`NAMESPACE="${namespace}": a DNS-1123 label is accepted (e.g. my-team)`);
  const port = Number(env.PORT);
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) errors.push(`PORT="${env.PORT ?? ''}": the process's port on 127.0.0.1 is accepted, 1 to 65535`);
  const interval = env.INTERVAL ?? '5s';
  if (!/^(\d+(ms|s|m|h))+$/.test(interval)) errors.push(`INTERVAL="${interval}": a Prometheus duration such as 5s or 1m is accepted`);
  const to = (env.TO ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  if (errors.length > 0) throw new Error(`make local-target: ${errors.join('; ')}`);
  return { name, namespace, port, to, interval };
}

/** Host name the target's EndpointSlice carries; Prometheus resolves it to 127.0.0.1 (its private hosts file). */
export const localTargetHost = (name: string) => `${name}.vigil.localhost`;

/** Namespace, Service (no selector), FQDN EndpointSlice and MonitoredService of a process on 127.0.0.1:port. */
export function localTargetObjects(t: LocalTarget): Obj[] {
  const labels = { 'app.kubernetes.io/name': t.name };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: t.namespace } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: t.name, namespace: t.namespace, labels }, spec: { ports: [{ name: 'metrics', port: t.port, targetPort: t.port, protocol: 'TCP' }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${t.name}-local`.slice(0, 63),
        namespace: t.namespace,
        labels: { ...labels, 'kubernetes.io/service-name': t.name, 'endpointslice.kubernetes.io/managed-by': 'vigil-local-stack' },
      },
      addressType: 'FQDN',
      endpoints: [{ addresses: [localTargetHost(t.name)], conditions: { ready: true } }],
      ports: [{ name: 'metrics', port: t.port, protocol: 'TCP' }],
    },
    {
      apiVersion: 'vigil.dev/v1alpha1',
      kind: 'MonitoredService',
      metadata: { name: t.name, namespace: t.namespace },
      spec: {
        selector: { matchLabels: labels },
        endpoints: [{ port: 'metrics', interval: t.interval }],
        ...(t.to.length > 0 ? { notify: { email: { to: t.to } } } : {}),
      },
    },
  ];
}

/**
 * Adds `127.0.0.1 <host>` to Prometheus's hosts file once. Appends in place: the file is bind-mounted over
 * /etc/hosts in Prometheus's mount namespace, and only the same inode stays visible there.
 */
export async function addLoopbackHost(hostsFile: string, host: string): Promise<boolean> {
  const lines = (await readFile(hostsFile, 'utf8')).split('\n');
  if (lines.some((l) => l.trim().split(/\s+/).slice(1).includes(host))) return false;
  await appendFile(hostsFile, `127.0.0.1 ${host}\n`);
  return true;
}

/** Registers the target with a running stack: the hosts line, then the objects (kubectl apply; idempotent). */
export async function registerLocalTarget(t: LocalTarget, o: { hostsFile: string; kubectl: (args: string[], input?: string) => Promise<string> }): Promise<string> {
  await addLoopbackHost(o.hostsFile, localTargetHost(t.name));
  return o.kubectl(
    ['apply', '-f', '-'],
    localTargetObjects(t)
      .map((obj) => JSON.stringify(obj))
      .join('\n'),
  );
}

async function main(): Promise<void> {
  const target = parseLocalTarget(process.env);
  const state = await readStackState();
  const kubectl = async (args: string[], input?: string) => {
    const r = await runKubectl(join(BIN_DIR, 'kubectl'), state.kubeconfig, args, { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited with ${r.code}: ${r.stderr.trim()}`);
    // The API server warns about FQDN EndpointSlices (deprecated); expected here, see docs/running-locally.md.
    return r.stdout;
  };
  console.log((await registerLocalTarget(target, { hostsFile: join(LOCAL_DIR, 'run', 'prometheus', 'hosts'), kubectl })).trim());
  console.log(
    `127.0.0.1:${target.port} is scraped as ${target.namespace}/${target.name} every ${target.interval}; \`kubectl get ms -n ${target.namespace}\` shows it Ready once its first scrape succeeded`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
