// The rendered chart against the real API server (hack/local-stack/cluster.ts):
// - kubeconform -strict with schemas extracted from this kube-apiserver's /openapi/v2 (CRD included);
// - `kubectl apply --dry-run=server` of every object in a namespace enforcing Pod Security
//   "restricted", plus every workload's pod template as a Pod, since PodSecurity admission only
//   enforces on Pods (for Deployments/StatefulSets it merely warns).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startCluster, type Cluster } from '../../hack/local-stack/cluster.js';
import { CRD_DIR, type KubeObject } from '../../cdk8s/kube.js';
import { KIND_VALUES, mergeValues } from '../../cdk8s/values.js';
import { REAL_CLUSTER } from './value-sets.js';
import { VERSIONS } from '../../cdk8s/versions.js';
import { helmTemplate, parseManifests, tool } from './helm.js';
import { kubeconformSchemas, SCHEMA_LOCATION_TEMPLATE, writeSchemas } from './kube-schemas.js';

const SLOW = 180_000;
const NS = 'vigil-system';
const VALUE_SETS: [string, unknown][] = [
  ['a real cluster (registry, external URLs under path prefixes)', REAL_CLUSTER],
  ['kind values', KIND_VALUES],
  [
    'mailhog, 3 Alertmanagers, persistence',
    mergeValues(REAL_CLUSTER, { mailCatcher: { enabled: true, kind: 'mailhog' }, demoTarget: { enabled: true }, alertmanager: { replicas: 3 }, prometheus: { persistence: { enabled: true } } }),
  ],
];

/** Cache key: the API server version and the CRDs it serves. */
function schemaCacheDir(): string {
  const hash = createHash('sha256');
  for (const f of readdirSync(CRD_DIR).sort()) hash.update(readFileSync(join(CRD_DIR, f)));
  const cache = process.env.VIGIL_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vigil');
  return join(cache, 'kubeconform-schemas', `${VERSIONS.KUBERNETES_VERSION}-${hash.digest('hex').slice(0, 12)}`);
}

