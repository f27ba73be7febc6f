// The down alerts' sentence with Prometheus's scrape error (scrape-error.ts): the template as text,
// parsed by Prometheus's own template package, and its PromQL by Prometheus's parser. promtool expands
// it with a real query in test/promtool/down-alert-scrape-error.test.yaml.
import { parse } from 'yaml';
import { MonitoredServiceSchema } from '../api/schema.js';
import { analyzeExpr, checkAlertTemplate } from '../promql/wasm.js';
import { defaultSettings } from './index.js';
import { renderRuleFile } from './rules.js';
import { scrapeErrorQuery, scrapeErrorTemplate } from './scrape-error.js';

const ref = { namespace: 'shop', name: 'orders' };

describe('scrapeErrorTemplate', () => {
  it('reads the operator job only, one series per distinct error of this service', () => {
    expect(scrapeErrorQuery(ref)).toBe('max by (reason, error) (vigil_monitoredservice_scrape_error_info{job="vigil-operator", vigil_namespace="shop", vigil_monitoredservice="orders"})');
    const analysis = analyzeExpr(scrapeErrorQuery(ref));
    expect(analysis.ok).toBe(true);
  });

  it('prints the sentence only inside the query result, so nothing is printed without the series', () => {
    expect(scrapeErrorTemplate(ref, { sentence: 'Error', before: ' ', after: ' ' })).toBe(
      '{{ with query `max by (reason, error) (vigil_monitoredservice_scrape_error_info{job="vigil-operator", vigil_namespace="shop", vigil_monitoredservice="orders"})` }}' +
        '{{ with first . }} Error ({{ .Labels.reason }}): {{ .Labels.error }}. {{ end }}{{ end }}',
    );
  });

  it('parses with Prometheus template package, as promtool loads the rule', () => {
    const check = checkAlertTemplate(scrapeErrorTemplate(ref, { sentence: 'Error' }), { alertName: 'ServiceDown' });
    expect(check.parseError).toBeUndefined();
    expect(check.functions).toEqual(expect.arrayContaining(['query', 'first']));
  });
});

describe('the down alerts carry it', () => {
  const service = MonitoredServiceSchema.parse({
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace: 'shop', name: 'orders' },
    spec: { selector: { matchLabels: { app: 'orders' } }, endpoints: [{ port: 'metrics' }] },
  });
  const rules = (downReason?: string) =>
    (parse(renderRuleFile(service, defaultSettings(), downReason)) as { groups: { rules: { alert?: string; annotations?: { description: string } }[] }[] }).groups[0]!.rules;
  const description = (alert: string, downReason?: string) => rules(downReason).find((r) => r.alert === alert)!.annotations!.description;

  it('ServiceDown: after what the operator knows, before the kubectl describe line', () => {
    const text = description('ServiceDown', 'NoMatchingService: no Service');
    expect(text).toContain(
      'The operator reports: NoMatchingService: no Service. {{ with query `max by (reason, error) (vigil_monitoredservice_scrape_error_info{job="vigil-operator", vigil_namespace="shop", vigil_monitoredservice="orders"})` }}{{ with first . }}Prometheus\'s scrape error ({{ .Labels.reason }}): {{ .Labels.error }}. {{ end }}{{ end }}Reason in its status (with Prometheus\'s own scrape error): kubectl describe monitoredservice -n shop orders',
    );
    expect(checkAlertTemplate(text, { alertName: 'ServiceDown' }).parseError).toBeUndefined();
  });

  it('ServiceTargetDown: at the end, as a sentence of its own', () => {
    const text = description('ServiceTargetDown');
    expect(text).toMatch(
      /does not count\)\.\{\{ with printf .*\{\{ end \}\}\{\{ end \}\}\{\{ with query `max by \(reason, error\) \(vigil_monitoredservice_scrape_error_info\{[^`]*\}\)` \}\}\{\{ with first \. \}\} A scrape error of this service's failing targets, as Prometheus reports it \(\{\{ \.Labels\.reason \}\}\): \{\{ \.Labels\.error \}\}\.\{\{ end \}\}\{\{ end \}\}$/,
    );
    expect(checkAlertTemplate(text, { alertName: 'ServiceTargetDown' }).parseError).toBeUndefined();
  });

  it('the rule file is the same whatever the error (no re-render when it changes)', () => {
    expect(renderRuleFile(service, defaultSettings())).not.toContain('x509');
    expect(renderRuleFile(service, defaultSettings())).toBe(renderRuleFile(service, defaultSettings()));
  });
});
