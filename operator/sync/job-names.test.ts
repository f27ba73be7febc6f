// The scanner must always agree with a full parse, and take its fast path on the two real writers.
import { defaultSettings, renderPrometheusConfig } from '../render/index.js';
import { demoSettings, loadCatalogue } from '../../test/fixtures/catalogue/index.js';
import { jobNamesByFullParse, scanJobNames, scrapeConfigFiles, scrapeJobNames } from './job-names.js';

/** Prometheus 2.42's /api/v1/status/config style (Go yaml.v2: list items not indented, flow lists). */
const GO_STYLE = `global:
  scrape_interval: 15s
  external_labels:
    cluster: kind
alerting:
  alertmanagers:
  - follow_redirects: true
    static_configs:
    - targets:
      - 127.0.0.1:9093
rule_files:
- /etc/prometheus/*.rules.yaml
scrape_configs:
- job_name: prometheus
  honor_timestamps: true
  static_configs:
  - targets:
    - localhost:9090
- job_name: vigil/shop/checkout/http
  honor_timestamps: true
  metrics_path: /metrics
  relabel_configs:
  - source_labels: [__meta_kubernetes_endpointslice_port_name]
    separator: ;
    regex: http
    replacement: $1
    action: keep
  kubernetes_sd_configs:
  - role: endpointslice
    namespaces:
      own_namespace: false
      names:
      - shop
- job_name: "quoted: name"
  scrape_interval: 1m
- job_name: 'single ''quoted'''
  scrape_interval: 1m
`;

const ODD_CASES: Array<[string, string]> = [
  ['Go style', GO_STYLE],
  ['no scrape_configs', 'global:\n  scrape_interval: 15s\n'],
  ['empty flow list', 'global: {}\nscrape_configs: []\n'],
  ['flow list', 'scrape_configs: [{job_name: a}, {job_name: b}]\n'],
  ['null value', 'scrape_configs:\nrule_files: []\n'],
  ['job_name not first', 'scrape_configs:\n  - scrape_interval: 5s\n    job_name: late\n  - job_name: early\n'],
  ['non-string plain names', 'scrape_configs:\n- job_name: true\n- job_name: 0x1F\n- job_name: null\n- job_name: 1e3\n- job_name: ~\n- job_name: yes\n'],
  ['missing job_name', 'scrape_configs:\n- static_configs: []\n- job_name: b\n'],
  ['plain name continued on the next line', 'scrape_configs:\n- job_name: first\n    part\n  scrape_interval: 1m\n'],
  ['comment after the name', 'scrape_configs:\n- job_name: a # comment\n  scrape_interval: 1m\n'],
  ['comments and blank lines', '# head\nscrape_configs:\n# between\n\n  - job_name: a\n\n    # inside\n    scrape_interval: 1m\n  # end\n  - job_name: b\nrule_files: []\n'],
  ['block scalar name with a hash line', 'scrape_configs:\n  - job_name: |-\n      one\n      # two\n    scrape_interval: 1m\n'],
  ['item on its own line', 'scrape_configs:\n-\n  job_name: alone\n'],
  ['alias across items', 'scrape_configs:\n- job_name: &n shared\n- job_name: *n\n'],
  ['two documents', 'scrape_configs:\n- job_name: a\n---\nother: 1\n'],
  ['key after the list', 'scrape_configs:\n  - job_name: a\nstorage:\n  tsdb: {}\n'],
  ['name ending in a colon', 'scrape_configs:\n- job_name: "a:"\n'],
];

describe('scrapeJobNames', () => {
  it.each(ODD_CASES)('%s: agrees with a full parse', (_name, text) => {
    let expected: string[] | Error;
    try {
      expected = jobNamesByFullParse(text).sort();
    } catch (err) {
      expected = err as Error;
    }
    if (expected instanceof Error) expect(() => scrapeJobNames(text)).toThrow();
    else expect(scrapeJobNames(text)).toEqual(expected);
  });

  it("reads Prometheus's style without a full parse", () => {
    expect(scanJobNames(GO_STYLE)).toEqual(['prometheus', 'vigil/shop/checkout/http', 'quoted: name', "single 'quoted'"]);
  });

  it('reads the rendered prometheus.yml without a full parse, self-scrape jobs with any key order included', () => {
    const settings = defaultSettings({
      ...demoSettings,
      selfScrapeJobs: [
        { job_name: 'prometheus', static_configs: [{ targets: ['localhost:9090'] }] },
        { static_configs: [{ targets: ['localhost:8080'] }], job_name: 'vigil-operator' },
      ],
    });
    const text = renderPrometheusConfig(loadCatalogue(), settings);
    const scanned = scanJobNames(text);
    expect(scanned).toBeDefined();
    expect([...scanned!].sort()).toEqual(jobNamesByFullParse(text).sort());
    expect(scanned).toContain('vigil-operator');
    expect(scanned!.length).toBeGreaterThan(5);
  });
});

describe('scrapeConfigFiles', () => {
  const written =
    'global:\n  scrape_interval: 30s\nrule_files:\n  - ./*.rules.yaml\nscrape_config_files:\n  - ./partition-b-0123456789abcdef.scrape.yaml\n  - ./partition-a-0123456789abcdef.scrape.yaml\n';
  // As Prometheus reports it: each entry joined to the config file's directory, yaml.v2's list style.
  const reported =
    'global:\n  scrape_interval: 30s\nscrape_config_files:\n- /etc/prometheus/partition-a-0123456789abcdef.scrape.yaml\n- /etc/prometheus/partition-b-0123456789abcdef.scrape.yaml\nscrape_configs:\n- job_name: prometheus\n';
  const names = ['partition-a-0123456789abcdef.scrape.yaml', 'partition-b-0123456789abcdef.scrape.yaml'];

  it('gives the base names of the written and of the reported list, sorted', () => {
    expect(scrapeConfigFiles(written)).toEqual(names);
    expect(scrapeConfigFiles(reported)).toEqual(names);
  });

  it('is empty for a config without the key, also one whose scrape jobs mention it', () => {
    expect(scrapeConfigFiles('global: {}\nscrape_configs:\n- job_name: prometheus\n')).toEqual([]);
    expect(scrapeConfigFiles('scrape_configs:\n- job_name: scrape_config_files\n')).toEqual([]);
  });

  it('gives what a full parse gives for other shapes', () => {
    expect(scrapeConfigFiles('{scrape_config_files: [/a/x.scrape.yaml, y.scrape.yaml]}\n')).toEqual(['x.scrape.yaml', 'y.scrape.yaml']);
    expect(scrapeConfigFiles('---\nscrape_config_files:\n  - "/a/quoted name.scrape.yaml"\n')).toEqual(['quoted name.scrape.yaml']);
    expect(scrapeConfigFiles('scrape_config_files:\n  - /a/x.scrape.yaml\n  # a comment\n  - /b/y.scrape.yaml\n')).toEqual(['x.scrape.yaml', 'y.scrape.yaml']);
  });
});
