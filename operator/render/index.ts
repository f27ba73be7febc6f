// renderConfig: the whole generated configuration for a set of valid MonitoredServices.
// Pure and deterministic: the same set, in any order, gives byte-identical files and hashes.
import { hash } from 'node:crypto';
import type { MonitoredService } from '../api/schema.js';
import { alertmanagerSkeleton, assembleAlertmanagerConfig, renderReceiverText, renderRouteText } from './alertmanager.js';
import { EMAIL_TEMPLATE } from './email-template.js';
import { ALERTMANAGER_CONFIG_FILE, compareRefs, compareStrings, EMAIL_TEMPLATE_FILE, jobName, PROMETHEUS_CONFIG_FILE, refOf, ruleFileName, SELF_SCRAPE_JOBS } from './names.js';
import { assemblePrometheusConfig, hasScrapeHints, prometheusSkeleton, renderScrapeJobsText } from './prometheus.js';
import { renderRuleFile } from './rules.js';
import { DEFAULT_SCRAPE_LIMIT_SETTINGS, mergeScrapeLimitSettings } from './scrape-limits.js';
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
  /** sha256 (hex) of each piece, taken with it: the config hashes are built from them (hashConfig). */
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

export function renderConfig(services: readonly MonitoredService[], settings: GlobalSettings, hints?: ScrapeHints): RenderedConfig {
  return assembleConfig(
    services.map((service) => withScrapeHints(renderServicePieces(service, settings), service, settings, hints)),
    settings,
  );
}

/**
 * The whole configuration from every service's pieces (any order; `pieces` must come from
 * renderServicePieces with these same settings): byte-identical to rendering the services.
 * `previous`: an earlier result of this function; a file set whose digest is unchanged is taken
 * from it instead of being assembled again (the digest covers everything the files are made of),
 * so the result is the same with or without it.
 */
export function assembleConfig(pieces: readonly ServicePieces[], settings: GlobalSettings, previous?: RenderedConfig): RenderedConfig {
  // The informer cache has no stable order: the output must not depend on it.
  const sorted = [...pieces].sort((a, b) => compareRefs(a.ref, b.ref));
  const prometheusBase = prometheusSkeleton(
    sorted.some((p) => p.scrapeJobs !== ''),
    settings,
  );
  const alertmanagerBase = alertmanagerSkeleton(
    sorted.some((p) => p.route !== ''),
    sorted.some((p) => p.receiver !== ''),
    settings,
  );
  const ruleFiles = sorted.map((p) => ruleFileName(p.ref));
  const watchdog = renderWatchdogRuleFile(settings);
  // The hashes from the pieces' digests: hashing the 38 MB of 10,000 services' files again on every
  // reconcile took ~70 ms (issue #13); a piece's digest is taken once, when it is rendered.
  const prometheusDigest = hashConfig([
    [
      PROMETHEUS_CONFIG_FILE,
      documentDigest(
        prometheusBase,
        sorted.map((p) => p.digests.scrapeJobs),
      ),
    ],
    ...sorted.map((p, i): FileDigest => [ruleFiles[i]!, p.digests.ruleFile]),
    [WATCHDOG_RULE_FILE, digest(watchdog)],
  ]);
  const alertmanagerDigest = hashConfig([
    [
      ALERTMANAGER_CONFIG_FILE,
      documentDigest(
        alertmanagerBase,
        sorted.map((p) => p.digests.routeAndReceiver),
      ),
    ],
    [EMAIL_TEMPLATE_FILE, digest(EMAIL_TEMPLATE)],
  ]);
  // One change moves one of the two file sets, often only its rule file: the other is not assembled again.
  const prometheus =
    previous?.digests.prometheus === prometheusDigest
      ? previous.prometheus
      : sortedFiles([
          [
            PROMETHEUS_CONFIG_FILE,
            assemblePrometheusConfig(
              sorted.map((p) => p.scrapeJobs),
              settings,
              prometheusBase,
            ),
          ],
          ...sorted.map((p, i): [string, string] => [ruleFiles[i]!, p.ruleFile]),
          [WATCHDOG_RULE_FILE, watchdog],
        ]);
  const alertmanager =
    previous?.digests.alertmanager === alertmanagerDigest
      ? previous.alertmanager
      : sortedFiles([
          [
            ALERTMANAGER_CONFIG_FILE,
            assembleAlertmanagerConfig(
              sorted.map((p) => p.route),
              sorted.map((p) => p.receiver),
              settings,
              alertmanagerBase,
            ),
          ],
          [EMAIL_TEMPLATE_FILE, EMAIL_TEMPLATE],
        ]);
  return {
    prometheus,
    alertmanager,
    prometheusHash: prometheusDigest.slice(0, HASH_LENGTH),
    alertmanagerHash: alertmanagerDigest.slice(0, HASH_LENGTH),
    digests: { prometheus: prometheusDigest, alertmanager: alertmanagerDigest },
    included: sorted.map((p) => p.ref),
  };
}

/** A file's name and the digest it enters the config hash with. */
type FileDigest = [name: string, digest: string];

/**
 * Names what the hash covers and how; change it whenever the way a document is put together from
 * its skeleton and pieces changes (yaml-fragments.ts splice), so that a new operator's output gets
 * a new hash and is written although skeleton and pieces stayed the same.
 */
const HASH_FORMAT = 'vigil-config/2';

/** sha256 of a text, hex. */
function digest(text: string): string {
  return hash('sha256', text, 'hex');
}

/**
 * The digest of a document assembled from a skeleton and per-service pieces (in order): the
 * document is a function of exactly these (yaml-fragments.ts splice), so equal digests mean equal
 * documents, and the pieces' text need not be read again.
 */
function documentDigest(skeleton: string, pieceDigests: readonly string[]): string {
  return digest(`${HASH_FORMAT}\u0000${skeleton.length}:${skeleton}${pieceDigests.join('')}`);
}

/**
 * The config hash of a file set (status fields, the config-hash annotation): sha256 over each
 * file's name and digest, in the services' order. A
 * deterministic function of the services and settings (a restarted operator computes the same
 * hash from the same objects), and a different file set gives a different hash. Full length here
 * (RenderedConfig.digests); status and annotations keep its first HASH_LENGTH characters.
 */
function hashConfig(files: readonly FileDigest[]): string {
  return digest(`${HASH_FORMAT}\n${files.map(([name, d]) => `${name}\u0000${d}`).join('\n')}`);
}

function sortedFiles(entries: [string, string][]): Record<string, string> {
  return Object.fromEntries(entries.sort(([a], [b]) => compareStrings(a, b)));
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
