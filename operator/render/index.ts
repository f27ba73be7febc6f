// renderConfig: the whole generated configuration for a set of valid MonitoredServices.
// Pure and deterministic: the same set, in any order, gives byte-identical files and hashes.
import { createHash } from 'node:crypto';
import type { MonitoredService } from '../api/schema.js';
import { assembleAlertmanagerConfig, renderReceiverText, renderRouteText } from './alertmanager.js';
import { EMAIL_TEMPLATE } from './email-template.js';
import { ALERTMANAGER_CONFIG_FILE, compareRefs, compareStrings, EMAIL_TEMPLATE_FILE, PROMETHEUS_CONFIG_FILE, refOf, ruleFileName } from './names.js';
import { assemblePrometheusConfig, hasScrapeHints, renderScrapeJobsText } from './prometheus.js';
import { renderRuleFile } from './rules.js';
import type { SettingsOverrides } from './settings-schema.js';
import { renderWatchdogRuleFile, WATCHDOG_RULE_FILE } from './watchdog.js';
import type { GlobalSettings, ObjectRef, RenderedConfig, ScrapeHints } from './types.js';

export { renderAlertmanagerConfig } from './alertmanager.js';
export { renderPrometheusConfig } from './prometheus.js';
export { renderRuleFile } from './rules.js';
export * from './names.js';
export type * from './types.js';

/** Hex characters of the sha256 kept in status fields and annotations. */
export const HASH_LENGTH = 16;

/**
 * Everything one MonitoredService contributes to the generated files, as text. A pure function of
 * (service, settings): the operator keeps it per object generation and settings
 * (controller/service-cache.ts) so that a reconcile re-renders only what changed.
 */
export interface ServicePieces {
  ref: ObjectRef;
  /** Its scrape jobs as block-sequence items of prometheus.yml's scrape_configs ('' without endpoints). */
  scrapeJobs: string;
  /** Its whole rule file. */
  ruleFile: string;
  /** Its route and email receiver as items of alertmanager.yml's lists ('' without recipients). */
  route: string;
  receiver: string;
}

export function renderServicePieces(service: MonitoredService, settings: GlobalSettings): ServicePieces {
  return {
    ref: refOf(service),
    scrapeJobs: renderScrapeJobsText(service, settings),
    ruleFile: renderRuleFile(service, settings),
    route: renderRouteText(service),
    receiver: renderReceiverText(service, settings),
  };
}

/**
 * `pieces` of `service` with its scrape jobs rendered under `hints` when they concern it (rare:
 * Services over the same pods), else `pieces` itself (issue #15).
 */
export function withScrapeHints(pieces: ServicePieces, service: MonitoredService, settings: GlobalSettings, hints: ScrapeHints | undefined): ServicePieces {
  return hasScrapeHints(service, hints) ? { ...pieces, scrapeJobs: renderScrapeJobsText(service, settings, hints) } : pieces;
}

export function renderConfig(services: readonly MonitoredService[], settings: GlobalSettings, hints?: ScrapeHints): RenderedConfig {
  return assembleConfig(
    services.map((service) => withScrapeHints(renderServicePieces(service, settings), service, settings, hints)),
    settings,
  );
}

/**
 * The whole configuration from every service's pieces (any order; `pieces` must come from
 * renderServicePieces with these same settings): byte-identical to rendering the services.
 */
export function assembleConfig(pieces: readonly ServicePieces[], settings: GlobalSettings): RenderedConfig {
  // The informer cache has no stable order: the output must not depend on it.
  const sorted = [...pieces].sort((a, b) => compareRefs(a.ref, b.ref));
  const prometheus: Record<string, string> = {
    [PROMETHEUS_CONFIG_FILE]: assemblePrometheusConfig(
      sorted.map((p) => p.scrapeJobs),
      settings,
    ),
  };
  for (const p of sorted) prometheus[ruleFileName(p.ref)] = p.ruleFile;
  prometheus[WATCHDOG_RULE_FILE] = renderWatchdogRuleFile(settings);
  const alertmanager: Record<string, string> = {
    [ALERTMANAGER_CONFIG_FILE]: assembleAlertmanagerConfig(
      sorted.map((p) => p.route),
      sorted.map((p) => p.receiver),
      settings,
    ),
    [EMAIL_TEMPLATE_FILE]: EMAIL_TEMPLATE,
  };
  return {
    prometheus: sortedFiles(prometheus),
    alertmanager: sortedFiles(alertmanager),
    prometheusHash: hashFiles(prometheus),
    alertmanagerHash: hashFiles(alertmanager),
    included: sorted.map((p) => p.ref),
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
 * stunnel on port 465 (implicit TLS, forced: not left to the port number), Prometheus scraping itself. No default recipients: alerts
 * of services without their own recipients are dropped until the installation names some.
 */
export function defaultSettings(overrides: SettingsOverrides = {}): GlobalSettings {
  const defaults: GlobalSettings = {
    profile: 'production',
    scrapeInterval: '15s',
    evaluationInterval: '15s',
    smtp: {
      smarthost: 'mailcatcher:465',
      from: 'vigil@vigil.local',
      hello: 'vigil.local',
      requireTls: false,
      forceImplicitTls: true,
    },
    defaultRecipients: [],
    alertmanagerTargets: ['localhost:9093'],
    prometheusUrl: 'http://localhost:9090',
    alertmanagerUrl: 'http://localhost:9093',
    rulesDir: '.',
    selfScrapeJobs: [{ job_name: 'prometheus', static_configs: [{ targets: ['localhost:9090'] }] }],
    externalLabels: {},
  };
  // forceImplicitTls belongs to the default smarthost (stunnel): another smarthost without its own
  // setting gets Alertmanager's port-based default, not the catcher's forced implicit TLS.
  const { forceImplicitTls: _catcherOnly, ...portBased } = defaults.smtp;
  const smtpBase = overrides.smtp?.smarthost !== undefined ? portBased : defaults.smtp;
  return { ...defaults, ...overrides, smtp: { ...smtpBase, ...overrides.smtp } };
}
