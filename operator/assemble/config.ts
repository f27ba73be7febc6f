// renderConfig: the whole generated configuration for a set of valid MonitoredServices, joined
// from each service's pieces (render/index.ts renderServicePieces), with its hashes.
// Pure and deterministic: the same set, in any order, gives byte-identical files and hashes.
import type { MonitoredService } from '../api/schema.js';
import { alertmanagerSkeleton, assembleAlertmanagerConfig, distinctReceiverIndices } from '../render/alertmanager.js';
import { EMAIL_TEMPLATE } from '../render/email-template.js';
import { digest, renderServicePieces, withScrapeHints, type ServicePieces } from '../render/index.js';
import { ALERTMANAGER_CONFIG_FILE, compareRefs, compareStrings, EMAIL_TEMPLATE_FILE, PROMETHEUS_CONFIG_FILE, ruleFileName } from '../render/names.js';
import { assemblePrometheusConfig, prometheusSkeleton } from '../render/prometheus.js';
import type { GlobalSettings, RenderedConfig, ScrapeHints } from '../render/types.js';
import { renderWatchdogRuleFile, WATCHDOG_RULE_FILE } from '../render/watchdog.js';

/** Hex characters of the sha256 kept in status fields and annotations. */
export const HASH_LENGTH = 16;

export function renderConfig(services: readonly MonitoredService[], settings: GlobalSettings, hints?: ScrapeHints): RenderedConfig {
  return assembleConfig(
    services.map((service) => withScrapeHints(renderServicePieces(service, settings), service, settings, hints)),
    settings,
  );
}

/**
 * The whole configuration from every service's pieces (any order; `pieces` must come from
 * renderServicePieces with these same settings): byte-identical to rendering the services.
 * `opts.prometheus` false: the Prometheus files are left empty and their hash and digest too, for
 * a caller that assembles them as partitions (service-cache.ts).
 * `previous`: an earlier result of this function; a file set whose digest is unchanged is taken
 * from it instead of being assembled again (the digest covers everything the files are made of),
 * so the result is the same with or without it.
 */
export function assembleConfig(pieces: readonly ServicePieces[], settings: GlobalSettings, previous?: RenderedConfig, opts: { prometheus?: boolean } = {}): RenderedConfig {
  const withPrometheus = opts.prometheus ?? true;
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
  // Without the Prometheus part nothing of it is computed: its files, names and hash are O(services).
  const ruleFiles = withPrometheus ? sorted.map((p) => ruleFileName(p.ref)) : [];
  const watchdog = renderWatchdogRuleFile(settings);
  // The hashes from the pieces' digests: hashing the 38 MB of 10,000 services' files again on every
  // reconcile took ~70 ms (issue #13); a piece's digest is taken once, when it is rendered.
  const prometheusDigest = !withPrometheus
    ? ''
    : hashConfig([
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
  // alertmanager.yml holds each recipient set's route and receiver once (alertmanager.ts).
  const receiverPieces = distinctReceiverIndices(sorted.map((p) => p.route)).map((i) => sorted[i]!);
  const alertmanagerDigest = hashConfig([
    [
      ALERTMANAGER_CONFIG_FILE,
      documentDigest(
        alertmanagerBase,
        receiverPieces.map((p) => p.digests.routeAndReceiver),
      ),
    ],
    [EMAIL_TEMPLATE_FILE, digest(EMAIL_TEMPLATE)],
  ]);
  // One change moves one of the two file sets, often only its rule file: the other is not assembled again.
  // Without the Prometheus part (a partitioned config is assembled by assemblePartitionedPrometheus): empty.
  const prometheus = !withPrometheus
    ? {}
    : previous?.digests.prometheus === prometheusDigest
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
              receiverPieces.map((p) => p.route),
              receiverPieces.map((p) => p.receiver),
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
const HASH_FORMAT = 'vigil-config/3';

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
