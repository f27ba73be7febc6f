// The rendered catalogue checked by the real tools of the versions we deploy: promtool (config,
// rules, rule unit tests in test/promtool) and amtool (config, email templates rendered with data).
// Needs ./bin/promtool built with Kubernetes SD (hack/install-prometheus.sh) and ./bin/amtool.
import { credentialFileName, serviceCredentialRefs } from './scrape-auth.js';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { ENFORCE_NAMESPACE_CASES } from '../promql/enforce-namespace.cases.js';
import { CATALOGUE_DIR, demoSettings, loadCatalogue, productionSettings } from '../../test/fixtures/catalogue/index.js';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { MonitoredServiceSchema, type MonitoredService } from '../api/schema.js';
import { BYTE_UNITS, MAX_COUNT_LIMIT } from '../api/scrape-limits.js';
import { renderConfig } from '../assemble/config.js';
import { allFiles, assemblePartitionedPrometheus } from '../assemble/partitioned-config.js';
import { routeReceiver } from './alertmanager.js';
import { renderServicePieces } from './index.js';
import type { GlobalSettings, RenderedConfig } from './types.js';

const run = promisify(execFile);
const REPO = resolve(CATALOGUE_DIR, '..', '..', '..');
const PROMTOOL = join(REPO, 'bin', 'promtool');
const AMTOOL = join(REPO, 'bin', 'amtool');
const RULE_TESTS_DIR = join(REPO, 'test', 'promtool');

interface ToolResult {
  code: number;
  output: string;
}

