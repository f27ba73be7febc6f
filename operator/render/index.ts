// Rendering: each MonitoredService's pieces of the generated files (renderServicePieces), and the
// global settings. Joining every service's pieces into the files, and their hashes, is
// operator/assemble/config.ts (renderConfig, assembleConfig).
import { hash } from 'node:crypto';
import type { MonitoredService } from '../api/schema.js';
import { renderReceiverText, renderRouteText } from './alertmanager.js';
import { jobName, refOf, SELF_SCRAPE_JOBS } from './names.js';
import { hasScrapeHints, renderScrapeJobsText } from './prometheus.js';
import { renderRuleFile } from './rules.js';
import { DEFAULT_SCRAPE_LIMIT_SETTINGS, mergeScrapeLimitSettings } from './scrape-limits.js';
import type { SettingsOverrides } from './settings-schema.js';
import type { GlobalSettings, ObjectRef, ScrapeHints } from './types.js';

export { renderAlertmanagerConfig } from './alertmanager.js';
export { renderPrometheusConfig } from './prometheus.js';
export { renderRuleFile } from './rules.js';
export * from './names.js';
export type * from './types.js';

/**
 * Everything one MonitoredService contributes to the generated files, as text. A pure function of
 * (service, settings): the operator keeps it per object generation and settings
 * (assemble/service-cache.ts) so that a reconcile re-renders only what changed.
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
  /** sha256 (hex) of each piece, taken with it: the config hashes are built from them (assemble/config.ts hashConfig). */
  digests: { scrapeJobs: string; ruleFile: string; routeAndReceiver: string };
}

export function renderServicePieces(service: MonitoredService, settings: GlobalSettings): ServicePieces {
  const scrapeJobs = renderScrapeJobsText(service, settings);
  const ruleFile = renderRuleFile(service, settings);
  const route = renderRouteText(service);
  const receiver = renderReceiverText(service, settings);
  return {
    ref: refOf(service),
    scrapeJobs,
    ruleFile,
    route,
    receiver,
    digests: { scrapeJobs: digest(scrapeJobs), ruleFile: digest(ruleFile), routeAndReceiver: digest(`${route.length}:${route}${receiver}`) },
  };
}

/**
 * `pieces` of `service` with its scrape jobs rendered under `hints` when they concern it (rare:
 * Services over the same pods), and its rule file with the downReason of its jobs (a misconfigured
 * selector or port, issue #21), else `pieces` itself (issue #15).
 */
export function withScrapeHints(pieces: ServicePieces, service: MonitoredService, settings: GlobalSettings, hints: ScrapeHints | undefined): ServicePieces {
  let result = pieces;
  if (hasScrapeHints(service, hints)) {
    const scrapeJobs = renderScrapeJobsText(service, settings, hints);
    result = { ...result, scrapeJobs, digests: { ...result.digests, scrapeJobs: digest(scrapeJobs) } };
  }
  const downReason = downReasonOf(service, hints);
  if (downReason !== undefined) {
    const ruleFile = renderRuleFile(service, settings, downReason);
    result = { ...result, ruleFile, digests: { ...result.digests, ruleFile: digest(ruleFile) } };
  }
  return result;
}

/** The downReason hints of the service's jobs, joined (undefined without any). */
function downReasonOf(service: MonitoredService, hints: ScrapeHints | undefined): string | undefined {
  if (!hints) return undefined;
  const reasons = [...new Set(service.spec.endpoints.map((e) => hints[jobName(refOf(service), e.port)]?.downReason).filter((r): r is string => r !== undefined))];
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}

/** sha256 of a text, hex: the digest of a piece (ServicePieces.digests) and of a file (assemble/config.ts). */
export function digest(text: string): string {
  return hash('sha256', text, 'hex');
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
    selfScrapeJobs: [{ job_name: SELF_SCRAPE_JOBS.prometheus, static_configs: [{ targets: ['localhost:9090'] }] }],
    externalLabels: {},
    scrapeLimits: DEFAULT_SCRAPE_LIMIT_SETTINGS,
  };
  // forceImplicitTls belongs to the default smarthost (stunnel): another smarthost without its own
  // setting gets Alertmanager's port-based default, not the catcher's forced implicit TLS.
  const { forceImplicitTls: _catcherOnly, ...portBased } = defaults.smtp;
  const smtpBase = overrides.smtp?.smarthost !== undefined ? portBased : defaults.smtp;
  return { ...defaults, ...overrides, smtp: { ...smtpBase, ...overrides.smtp }, scrapeLimits: mergeScrapeLimitSettings(defaults.scrapeLimits, overrides.scrapeLimits) };
}
