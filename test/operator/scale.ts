// Many MonitoredServices at once: the objects, a burst apply, and counting ConfigApplied.
// Shared by the 2,000-service integration test (scale.int.test.ts) and bench/load.ts.
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import type { Cluster } from '../../hack/local-stack/cluster.js';
import { monitoredService } from './helpers.js';

export interface ScaleSet {
  namespaces: string[];
  objects: object[];
  /** namespace/name of the last object, whose job must reach Prometheus last. */
  last: { namespace: string; name: string };
}

/** `count` MonitoredServices spread round-robin over `namespaceCount` namespaces `load-NN`. */
export function scaleSet(count: number, namespaceCount = 20): ScaleSet {
  const namespaces = Array.from({ length: namespaceCount }, (_, i) => `load-${String(i).padStart(2, '0')}`);
  const objects: object[] = [];
  let last = { namespace: '', name: '' };
  for (let i = 0; i < count; i++) {
    last = { namespace: namespaces[i % namespaceCount] as string, name: `svc-${String(i).padStart(4, '0')}` };
    objects.push(monitoredService(last.namespace, last.name));
  }
  return { namespaces, objects, last };
}

/** The scrape job of the helper's MonitoredService (one endpoint, port "metrics"). */
export const jobOf = (ref: { namespace: string; name: string }) => `vigil/${ref.namespace}/${ref.name}/metrics`;

/**
 * One burst: `kubectl apply -f <one multi-document file>` as the admin, the way a user (or a
 * GitOps tool) would push them. Returns the file's path and how long kubectl took.
 */
export async function applyBurst(cluster: Cluster, objects: object[], file: string): Promise<{ ms: number }> {
  await writeFile(file, objects.map((o) => stringify(o)).join('---\n'));
  const started = Date.now();
  await cluster.kubectl(['apply', '-f', file], { timeoutMs: 25 * 60_000 });
  return { ms: Date.now() - started };
}

/** ConfigApplied status of every MonitoredService, counted by status. */
export async function countConfigApplied(cluster: Cluster): Promise<{ total: number; true: number }> {
  const out = await cluster.kubectl(
    [
      'get',
      'monitoredservices',
      '-A',
      '-o',
      'jsonpath={range .items[*]}{.status.conditions[?(@.type=="ConfigApplied")].status}{"\\n"}{end}',
      // Listing thousands of objects on a busy 2-core machine took over the default minute.
    ],
    { timeoutMs: 5 * 60_000 },
  );
  const lines = out.split('\n').slice(0, -1);
  return { total: lines.length, true: lines.filter((l) => l === 'True').length };
}