async function tool(bin: string, args: string[], cwd?: string): Promise<ToolResult> {
  try {
    const { stdout, stderr } = await run(bin, args, { cwd, timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}` };
  }
}

/** Fails with the tool's own output, so a broken config reads like promtool/amtool said it. */
function expectSuccess(result: ToolResult): void {
  if (result.code === 0) return;
  const hint = result.output.includes('field kubernetes_sd_configs not found')
    ? "\n(bin/promtool is a build without Kubernetes service discovery, like Debian's: run hack/install-prometheus.sh or make tools)"
    : '';
  throw new Error(`exit ${result.code}:\n${result.output}${hint}`);
}

let workDir: string;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'vigil-render-tools-'));
});

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

/** Writes the rendered file sets into <workDir>/<variant>/{prometheus,alertmanager}. */
/** examples/demo-monitoredservice.yaml, parsed (defaults filled in). */
function demoService(): MonitoredService {
  return MonitoredServiceSchema.parse(parse(readFileSync(join(REPO, 'examples', 'demo-monitoredservice.yaml'), 'utf8')));
}

function writeRendered(variant: string, rendered: RenderedConfig): { prometheusDir: string; alertmanagerDir: string } {
  const prometheusDir = join(workDir, variant, 'prometheus');
  const alertmanagerDir = join(workDir, variant, 'alertmanager');
  for (const [dir, files] of [
    [prometheusDir, rendered.prometheus],
    [alertmanagerDir, rendered.alertmanager],
  ] as const) {
    mkdirSync(dir, { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  }
  return { prometheusDir, alertmanagerDir };
}

describe('scrape limits (spec.limits) the schema accepts', () => {
  it('pass promtool check config at their largest, in every body size unit', async () => {
    // No ceilings, so that the largest values the schema takes are rendered as they are.
    const settings: GlobalSettings = {
      ...demoSettings,
      scrapeLimits: {
        defaults: demoSettings.scrapeLimits.defaults,
        ceilings: { sampleLimit: 0, targetLimit: 0, labelLimit: 0, labelNameLengthLimit: 0, labelValueLengthLimit: 0, bodySizeLimit: '0' },
      },
    };
    const units = Object.keys(BYTE_UNITS);
    const services = [...units, '0'].map((unit, i) =>
      MonitoredServiceSchema.parse({
        apiVersion: 'vigil.dev/v1alpha1',
        kind: 'MonitoredService',
        metadata: { name: `limits-${i}`, namespace: 'limits' },
        spec: {
          selector: { matchLabels: { app: `limits-${i}` } },
          endpoints: [{ port: 'metrics' }],
          limits: {
            sampleLimit: unit === '0' ? 0 : MAX_COUNT_LIMIT,
            targetLimit: MAX_COUNT_LIMIT,
            labelLimit: MAX_COUNT_LIMIT,
            labelNameLengthLimit: MAX_COUNT_LIMIT,
            labelValueLengthLimit: MAX_COUNT_LIMIT,
            bodySizeLimit: unit === '0' ? '0' : `999999999${unit}`,
          },
        },
      }),
    );
    const { prometheusDir } = writeRendered('limits', renderConfig(services, settings));
    expect(readFileSync(join(prometheusDir, 'prometheus.yml'), 'utf8')).toContain('body_size_limit: 999999999GiB');
    expectSuccess(await tool(PROMTOOL, ['check', 'config', 'prometheus.yml'], prometheusDir));
  });
});

describe('the partitioned rendering of the catalogue (assemble/partitioned-config.ts)', () => {
  it("passes promtool check config, which loads every partition's scrape file through scrape_config_files and every rule file", async () => {
    const catalogue = loadCatalogue();
    const dir = join(workDir, 'partitioned');
    const credentialsDir = join(dir, 'scrape-credentials');
    const settings: GlobalSettings = { ...demoSettings, scrapeCredentialsDir: credentialsDir };
    // A small budget: the catalogue alone then needs several partitions.
    const config = assemblePartitionedPrometheus(
      catalogue.map((s) => renderServicePieces(s, settings)),
      settings,
      undefined,
      20_000,
    );
    expect(config.partitions.length).toBeGreaterThanOrEqual(3);
    mkdirSync(credentialsDir, { recursive: true });
    for (const ref of catalogue.flatMap(serviceCredentialRefs)) writeFileSync(join(credentialsDir, credentialFileName(ref)), 'placeholder\n');
    for (const [name, content] of Object.entries(allFiles(config))) writeFileSync(join(dir, name), content);
    const result = await tool(PROMTOOL, ['check', 'config', 'prometheus.yml'], dir);
    expectSuccess(result);
    // promtool names each rule file it checked: all of them, from every partition.
    const ruleFiles = Object.keys(allFiles(config)).filter((f) => f.endsWith('.rules.yaml'));
    for (const f of ruleFiles) expect(result.output).toContain(f);
    // A job of each partition is known to promtool: a broken scrape file fails the check (proven below).
    writeFileSync(join(dir, Object.keys(config.partitions[0]!.files).find((f) => f.endsWith('.scrape.yaml'))!), 'scrape_configs:\n  - job_name: 1\n    bogus_field: true\n');
    expect((await tool(PROMTOOL, ['check', 'config', 'prometheus.yml'], dir)).code).not.toBe(0);
  });
});

describe.each([
  // Production paths point into the container; here they point at the folder the files are written to.
  // demo: rule files and templates are found next to prometheus.yml / alertmanager.yml.
  ['demo', (): GlobalSettings => demoSettings],
  ['production', (dir: string): GlobalSettings => ({ ...productionSettings, rulesDir: join(dir, 'prometheus'), alertmanagerTemplatesDir: join(dir, 'alertmanager') })],
])('the %s rendering of the catalogue', (variant, settingsFor) => {
  let prometheusDir: string;
  let alertmanagerDir: string;
  let rendered: RenderedConfig;

  beforeAll(() => {
    const dir = join(workDir, variant);
    mkdirSync(dir, { recursive: true });
    const catalogue = loadCatalogue();
    const credentialsDir = join(dir, 'scrape-credentials');
    rendered = renderConfig(catalogue, { ...settingsFor(dir), scrapeCredentialsDir: credentialsDir });
    ({ prometheusDir, alertmanagerDir } = writeRendered(variant, rendered));
    // promtool checks that ca_file, credentials_file, ... exist; the operator delivers them from
    // the referenced Secrets/ConfigMaps (scrape-credentials.int.test.ts), here they only need to be there.
    mkdirSync(credentialsDir, { recursive: true });
    for (const ref of catalogue.flatMap(serviceCredentialRefs)) writeFileSync(join(credentialsDir, credentialFileName(ref)), 'placeholder\n');
  });

  it('passes promtool check config (which also checks every rule file it includes)', async () => {
    const result = await tool(PROMTOOL, ['check', 'config', 'prometheus.yml'], prometheusDir);
    expectSuccess(result);
    const ruleFiles = Object.keys(rendered.prometheus).filter((f) => f.endsWith('.rules.yaml'));
    expect(result.output).toContain(`SUCCESS: ${ruleFiles.length} rule files found`);
  });

  it('passes promtool check rules', async () => {
    const ruleFiles = readdirSync(prometheusDir)
      .filter((f) => f.endsWith('.rules.yaml'))
      .sort();
    // One per service, plus the Watchdog's (render/watchdog.ts).
    expect(ruleFiles.length).toBe(loadCatalogue().length + 1);
    expect(ruleFiles).toContain('vigil-watchdog.rules.yaml');
    const result = await tool(PROMTOOL, ['check', 'rules', ...ruleFiles], prometheusDir);
    expectSuccess(result);
    expect(result.output).not.toContain('FAILED');
  });

  it('passes amtool check-config, templates included', async () => {
    const result = await tool(AMTOOL, ['check-config', 'alertmanager.yml'], alertmanagerDir);
    expectSuccess(result);
    expect(result.output).toContain(' - 1 templates');
    // The default receiver, the Watchdog's, one per distinct recipient set, and the one without integrations for unowned alerts.
    const receivers = 3 + new Set(loadCatalogue().flatMap((svc) => (svc.spec.notify?.email ? [JSON.stringify(svc.spec.notify.email)] : []))).size;
    expect(result.output).toContain(` - ${receivers} receivers`);
  });

  it('amtool routes an alert by the labels its rule leaves (routing-labels.test.yaml), never by a series label vigil_watchdog', async () => {
    // The labels promtool shows on ReportsFailing when its series carries vigil_watchdog="true" (test/promtool/routing-labels.test.yaml).
    const receiver = routeReceiver(loadCatalogue().find((svc) => svc.metadata.name === 'report-generator')!);
    const alertLabels = [
      'alertname=ReportsFailing',
      'namespace=batch',
      'severity=info',
      'vigil_namespace=batch',
      'vigil_monitoredservice=report-generator',
      `vigil_receiver=${JSON.stringify(receiver)}`,
    ];
    const routed = await tool(AMTOOL, ['config', 'routes', 'test', '--config.file=alertmanager.yml', ...alertLabels], alertmanagerDir);
    expectSuccess(routed);
    expect(routed.output.trim()).toBe(receiver);
    // The alert of a service whose recipient set is not in the config (an older operator's alert without vigil_receiver, a deleted service's) goes to nobody.
    const orphan = await tool(AMTOOL, ['config', 'routes', 'test', '--config.file=alertmanager.yml', ...alertLabels.slice(0, -1)], alertmanagerDir);
    expectSuccess(orphan);
    expect(orphan.output.trim()).toBe('vigil-unowned');
    // Had the series label reached the alert, the team's alert would go to the Watchdog's webhook only.
    const spoofed = await tool(AMTOOL, ['config', 'routes', 'test', '--config.file=alertmanager.yml', ...alertLabels, 'vigil_watchdog=true'], alertmanagerDir);
    expectSuccess(spoofed);
    expect(spoofed.output.trim()).toBe('vigil-watchdog');
  });
});

describe('promtool test rules: the down alerts and namespace isolation', () => {
  let dir: string;

  beforeAll(() => {
    dir = join(workDir, 'rule-tests');
    mkdirSync(dir, { recursive: true });
    writeRendered('rule-tests', renderConfig(loadCatalogue(), demoSettings));
    // The demo MonitoredService as the local stack runs it (5 s scrape, evaluation and for): the
    // timings where a false ServiceDown on startup was seen (issue #14).
    writeRendered('rule-tests', renderConfig([demoService()], { ...demoSettings, evaluationInterval: '5s' }));
    cpSync(join(workDir, 'rule-tests', 'prometheus'), dir, { recursive: true });
    for (const f of readdirSync(RULE_TESTS_DIR)) cpSync(join(RULE_TESTS_DIR, f), join(dir, f));
  });

  it.each(
    readdirSync(RULE_TESTS_DIR)
      .filter((f) => f.endsWith('.test.yaml'))
      .sort(),
  )('%s passes', async (file) => {
    const result = await tool(PROMTOOL, ['test', 'rules', file], dir);
    expectSuccess(result);
    expect(result.output).toContain('SUCCESS');
  });
});

describe('enforceNamespace output is valid PromQL for the pinned Prometheus', () => {
  it('promtool parses every rewritten expression', async () => {
    const dir = join(workDir, 'enforce-namespace');
    mkdirSync(dir, { recursive: true });
    const rules = ENFORCE_NAMESPACE_CASES.map(([, output], i) => ({ record: `vigil:case_${i}`, expr: output }));
    writeFileSync(join(dir, 'cases.rules.yaml'), stringify({ groups: [{ name: 'enforce-namespace', rules }] }));
    const result = await tool(PROMTOOL, ['check', 'rules', 'cases.rules.yaml'], dir);
    expectSuccess(result);
    expect(result.output).toContain(`SUCCESS: ${rules.length} rules found`);
  });
});

describe('email templates rendered by amtool with alert data', () => {
  const alert = (status: 'firing' | 'resolved', instance: string) => ({
    status,
    labels: {
      alertname: 'ServiceTargetDown',
      instance,
      namespace: 'shop',
      pod: `checkout-${instance.slice(-1)}`,
      severity: 'warning',
      vigil_namespace: 'shop',
      vigil_monitoredservice: 'checkout',
    },
    annotations: { summary: `shop/checkout: target ${instance} is down`, description: 'Details with <b>markup</b> & more.' },
    startsAt: '2024-05-01T10:00:00Z',
    endsAt: status === 'resolved' ? '2024-05-01T10:05:00Z' : '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus.example.com/graph?g0.expr=up&g0.tab=1',
    fingerprint: instance,
  });
  const data = (status: 'firing' | 'resolved', alerts: ReturnType<typeof alert>[]) => ({
    receiver: 'shop/checkout',
    status,
    alerts,
    groupLabels: { alertname: 'ServiceTargetDown', vigil_namespace: 'shop', vigil_monitoredservice: 'checkout' },
    commonLabels: { alertname: 'ServiceTargetDown', namespace: 'shop', severity: 'warning', vigil_namespace: 'shop', vigil_monitoredservice: 'checkout' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com',
  });
  let dir: string;

  beforeAll(() => {
    dir = join(workDir, 'templates');
    mkdirSync(dir, { recursive: true });
    writeRendered('templates', renderConfig([], demoSettings));
    writeFileSync(join(dir, 'firing.json'), JSON.stringify(data('firing', [alert('firing', '10.0.0.1:8080'), alert('firing', '10.0.0.2:8080')])));
    writeFileSync(join(dir, 'resolved.json'), JSON.stringify(data('resolved', [alert('resolved', '10.0.0.1:8080')])));
  });

  async function render(template: string, dataFile: string, type: 'text' | 'html' = 'text'): Promise<string> {
    const glob = join(workDir, 'templates', 'alertmanager', 'vigil-email.tmpl');
    const result = await tool(AMTOOL, [
      'template',
      'render',
      `--template.glob=${glob}`,
      `--template.data=${join(dir, dataFile)}`,
      `--template.type=${type}`,
      `--template.text={{ template "${template}" . }}`,
    ]);
    expectSuccess(result);
    return result.output;
  }

  it('subject: status, count, alert, service and severity', async () => {
    expect((await render('vigil.email.subject', 'firing.json')).trim()).toBe('[FIRING:2] ServiceTargetDown shop/checkout (warning)');
    expect((await render('vigil.email.subject', 'resolved.json')).trim()).toBe('[RESOLVED] ServiceTargetDown shop/checkout (warning)');
  });

  it('plain text: every alert, the Prometheus graph and a silence link for this group', async () => {
    const text = await render('vigil.email.text', 'firing.json');
    expect(text).toContain('2 firing:');
    expect(text).toContain('* ServiceTargetDown [warning]: shop/checkout: target 10.0.0.1:8080 is down');
    expect(text).toContain('* ServiceTargetDown [warning]: shop/checkout: target 10.0.0.2:8080 is down');
    expect(text).toContain('Started:  2024-05-01 10:00:00 UTC');
    expect(text).toContain('Graph:    http://prometheus.example.com/graph?g0.expr=up&g0.tab=1');
    const filter = encodeURIComponent('{alertname="ServiceTargetDown",vigil_monitoredservice="checkout",vigil_namespace="shop"}');
    expect(text).toContain(`Silence these alerts: http://alertmanager.example.com/#/silences/new?filter=${filter}`);
    const resolved = await render('vigil.email.text', 'resolved.json');
    expect(resolved).toContain('1 resolved:');
    expect(resolved).toContain('Resolved: 2024-05-01 10:05:00 UTC');
    expect(resolved).not.toContain('firing:');
  });

  it('HTML: escapes alert text, links the graph and the silence page', async () => {
    const html = await render('vigil.email.html', 'firing.json', 'html');
    expect(html).toContain('<title>[FIRING:2] ServiceTargetDown shop/checkout (warning)</title>');
    expect(html).toContain('Details with &lt;b&gt;markup&lt;/b&gt; &amp; more.');
    expect(html).toContain('<a href="http://prometheus.example.com/graph?g0.expr=up&amp;g0.tab=1">Graph in Prometheus</a>');
    expect(html).toMatch(
      /<a href="http:\/\/alertmanager\.example\.com\/#\/silences\/new\?filter=%7balertname%3d%22ServiceTargetDown%22%2cvigil_monitoredservice%3d%22checkout%22%2cvigil_namespace%3d%22shop%22%7d">Silence these alerts<\/a>/,
    );
  });
});
