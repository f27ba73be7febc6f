import { parse } from 'yaml';
import { MonitoredServiceSchema } from '../operator/api/schema.js';
import { checkPromQL } from '../operator/promql/parse.js';
import { defaultSettings, renderRuleFile } from '../operator/render/index.js';
import { compareSet, prometheusOperatorObjects, runnablePrometheusOperatorConfig, SIZE_LABEL, targetObjects, vigilObjects } from './compare-objects.js';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const smtp = { smarthost: '127.0.0.1:1', from: 'a@b.c' };

describe('compareSet', () => {
  it('spreads the services round-robin over the namespaces, one host name each', () => {
    const set = compareSet(25, 10);
    expect(set.namespaces).toHaveLength(10);
    expect(set.targets).toHaveLength(25);
    expect(set.targets[10]).toEqual({ namespace: 'c25-00', name: 'svc-0010', host: 'svc-0010.c25-00.bench.localhost' });
    expect(new Set(set.targets.map((t) => t.host)).size).toBe(25);
    expect(compareSet(3, 10).namespaces).toEqual(['c3-00', 'c3-01', 'c3-02']);
  });
});

describe('the objects of both operators', () => {
  const t = compareSet(1, 1).targets[0]!;
  it('selects the same Service port for both: label app=<name>, port "metrics"', () => {
    const [svc] = targetObjects(t, 9999) as Doc[];
    const ms = vigilObjects(t, 1) as Doc;
    const [sm] = prometheusOperatorObjects(t, 1, smtp) as Doc[];
    expect(svc!.metadata.labels).toEqual({ app: t.name });
    expect(ms.spec.selector).toEqual(sm!.spec.selector);
    expect(ms.spec.endpoints[0].port).toBe(sm!.spec.endpoints[0].port);
    expect(ms.metadata.labels).toEqual({ [SIZE_LABEL]: '1' });
  });
  it('carries the alerts Vigil renders for the MonitoredService, with the same for and severity, as valid PromQL', () => {
    const vigilRules = (parse(renderRuleFile(MonitoredServiceSchema.parse(vigilObjects(t, 1)), defaultSettings())) as Doc).groups[0].rules as Doc[];
    const poRules = (prometheusOperatorObjects(t, 1, smtp) as Doc[])[1]!.spec.groups[0].rules as Doc[];
    const shape = (r: Doc) => ({ alert: r.alert, for: r.for, severity: r.labels.severity });
    expect(poRules.map(shape)).toEqual(vigilRules.filter((r) => r.alert).map(shape));
    for (const r of poRules) expect(checkPromQL(r.expr)).toEqual({ ok: true });
    // The user's rule gets the namespace matcher, as Vigil's does.
    expect(poRules[2]!.expr).toBe(vigilRules.find((r) => r.alert === 'HighErrorRate')!.expr);
  });
  it('routes email to the service team by service (the operator adds the namespace matcher)', () => {
    const amc = (prometheusOperatorObjects(t, 1, smtp) as Doc[])[2]!;
    expect(amc.spec.route.matchers).toEqual([{ name: 'service', value: t.name, matchType: '=' }]);
    expect(amc.spec.receivers[0].emailConfigs[0].to).toBe(`${t.name}-team@example.com`);
  });
});

describe('runnablePrometheusOperatorConfig', () => {
  const generated = [
    'global:',
    '  external_labels:',
    '    prometheus_replica: $(POD_NAME)',
    'rule_files:',
    '- /etc/prometheus/rules/prometheus-bench-rulefiles-0/*.yaml',
    'scrape_configs:',
    '- job_name: serviceMonitor/ns/svc/0',
    '  kubernetes_sd_configs:',
    '  - role: endpointslice',
    '    namespaces:',
    '      names: [ns]',
    '  relabel_configs:',
    '  - source_labels: [__tmp_hash, __tmp_disable_sharding]',
    '    regex: $(SHARD);|.+;.+',
    '    action: keep',
    'alerting:',
    '  alertmanagers:',
    '  - kubernetes_sd_configs:',
    '    - role: endpoints',
    '',
  ].join('\n');
  it('expands the reloader variables, adds the kubeconfig to every SD block and moves the rule files', () => {
    const c = parse(runnablePrometheusOperatorConfig(generated, '/k/config', '/r')) as Doc;
    expect(c.global.external_labels.prometheus_replica).toBe('prometheus-bench-0');
    expect(c.scrape_configs[0].relabel_configs[0].regex).toBe('0;|.+;.+');
    expect(c.scrape_configs[0].kubernetes_sd_configs).toEqual([{ role: 'endpointslice', namespaces: { names: ['ns'] }, kubeconfig_file: '/k/config' }]);
    expect(c.alerting.alertmanagers[0].kubernetes_sd_configs).toEqual([{ role: 'endpoints', kubeconfig_file: '/k/config' }]);
    expect(c.rule_files).toEqual(['/r/prometheus-bench-rulefiles-0/*.yaml']);
  });
});

describe('storedBytes', () => {
  it('counts a ConfigMap’s data as text and base64 (Secret data, binaryData) decoded', async () => {
    const { storedBytes } = await import('./compare.js');
    const text = 'groups: []\n';
    const b64 = Buffer.from('abcd').toString('base64');
    const meta = { name: 'x', resourceVersion: '1' };
    expect(storedBytes({ metadata: meta, data: { 'a.yaml': text } }, 'configmap')).toBe('a.yaml'.length + text.length);
    expect(storedBytes({ metadata: meta, data: { k: b64 } }, 'secret')).toBe(1 + 4);
    expect(storedBytes({ metadata: meta, binaryData: { k: b64 } }, 'configmap')).toBe(1 + 4);
  });
});
