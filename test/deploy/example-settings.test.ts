// examples/settings.yaml (the file the README runs the operator with) goes through the operator's own
// settings parser, and the command in its header through the operator's own argument parser.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../cdk8s/kube.js';
import { parseOperatorArgs, settingsFromYaml } from '../../operator/cli/operator-command.js';
import { defaultSettings } from '../../operator/render/index.js';
import { renderConfig } from '../../operator/assemble/config.js';

const FILE = join(REPO_ROOT, 'examples', 'settings.yaml');
const TEXT = readFileSync(FILE, 'utf8');

/** The `node operator/bin/vigil.js operator ...` command of the header comment, as argv after `operator`. */
function headerCommandArgs(): string[] {
  const lines = TEXT.split('\n').map((l) => l.replace(/^#\s*/, ''));
  const start = lines.findIndex((l) => l.startsWith('node operator/bin/vigil.js operator'));
  expect(start).toBeGreaterThanOrEqual(0);
  let command = '';
  for (let i = start; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    command += ` ${line.replace(/\\$/, '')}`;
    if (!line.endsWith('\\')) break;
  }
  return command.trim().split(/\s+/).slice(3);
}

describe('examples/settings.yaml', () => {
  test('the operator accepts it', () => {
    const settings = settingsFromYaml(TEXT, FILE);
    expect(settings).toMatchObject({ profile: 'demo', smtp: { smarthost: '127.0.0.1:465', requireTls: false }, externalLabels: { cluster: 'dev' } });
    expect(settings.smtp.authPassword).toBeUndefined();
    // Its scrape limits are the defaults, as its comment says.
    expect(settings.scrapeLimits).toEqual(defaultSettings().scrapeLimits);
  });

  test('it sets every setting explicitly (a complete example), only kubernetesSd is left commented out', () => {
    const keys = Object.keys(parse(TEXT) as Record<string, unknown>).sort();
    expect(keys).toEqual(Object.keys(defaultSettings()).sort());
    expect(TEXT).toMatch(/^# kubernetesSd:$/m);
  });

  test('the commented kubernetesSd block is valid once uncommented', () => {
    const uncommented = TEXT.replace(/^# (kubernetesSd:|  \w+: .*)$/gm, '$1').replace('<the port make dev-cluster prints>', '6443');
    const settings = settingsFromYaml(uncommented, FILE);
    expect(settings.kubernetesSd).toEqual({ apiServer: 'https://127.0.0.1:6443', kubeconfigFile: '/absolute/path/to/vigil/.local/prometheus.kubeconfig' });
  });

  test('the command in its header parses, and its --listen is what the vigil-operator scrape job scrapes', () => {
    const config = parseOperatorArgs(headerCommandArgs(), {});
    if (config === 'help') throw new Error('--help');
    expect(config).toMatchObject({ kubeconfig: '.local/kubeconfig', namespace: 'vigil-system', settingsFile: 'examples/settings.yaml', listen: '127.0.0.1:8080' });
    const settings = settingsFromYaml(TEXT, FILE);
    const job = settings.selfScrapeJobs.find((j) => j.job_name === 'vigil-operator') as { static_configs: { targets: string[] }[] };
    expect(job.static_configs[0]?.targets).toEqual([config.listen]);
  });

  test('the operator renders with it', () => {
    const rendered = renderConfig([], settingsFromYaml(TEXT, FILE));
    const prometheus = parse(rendered.prometheus['prometheus.yml'] ?? '') as { alerting: unknown; scrape_configs: { job_name: string }[]; global: Record<string, unknown> };
    expect(prometheus.scrape_configs.map((j) => j.job_name)).toEqual(['prometheus', 'vigil-operator']);
    expect(prometheus.alerting).toEqual({ alertmanagers: [{ static_configs: [{ targets: ['127.0.0.1:9093'] }] }] });
    expect(rendered.alertmanager['alertmanager.yml']).toContain('smtp_smarthost: 127.0.0.1:465');
  });
});
