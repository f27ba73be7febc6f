// Every team's scrape errors (vigil_monitoredservice_scrape_error_info, with the targets' URLs) are
// exported by the operator in the install's namespace. A team may run a MonitoredService there too,
// and its custom rules are namespace-enforced (enforceNamespace) to that namespace: the only guard
// keeping them from reading every other team's errors is the chart's metric_relabel_configs on the
// operator's scrape job, which drops `namespace` from that metric. Shown with a real Prometheus
// scraping a loopback stand-in of the operator with the chart's own job (its Kubernetes discovery
// replaced by a static target carrying the namespace label that discovery gives), and the rule as
// Vigil renders it. Loopback only; Prometheus is stopped by PID.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { synthesize } from '../../cdk8s/synth.js';
import { KIND_RESOLVED_VALUES } from '../../cdk8s/values.js';
import { SETTINGS_CONFIGMAP, SETTINGS_KEY } from '../../cdk8s/components/operator.js';
import { settingsFromYaml } from '../../operator/cli/operator-command.js';
import { defaultSettings, renderRuleFile, SCRAPE_ERROR_INFO_METRIC, SELF_SCRAPE_JOBS } from '../../operator/render/index.js';
import { validateMonitoredService } from '../../operator/validate/index.js';
import { getJson, pollUntil } from '../../hack/local-stack/net.js';
import { startPrometheus, type ServerProcess } from '../sync/servers.js';

const INSTALL_NAMESPACE = 'vigil-system';

/** What the operator exports: one team's scrape error, and a metric of its own (which keeps `namespace`). */
const OPERATOR_METRICS = [
  `# TYPE ${SCRAPE_ERROR_INFO_METRIC} gauge`,
  `${SCRAPE_ERROR_INFO_METRIC}{vigil_namespace="team-b",vigil_monitoredservice="payments",reason="TLSError",error="Get \\"https://payments.team-b.svc:8443/metrics\\": x509: certificate signed by unknown authority"} 1`,
  '# TYPE vigil_monitoredservices gauge',
  'vigil_monitoredservices 2',
  '',
].join('\n');

let operator: Server | undefined;
let prometheus: ServerProcess | undefined;
let configDir = '';

afterAll(async () => {
  await prometheus?.stop();
  operator?.close();
  if (configDir) await rm(configDir, { recursive: true, force: true });
});

async function query(expr: string): Promise<Record<string, string>[]> {
  const r = await getJson<{ data: { result: { metric: Record<string, string> }[] } }>(`${prometheus!.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return r.data.result.map((x) => x.metric);
}

test("a tenant rule in the install's namespace reads no team's scrape errors once the chart's operator job has scraped them", async () => {
  const { objects } = synthesize('concrete', KIND_RESOLVED_VALUES, INSTALL_NAMESPACE);
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === SETTINGS_CONFIGMAP);
  const settingsText = ((configMap?.data ?? {}) as Record<string, string>)[SETTINGS_KEY] ?? '';
  const chartJob = settingsFromYaml(settingsText, 'settings ConfigMap').selfScrapeJobs.find((j) => j.job_name === SELF_SCRAPE_JOBS.operator) as Record<string, unknown>;
  expect(chartJob.metric_relabel_configs).toBeDefined();

  operator = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(OPERATOR_METRICS));
  await new Promise<void>((done) => operator!.listen(0, '127.0.0.1', done));
  const { port } = operator.address() as AddressInfo;
  // The chart's job as it is, but for discovery: a static target with the label its relabelling gives from __meta_kubernetes_namespace.
  const { kubernetes_sd_configs: _discovery, relabel_configs: _relabel, ...job } = chartJob;
  const config = {
    global: { scrape_interval: '1s' },
    scrape_configs: [{ ...job, metrics_path: '/metrics', static_configs: [{ targets: [`127.0.0.1:${port}`], labels: { namespace: INSTALL_NAMESPACE } }] }],
  };
  configDir = await mkdtemp(join(tmpdir(), 'vigil-scrape-error-tenancy-'));
  await writeFile(join(configDir, 'prometheus.yml'), stringify(config));
  prometheus = await startPrometheus(configDir);

  // Scraped: the operator's own metric carries the install's namespace, the scrape errors do not.
  await pollUntil('the operator scraped', 60_000, async () => (await query(`vigil_monitoredservices{job="${SELF_SCRAPE_JOBS.operator}"}`)).length === 1, { intervalMs: 500 });
  expect(await query(`vigil_monitoredservices{namespace="${INSTALL_NAMESPACE}"}`)).toHaveLength(1);
  const errors = await query(SCRAPE_ERROR_INFO_METRIC);
  expect(errors).toHaveLength(1);
  expect(errors[0]).not.toHaveProperty('namespace');
  expect(errors[0]?.vigil_namespace).toBe('team-b');

  // A tenant's rule in the install's namespace, as Vigil renders it (namespace-enforced), reads nothing of it.
  const validated = validateMonitoredService({
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { name: 'snoop', namespace: INSTALL_NAMESPACE, generation: 1, uid: 'u1' },
    spec: {
      selector: { matchLabels: { app: 'snoop' } },
      endpoints: [{ port: 'metrics' }],
      rules: [{ name: 'OtherTeamsErrors', expr: `${SCRAPE_ERROR_INFO_METRIC} > 0`, description: 'reads every team' }],
    },
  });
  if (!validated.ok) throw new Error(`invalid fixture: ${JSON.stringify(validated.issues)}`);
  const ruleFile = parse(renderRuleFile(validated.service, defaultSettings())) as { groups: { rules: { alert?: string; expr: string }[] }[] };
  const expr = ruleFile.groups.flatMap((g) => g.rules).find((r) => r.alert === 'OtherTeamsErrors')?.expr;
  expect(expr).toContain(`namespace="${INSTALL_NAMESPACE}"`);
  expect(await query(expr!)).toEqual([]);
}, 120_000);
