// The hostile catalogue against the real programs (issue 4, item 1): kube-apiserver with the
// generated CRD, `vigil operator`, Prometheus 3.15 and Alertmanager 0.35 fed by the real `vigil sync`
// sidecars. Three good services are applied first; then every catalogue object is created with
// kubectl. Afterwards: the API server refused what it should, naming the field; every admitted bad
// object says Valid=False naming the field; the good services' generated config is byte-identical;
// Prometheus and Alertmanager run a valid config that still has the good services, and their
// alerts still reach Alertmanager.
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { getJson, pollUntil } from '../../hack/local-stack/net.js';
import { MonitoredServiceSchema } from '../../operator/api/schema.js';
import { routeReceiver } from '../../operator/render/alertmanager.js';
import { ruleFileName } from '../../operator/render/names.js';
import { ALL_NAMESPACES, caseName, caseNamespace, goodServices, hostileCatalogue, type HostileCase } from './catalogue.js';
import { cond as condOf, type Condition } from '../status/helpers.js';
import { applyObjects, generatedFiles, printLogsOnFailure, startHostileStack, waitForConfigApplied, type HostileStack } from './stack.js';

const TIMEOUT = 300_000;
const catalogue = hostileCatalogue();
const good = goodServices();
const goodRefs = good.map((o) => ({ namespace: o.metadata.namespace as string, name: o.metadata.name as string }));

let stack: HostileStack | undefined;
/** What the good services produced before the catalogue was applied. */
let before: { configMap: Record<string, string>; secret: Record<string, string>; hashes: { prometheus: string; alertmanager: string } } | undefined;
/** kubectl's answer to each case. */
const applied = new Map<string, { code: number; output: string }>();

function theStack(): HostileStack {
  if (!stack) throw new Error('the stack did not start (see beforeAll)');
  return stack;
}

interface MsView {
  metadata: { namespace: string; name: string; generation: number };
  status?: { conditions?: Condition[] };
}

async function listMonitoredServices(): Promise<MsView[]> {
  const out = await theStack().cluster.kubectl(['get', 'monitoredservices', '-A', '-o', 'json']);
  return (JSON.parse(out) as { items: MsView[] }).items;
}

const cond = (o: MsView | undefined, type: string) => condOf(o?.status, type);
const key = (ns: string, name: string) => `${ns}/${name}`;

/** The scrape jobs of a prometheus.yml, by name. */
function jobsOf(yml: string | undefined): Record<string, unknown> {
  const parsed = parse(yml ?? '') as { scrape_configs?: { job_name: string }[] } | null;
  return Object.fromEntries((parsed?.scrape_configs ?? []).map((j) => [j.job_name, j]));
}

/** The scrape jobs of a generated file set: prometheus.yml's and those of the partitions' scrape files (docs/contract.md). */
function allJobsOf(files: Record<string, string> | undefined): Record<string, unknown> {
  return Object.assign(
    {},
    ...Object.entries(files ?? {})
      .filter(([name]) => name === 'prometheus.yml' || name.endsWith('.scrape.yaml'))
      .map(([, text]) => jobsOf(text)),
  );
}

/** Routes and receivers of one service in an alertmanager.yml. */
function amPartsOf(yml: string | undefined, receiver: string): unknown {
  const parsed = parse(yml ?? '') as { route: { routes?: { receiver: string }[] }; receivers: { name: string }[] };
  return { routes: (parsed.route.routes ?? []).filter((r) => r.receiver === receiver), receivers: parsed.receivers.filter((r) => r.name === receiver) };
}

/** Runs `fn` over `items`, at most `limit` at a time (kubectl processes on a 2-core machine). */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

