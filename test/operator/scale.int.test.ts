// 2,000 MonitoredServices in one burst, all real: the API server, `vigil operator`, both `vigil sync`
// sidecars, Prometheus 3.15 and Alertmanager 0.35 (test/hostile/stack.ts). Plain, the rendered
// config (~5 MB) is far over the 1 MiB object limit; the operator stores it as one gzip bundle,
// the sidecar unpacks it, and Prometheus loads every job. Timings are printed, never asserted.
import { readSyncReport } from '../../operator/controller/annotations.js';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BUNDLE_KEY } from '../../operator/assemble/config-bundle.js';
import { pollUntil } from '../../hack/local-stack/net.js';
import { OBJECT_NAMES } from '../../operator/rbac.js';
import { WATCHDOG_RULE_FILE } from '../../operator/render/watchdog.js';
import { INSTALL_NS, generatedAnnotations, startHostileStack, type HostileStack } from '../hostile/stack.js';
import { loadedPrometheusJobs } from '../sync/servers.js';
import { getJson } from './helpers.js';
import { applyBurst, countConfigApplied, jobOf, scaleSet } from './scale.js';

const COUNT = 2000;
// Generous: a clean-clone CI run took 1,084 s, 540 s of it in `kubectl apply` while the operator, both sidecars and
// Prometheus (discovery and rule reloads of 2,000 services) shared the 2 cores with the API server; a cold run took 194 s.
const TIMEOUT = 30 * 60_000;
const set = scaleSet(COUNT);
let stack: HostileStack | undefined;

beforeAll(async () => {
  // The one-object layout (the operator without --config-partitions): the bundle this test is about.
  stack = await startHostileStack({ namespaces: set.namespaces, configPartitions: false });
}, TIMEOUT);

afterAll(async () => {
  await stack?.stop();
}, TIMEOUT);

afterEach(() => {
  const state = expect.getState();
  if (stack && state.assertionCalls !== state.numPassingAsserts) process.stderr.write(`${stack.logs(40)}\n`);
});

it(
  `renders, writes, syncs and loads ${COUNT} MonitoredServices applied in one burst`,
  async () => {
    const s = stack!;
    const started = Date.now();
    const { ms: applyMs } = await applyBurst(s.cluster, set.objects, join(s.dir, 'burst.yaml'));

    // Prometheus runs a config with the job of the last service: rendered, written, unpacked, reloaded.
    const lastJob = jobOf(set.last);
    // /api/v1/status/config shows a new config before Prometheus has finished loading its rules;
    // the sidecar's applied-hash is only set once the reload request returned and was confirmed.
    const jobs = await pollUntil(
      `Prometheus to load ${lastJob} and the sidecar to confirm it`,
      TIMEOUT,
      async () => {
        const loaded = await loadedPrometheusJobs(s.prometheus.url);
        if (!loaded.includes(lastJob)) return undefined;
        const a = await generatedAnnotations(s.cluster, 'configmap');
        return a['vigil.dev/config-hash'] && readSyncReport(a).appliedHash === a['vigil.dev/config-hash'] ? loaded : undefined;
      },
      { intervalMs: 2000 },
    );
    const loadedMs = Date.now() - started;
    expect(jobs.filter((j) => j.startsWith('vigil/'))).toHaveLength(COUNT);

    // Stored compressed: one key, and only because the plain form would not fit.
    const cm = await getJson<{ data?: Record<string, string>; binaryData?: Record<string, string>; metadata: { annotations: Record<string, string> } }>(s.cluster, [
      'configmap',
      OBJECT_NAMES.prometheusConfigMap,
      '-n',
      INSTALL_NS,
    ]);
    expect(cm?.data).toBeUndefined();
    expect(Object.keys(cm?.binaryData ?? {})).toEqual([BUNDLE_KEY]);
    const bundleBytes = Buffer.from(cm!.binaryData![BUNDLE_KEY]!, 'base64').length;
    expect(bundleBytes).toBeLessThan(1_000_000);

    // The sidecar wrote one rule file per service next to prometheus.yml, and Prometheus loaded them.
    const files = (await readdir(s.prometheus.configDir)).filter((f) => !f.startsWith('.'));
    expect(files).toContain('prometheus.yml');
    expect(files.filter((f) => f.endsWith('.rules.yaml') && f !== WATCHDOG_RULE_FILE)).toHaveLength(COUNT);
    expect(files).toContain(WATCHDOG_RULE_FILE);
    const rules = (await (await fetch(`${s.prometheus.url}/api/v1/rules`)).json()) as { data: { groups: Array<{ name: string }> } };
    expect(rules.data.groups.map((g) => g.name)).toContain(`vigil/${set.last.namespace}/${set.last.name}`);

    // Alertmanager routes the last service's alerts to its team.
    const am = (await (await fetch(`${s.alertmanager.url}/api/v2/status`)).json()) as { config: { original: string } };
    expect(am.config.original).toContain(`${set.last.name}-team@example.com`);

    // Every MonitoredService reports it: ConfigApplied=True.
    const applied = await pollUntil(
      `all ${COUNT} MonitoredServices ConfigApplied=True`,
      TIMEOUT,
      async () => {
        const c = await countConfigApplied(s.cluster);
        return c.total === COUNT && c.true === COUNT ? c : undefined;
      },
      { intervalMs: 3000 },
    );
    expect(applied).toEqual({ total: COUNT, true: COUNT });
    process.stderr.write(
      `[scale.int] ${COUNT} services: kubectl apply ${applyMs} ms; last job loaded by Prometheus after ${loadedMs} ms; ` +
        `all ConfigApplied after ${Date.now() - started} ms; ConfigMap bundle ${bundleBytes} bytes\n`,
    );
  },
  TIMEOUT,
);
