// renderConfig: the whole generated configuration for a set of valid MonitoredServices.
// Pure and deterministic: the same set, in any order, gives byte-identical files and hashes.
import { createHash } from 'node:crypto';
import type { MonitoredService } from '../api/schema.js';
import { renderAlertmanagerConfig } from './alertmanager.js';
import { EMAIL_TEMPLATE } from './email-template.js';
import {
  ALERTMANAGER_CONFIG_FILE,
  compareStrings,
  EMAIL_TEMPLATE_FILE,
  PROMETHEUS_CONFIG_FILE,
  refOf,
  ruleFileName,
  sortServices,
} from './names.js';
import { renderPrometheusConfig } from './prometheus.js';
import { memoisedRuleFile } from './rules.js';
import type { GlobalSettings, RenderedConfig } from './types.js';
import { memoFor, settingsFingerprint } from './yaml-fragments.js';

export { renderAlertmanagerConfig } from './alertmanager.js';
export { renderPrometheusConfig } from './prometheus.js';
export { renderRuleFile } from './rules.js';
export * from './names.js';
export type * from './types.js';

/** Hex characters of the sha256 kept in status fields and annotations. */
export const HASH_LENGTH = 16;

export function renderConfig(services: MonitoredService[], settings: GlobalSettings): RenderedConfig {
  const sorted = sortServices(services);
  const prometheus: Record<string, string> = { [PROMETHEUS_CONFIG_FILE]: renderPrometheusConfig(sorted, settings) };
  const fingerprint = settingsFingerprint(settings);
  const memo = memoFor(sorted.length);
  for (const service of sorted) prometheus[ruleFileName(refOf(service))] = memoisedRuleFile(service, settings, memo, fingerprint);
  const alertmanager: Record<string, string> = {
    [ALERTMANAGER_CONFIG_FILE]: renderAlertmanagerConfig(sorted, settings),
    [EMAIL_TEMPLATE_FILE]: EMAIL_TEMPLATE,
  };
  return {
    prometheus: sortedFiles(prometheus),
    alertmanager: sortedFiles(alertmanager),
    prometheusHash: hashFiles(prometheus),
    alertmanagerHash: hashFiles(alertmanager),
    included: sorted.map(refOf),
  };
}

/**
 * sha256 over the file set (names and contents, length-prefixed so no two different sets
 * serialize alike), shortened to HASH_LENGTH hex characters.
 */
export function hashFiles(files: Record<string, string>): string {
  const hash = createHash('sha256');
  for (const name of Object.keys(files).sort(compareStrings)) {
    const content = files[name]!;
    hash.update(`${Buffer.byteLength(name)}:${name}${Buffer.byteLength(content)}:`);
    hash.update(content);
  }
  return hash.digest('hex').slice(0, HASH_LENGTH);
}

function sortedFiles(files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => compareStrings(a, b)));
}

/**
 * Settings for a cluster where nothing is configured: the production notification profile,
 * the 15s scrape/evaluation rhythm of the original stack, the in-cluster mail catcher behind
 * stunnel on port 465 (implicit TLS), Prometheus scraping itself. No default recipients: alerts
 * of services without their own recipients are dropped until the installation names some.
 */
export function defaultSettings(overrides: Partial<GlobalSettings> = {}): GlobalSettings {
  const defaults: GlobalSettings = {
    profile: 'production',
    scrapeInterval: '15s',
    evaluationInterval: '15s',
    smtp: {
      smarthost: 'mailcatcher:465',
      from: 'vigil@vigil.local',
      hello: 'vigil.local',
      requireTls: false,
    },
    defaultRecipients: [],
    alertmanagerTargets: ['localhost:9093'],
    prometheusUrl: 'http://localhost:9090',
    alertmanagerUrl: 'http://localhost:9093',
    rulesDir: '.',
    selfScrapeJobs: [{ job_name: 'prometheus', static_configs: [{ targets: ['localhost:9090'] }] }],
    externalLabels: {},
  };
  return { ...defaults, ...overrides, smtp: { ...defaults.smtp, ...overrides.smtp } };
}