beforeAll(async () => {
  stack = await startHostileStack({ namespaces: ALL_NAMESPACES });
  const s = stack;
  try {
    await applyObjects(s.cluster, good);
    await pollUntil(
      'the good services to be Valid and ConfigApplied',
      120_000,
      async () => {
        const all = await listMonitoredServices();
        return goodRefs.every((r) => {
          const o = all.find((m) => m.metadata.namespace === r.namespace && m.metadata.name === r.name);
          return cond(o, 'Valid')?.status === 'True' && cond(o, 'ConfigApplied')?.status === 'True';
        });
      },
      { intervalMs: 500 },
    );
    const hashes = await waitForConfigApplied(s);
    before = { configMap: await generatedFiles(s.cluster, 'configmap'), secret: await generatedFiles(s.cluster, 'secret'), hashes };

    // One kubectl create per object, so that every rejection is recorded on its own.
    await eachLimited(catalogue, 3, async (c) => {
      const r = await s.cluster.kubectlResult(['create', '-f', '-'], { input: JSON.stringify(c.object), timeoutMs: 120_000 });
      applied.set(c.id, { code: r.code, output: `${r.stderr}${r.stdout}`.trim() });
    });
    if (process.env.VIGIL_TEST_VERBOSE === '1') for (const [id, r] of applied) console.log(`${id}: exit ${r.code}: ${r.output.slice(0, 400)}`);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${s.logs()}`);
  }
}, TIMEOUT);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

printLogsOnFailure(() => stack);

const rejectedCases = catalogue.filter((c) => c.expect.outcome === 'rejected-by-apiserver');
const admittedCases = catalogue.filter((c) => c.expect.outcome !== 'rejected-by-apiserver');

test.each(rejectedCases.map((c) => [c.id, c] as const))('the API server refuses %s, naming the field', (_id, c) => {
  const expectation = c.expect as Extract<HostileCase['expect'], { outcome: 'rejected-by-apiserver' }>;
  const r = applied.get(c.id);
  expect(r).toBeDefined();
  expect(r!.code).not.toBe(0);
  expect(r!.output).toContain(expectation.apiserverField ?? expectation.field);
});

test('the API server admits every other case', () => {
  const refused = admittedCases.filter((c) => applied.get(c.id)?.code !== 0).map((c) => `${c.id}: ${applied.get(c.id)?.output}`);
  expect(refused).toEqual([]);
});

test(
  'every admitted case gets its Valid condition: False naming the field for the bad ones, True for the safe ones',
  async () => {
    let missing: string[] = [];
    const byKey = await pollUntil(
      'a Valid condition for the current generation of every admitted case',
      120_000,
      async () => {
        const all = new Map((await listMonitoredServices()).map((o) => [key(o.metadata.namespace, o.metadata.name), o]));
        missing = admittedCases
          .filter((c) => {
            const o = all.get(key(caseNamespace(c), caseName(c)));
            const valid = cond(o, 'Valid');
            return valid === undefined || valid.observedGeneration !== o?.metadata.generation;
          })
          .map((c) => c.id);
        return missing.length === 0 ? all : undefined;
      },
      { intervalMs: 1000 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; still without a Valid condition: ${missing.join(', ')}\n${theStack().logs(40)}`);
    });

    const problems: string[] = [];
    for (const c of admittedCases) {
      const o = byKey.get(key(caseNamespace(c), caseName(c)));
      const valid = cond(o, 'Valid')!;
      if (c.expect.outcome === 'invalid') {
        if (valid.status !== 'False') problems.push(`${c.id}: Valid=${valid.status}, expected False`);
        if (valid.reason !== 'InvalidSpec') problems.push(`${c.id}: reason ${valid.reason}, expected InvalidSpec`);
        if (!valid.message.includes(`${caseNamespace(c)}/${caseName(c)}: ${c.expect.field}`)) problems.push(`${c.id}: message does not name ${c.expect.field}: ${valid.message}`);
        if (/[\r\n]/.test(valid.message)) problems.push(`${c.id}: message spans several lines`);
        // Not included in the config: never Ready.
        if (cond(o, 'Ready')?.status === 'True') problems.push(`${c.id}: Ready=True although invalid`);
      } else if (valid.status !== 'True') {
        problems.push(`${c.id}: Valid=${valid.status} (${valid.message}), expected True`);
      }
    }
    expect(problems).toEqual([]);
  },
  TIMEOUT,
);

