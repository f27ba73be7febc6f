// MonitoredServices and their targets for the fault tests of issue #14 (ownership, installs): a
// Service + EndpointSlice pointing at the local stack's demo target, and MonitoredServices at the
// demo timings with an alert that fires while the service's own target is scraped.
import { DEMO_NAMESPACE, DEMO_TARGET_HOST } from '../../hack/local-stack/demo.js';
import type { Stack } from '../../hack/local-stack/stack.js';

/** A Service without selector plus its EndpointSlice pointing at the demo target (a healthy target). */
export function targetObjects(name: string, port: number, endpoints: 'ready' | 'none' = 'ready'): object[] {
  const labels = { 'app.kubernetes.io/name': name };
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: DEMO_NAMESPACE, labels },
      spec: { ports: [{ name: 'http-metrics', port, targetPort: port, protocol: 'TCP' }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-local`, namespace: DEMO_NAMESPACE, labels: { ...labels, 'kubernetes.io/service-name': name } },
      addressType: 'FQDN',
      endpoints: endpoints === 'ready' ? [{ addresses: [DEMO_TARGET_HOST], conditions: { ready: true } }] : [],
      ports: [{ name: 'http-metrics', port, protocol: 'TCP' }],
    },
  ];
}

export interface RuleSpec {
  name: string;
  expr: string;
  for?: string;
  severity?: string;
  summary?: string;
}

/** A MonitoredService of the demo namespace at the demo timings; `labels` place it in an install's scope. */
export function monitoredService(name: string, o: { selectorName?: string; to?: string[]; rules?: RuleSpec[]; labels?: Record<string, string> } = {}): object {
  return {
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { name, namespace: DEMO_NAMESPACE, ...(o.labels ? { labels: o.labels } : {}) },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/name': o.selectorName ?? name } },
      endpoints: [{ port: 'http-metrics', interval: '5s', scrapeTimeout: '4s' }],
      downAlert: { for: '5s', severity: 'critical' },
      rules: o.rules ?? [],
      notify: { email: { to: o.to ?? [`${name}-owners@demo.example`], sendResolved: true } },
    },
  };
}

/**
 * A custom alert that fires as soon as the service's own target is scraped (for: 0s). Only its
 * own job's series: `up == 1` alone matches every job of the namespace, and each new service there
 * would add an alert to the group and rightly send a new email.
 */
export const alwaysFiring = (service: string): RuleSpec => ({
  name: 'LeakProbe',
  expr: `up{job="vigil/${DEMO_NAMESPACE}/${service}/http-metrics"} == 1`,
  severity: 'warning',
  summary: 'leak probe {{ $labels.instance }}',
});

export async function apply(s: Stack, objects: object[]): Promise<void> {
  await s.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
}

export async function deleteMs(s: Stack, names: string[]): Promise<void> {
  if (names.length > 0) await s.kubectl(['delete', 'monitoredservice', ...names, '-n', DEMO_NAMESPACE, '--ignore-not-found']);
}

/** Deletes the Services and EndpointSlices of targetObjects(name) for each of `names`. */
export async function deleteTargets(s: Stack, names: string[]): Promise<void> {
  if (names.length > 0) await s.kubectl(['delete', 'service,endpointslice', '-n', DEMO_NAMESPACE, '-l', `app.kubernetes.io/name in (${names.join(',')})`, '--ignore-not-found']);
}