function asPod(owner: KubeObject, spec: Record<string, unknown>, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${owner.metadata.name}-${owner.kind.toLowerCase()}-pod`, namespace: NS, labels }, spec };
}

describe('rendered chart against the real API server', () => {
  let cluster: Cluster;
  let schemaDir: string;

  beforeAll(async () => {
    cluster = await startCluster({ crdDir: CRD_DIR });
    try {
      await cluster.apply([
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' } } },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: NS } },
      ]);
      schemaDir = schemaCacheDir();
      if (!existsSync(join(schemaDir, 'monitoredservice-vigil-v1alpha1.json'))) {
        // The API server publishes a new CRD in its OpenAPI document a moment after it is Established.
        const deadline = Date.now() + 60_000;
        for (;;) {
          const openapi = JSON.parse(await cluster.kubectl(['get', '--raw', '/openapi/v2'], { timeoutMs: 120_000 })) as { definitions: Record<string, Record<string, unknown>> };
          if (openapi.definitions['dev.vigil.v1alpha1.MonitoredService'] || Date.now() > deadline) {
            await writeSchemas(schemaDir, kubeconformSchemas(openapi));
            break;
          }
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }, SLOW);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  test('the schemas cover the kinds of the chart, the MonitoredService CRD included', () => {
    for (const f of ['deployment-apps-v1.json', 'statefulset-apps-v1.json', 'service-v1.json', 'clusterrole-rbac-v1.json', 'monitoredservice-vigil-v1alpha1.json']) {
      expect({ f, exists: existsSync(join(schemaDir, f)) }).toEqual({ f, exists: true });
    }
  });

  test.each(VALUE_SETS)('kubeconform -strict accepts helm template with %s', async (_name, values) => {
    const manifests = await helmTemplate(values, NS);
    const r = await tool('kubeconform', ['-strict', '-summary', '-output', 'text', '-schema-location', join(schemaDir, SCHEMA_LOCATION_TEMPLATE), '-'], { input: manifests });
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({ code: 0, out: expect.stringMatching(/Invalid: 0, Errors: 0, Skipped: 0/) });
  });

  test('kubeconform -strict really rejects unknown fields and wrong types', async () => {
    const bad = stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: { replicas: 'two', selector: {}, template: { spec: { containers: [{ name: 'c', imagePullPolicy: 'Never', colour: 'red' }] } } },
    });
    const r = await tool('kubeconform', ['-strict', '-output', 'text', '-schema-location', join(schemaDir, SCHEMA_LOCATION_TEMPLATE), '-'], { input: bad });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/colour/);
    expect(r.stdout).toMatch(/replicas/);
  });

  test.each(VALUE_SETS)('kubectl apply --dry-run=server accepts every object and pod template (%s) under Pod Security restricted', async (_name, values) => {
    const objects = parseManifests(await helmTemplate(values, NS)).filter((o) => o.kind !== 'CustomResourceDefinition');
    const pods = objects.flatMap((o) => {
      const spec = o.spec as { template?: { metadata?: { labels?: Record<string, string> }; spec?: Record<string, unknown> }; volumeClaimTemplates?: { metadata: { name: string } }[] } | undefined;
      const template = spec?.template;
      if (!template?.spec) return [];
      // The StatefulSet controller adds a volume per claim template; stand in for them with emptyDirs.
      const claims = (spec?.volumeClaimTemplates ?? []).map((c) => ({ name: c.metadata.name, emptyDir: {} }));
      const podSpec = { ...template.spec, volumes: [...((template.spec.volumes as unknown[] | undefined) ?? []), ...claims] };
      return [asPod(o, podSpec, template.metadata?.labels)];
    });
    expect(pods.length).toBeGreaterThanOrEqual(3);
    // Pods are admitted only when their ServiceAccount exists; a dry run creates nothing, so create those for real.
    await cluster.apply(objects.filter((o) => o.kind === 'ServiceAccount'));
    const r = await cluster.kubectlResult(['apply', '--dry-run=server', '-n', NS, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...objects, ...pods] }) });
    if (r.code !== 0) throw new Error(`dry run failed:\n${r.stderr}`);
    // Warnings about last-applied annotations of the ServiceAccounts are fine; PodSecurity warnings are not.
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/error|PodSecurity|violate/i) });
    expect(r.stdout).toContain('statefulset.apps/vigil-prometheus created (server dry run)');
    for (const p of pods) expect(r.stdout).toContain(`pod/${p.metadata.name} created (server dry run)`);
  });

  test('PodSecurity admission really enforces: a privileged pod and a root pod are rejected', async () => {
    const objects = parseManifests(await helmTemplate(KIND_VALUES, NS));
    const demo = objects.find((o) => o.kind === 'Pod' && o.metadata.name === 'vigil-demo-target') as KubeObject;
    const spec = structuredClone(demo.spec) as { securityContext: Record<string, unknown>; containers: { securityContext: Record<string, unknown> }[] };
    const privileged = structuredClone(spec);
    privileged.containers[0]!.securityContext = { ...privileged.containers[0]!.securityContext, privileged: true, allowPrivilegeEscalation: true };
    const root = structuredClone(spec);
    delete root.securityContext.runAsNonRoot;
    delete root.containers[0]!.securityContext.runAsNonRoot;
    root.securityContext.runAsUser = 0;
    for (const [name, s, why] of [
      ['privileged', privileged, /privileged/],
      ['root', root, /runAsNonRoot|runAsUser=0/],
    ] as const) {
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `bad-${name}`, namespace: NS }, spec: s };
      const r = await cluster.kubectlResult(['apply', '--dry-run=server', '-f', '-'], { input: JSON.stringify(pod) });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/violates PodSecurity "restricted:[a-z0-9.]+"/);
      expect(r.stderr).toMatch(why);
    }
  });
});