describe('after the whole catalogue', () => {
  let configMap: Record<string, string> = {};
  let secret: Record<string, string> = {};

  beforeAll(async () => {
    const s = theStack();
    // The accepted-safely cases change the config: wait until the operator wrote it and both
    // sidecars report it loaded, so that the checks below look at what the servers really run.
    await pollUntil(
      'the config with the accepted-safely cases to be applied',
      120_000,
      async () => {
        const hashes = await waitForConfigApplied(s, 5_000).catch(() => undefined);
        if (!hashes || hashes.prometheus === before?.hashes.prometheus) return false;
        const files = await generatedFiles(s.cluster, 'configmap');
        return admittedCases.filter((c) => c.expect.outcome === 'accepted-safely').every((c) => files[ruleFileName({ namespace: caseNamespace(c), name: caseName(c) })] !== undefined);
      },
      { intervalMs: 1000 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${s.logs(40)}`);
    });
    configMap = await generatedFiles(s.cluster, 'configmap');
    secret = await generatedFiles(s.cluster, 'secret');
  }, TIMEOUT);

  test('the good services stay Valid=True and ConfigApplied=True', async () => {
    const all = await listMonitoredServices();
    for (const r of goodRefs) {
      const o = all.find((m) => m.metadata.namespace === r.namespace && m.metadata.name === r.name);
      expect(`${key(r.namespace, r.name)} Valid=${cond(o, 'Valid')?.status} ConfigApplied=${cond(o, 'ConfigApplied')?.status}`).toBe(`${key(r.namespace, r.name)} Valid=True ConfigApplied=True`);
    }
  });

  test("the good services' rule files, scrape jobs and email routes are byte-identical", () => {
    for (const r of goodRefs) {
      const file = ruleFileName(r);
      expect(before?.configMap[file]).toBeDefined();
      expect(configMap[file]).toBe(before?.configMap[file]);
      const receiver = key(r.namespace, r.name);
      expect(amPartsOf(secret['alertmanager.yml'], receiver)).toEqual(amPartsOf(before?.secret['alertmanager.yml'], receiver));
    }
    const jobsBefore = allJobsOf(before?.configMap);
    const jobsAfter = allJobsOf(configMap);
    for (const r of goodRefs) {
      const job = `vigil/${r.namespace}/${r.name}/metrics`;
      expect(jobsBefore[job]).toBeDefined();
      expect(jobsAfter[job]).toEqual(jobsBefore[job]);
    }
  });

  test('no invalid case reached the generated config', () => {
    for (const c of catalogue.filter((x) => x.expect.outcome === 'invalid')) {
      expect(configMap[ruleFileName({ namespace: caseNamespace(c), name: caseName(c) })]).toBeUndefined();
      expect(configMap['prometheus.yml']).not.toContain(`vigil/${caseNamespace(c)}/${caseName(c)}/`);
      expect(secret['alertmanager.yml']).not.toContain(`${caseNamespace(c)}/${caseName(c)}`);
    }
  });

  test('Prometheus runs a valid config with the good services, their rules and nothing invalid', async () => {
    const s = theStack();
    const config = await getJson<{ data: { yaml: string } }>(`${s.prometheus.url}/api/v1/status/config`);
    // Prometheus reports the scrape config files it loaded by name, not their jobs: those are read from its config dir.
    const scrapeFiles = (parse(config.data.yaml) as { scrape_config_files?: string[] }).scrape_config_files ?? [];
    expect(scrapeFiles.length).toBeGreaterThan(0);
    const loadedJobs = Object.assign(jobsOf(config.data.yaml), ...(await Promise.all(scrapeFiles.map(async (f) => jobsOf(await readFile(join(s.prometheus.configDir, basename(f)), 'utf8'))))));
    for (const r of goodRefs) expect(loadedJobs[`vigil/${r.namespace}/${r.name}/metrics`]).toBeDefined();
    const metrics = await (await fetch(`${s.prometheus.url}/metrics`)).text();
    expect(metrics).toMatch(/^prometheus_config_last_reload_successful 1$/m);
    const rules = await getJson<{ data: { groups: { name: string; file: string }[] } }>(`${s.prometheus.url}/api/v1/rules`);
    const groups = rules.data.groups.map((g) => g.name);
    for (const r of goodRefs) expect(groups).toContain(`vigil/${r.namespace}/${r.name}`);
    for (const c of catalogue.filter((x) => x.expect.outcome === 'invalid')) expect(groups).not.toContain(`vigil/${caseNamespace(c)}/${caseName(c)}`);
    for (const c of catalogue.filter((x) => x.expect.outcome === 'accepted-safely')) expect(groups).toContain(`vigil/${caseNamespace(c)}/${caseName(c)}`);
  });

  test("Alertmanager runs a valid config with the good services' routes", async () => {
    const s = theStack();
    const status = await getJson<{ config: { original: string } }>(`${s.alertmanager.url}/api/v2/status`);
    const loaded = parse(status.config.original) as { route: { routes?: { receiver: string }[] }; receivers: { name: string }[] };
    // One route and receiver per recipient set: the one each good service's alerts name.
    for (const receiver of good.map((o) => routeReceiver(MonitoredServiceSchema.parse(o)))) {
      expect(loaded.receivers.map((x) => x.name)).toContain(receiver);
      expect((loaded.route.routes ?? []).map((x) => x.receiver)).toContain(receiver);
    }
    const metrics = await (await fetch(`${s.alertmanager.url}/metrics`)).text();
    expect(metrics).toMatch(/^alertmanager_config_last_reload_successful 1$/m);
  });

  test(
    'the good services still alert: their canary alerts reach Alertmanager',
    async () => {
      const s = theStack();
      // Seen here: a notification sent while a reload rebuilds Prometheus's Alertmanager list is
      // dropped (prometheus_notifications_dropped_total) and the firing alert is sent again only after
      // --rules.alert.resend-delay (1m), so allow for one resend.
      await pollUntil(
        "every good service's CanaryAlwaysFiring alert in Alertmanager",
        150_000,
        async () => {
          const alerts = await getJson<{ labels: Record<string, string> }[]>(`${s.alertmanager.url}/api/v2/alerts?active=true`);
          return goodRefs.every((r) => alerts.some((a) => a.labels.alertname === 'CanaryAlwaysFiring' && a.labels.vigil_namespace === r.namespace && a.labels.vigil_monitoredservice === r.name));
        },
        { intervalMs: 1000 },
      );
    },
    TIMEOUT,
  );
});
