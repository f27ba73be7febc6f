// Status of one MonitoredService as a pure function of what the operator observes: the object
// (with the status it last wrote, which is how nothing needs to be kept in memory), its
// validation result, the desired config hashes and what the sync sidecars report.
import type { Condition, InstallStatus, MonitoredServiceStatus } from '../api/schema.js';
import type { SyncReport } from './annotations.js';
import type { ResolvedScrapeLimits } from '../render/scrape-limits.js';
import { scrapeLimitHit, scrapeLimitMessage } from './scrape-limits.js';
import { formatDurationMs } from '../validate/duration.js';
import type { ReceiverDelivery } from './email-delivery.js';

export const CONDITION_TYPES = ['Valid', 'ConfigApplied', 'TargetsHealthy', 'RulesHealthy', 'EmailDelivered', 'Ready'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export const REASONS = {
  valid: 'SpecValid',
  invalid: 'InvalidSpec',
  noLongerValid: 'NoLongerValid',
  applied: 'ConfigApplied',
  pending: 'ApplyPending',
  reloadFailed: 'ReloadFailed',
  configTooLarge: 'ConfigTooLarge',
  notIncluded: 'NotIncluded',
  ready: 'Ready',
  targetsHealthy: 'TargetsHealthy',
  noTargets: 'NoTargets',
  noHealthyTargets: 'NoHealthyTargets',
  tlsError: 'TLSError',
  httpStatus: 'HTTPErrorStatus',
  scrapeTimeout: 'ScrapeTimeout',
  connectionRefused: 'ConnectionRefused',
  limitExceeded: 'LimitExceeded',
  notScrapedYet: 'NotScrapedYet',
  notDiscoveredYet: 'NotDiscoveredYet',
  rulesHealthy: 'RulesHealthy',
  ruleEvaluationFailed: 'RuleEvaluationFailed',
  rulesNotLoaded: 'RulesNotLoaded',
  rulesNotEvaluatedYet: 'RulesNotEvaluatedYet',
  notEvaluated: 'NotEvaluated',
  noMatchingService: 'NoMatchingService',
  portNotFound: 'PortNotFound',
  noNamedPort: 'NoNamedPort',
  prometheusUnreachable: 'PrometheusUnreachable',
  alertmanagerUnreachable: 'AlertmanagerUnreachable',
  alertmanagerConfigMismatch: 'AlertmanagerConfigMismatch',
  prometheusConfigMismatch: 'PrometheusConfigMismatch',
  targetsUnknown: 'TargetsUnknown',
  notScraped: 'NotScraped',
  overlappingServices: 'OverlappingServices',
  /** A Secret/ConfigMap (or key) that tlsConfig, authorization or basicAuth names does not exist. */
  credentialsNotFound: 'CredentialsNotFound',
  rejectedByPrometheus: 'RejectedByPrometheus',
  rejectedByAlertmanager: 'RejectedByAlertmanager',
  emailDelivered: 'EmailDelivered',
  notificationsFailing: 'NotificationsFailing',
  noRecipients: 'NoRecipients',
  noNotificationsYet: 'NoNotificationsYet',
  deliveryUnknown: 'DeliveryUnknown',
} as const;

/**
 * Said by EmailDelivered (False, NoRecipients) and so by Ready when a service's alerts reach no one
 * (the install's smtp.allowNoDefaultRecipients): the service is monitored and its alerts are visible
 * in Alertmanager, but nobody would be told when it goes down.
 */
export const UNROUTED_NOTE = 'its alerts are emailed to nobody: it names no recipients (spec.notify.email.to) and the install has no default recipients (smtp.defaultRecipients)';

/**
 * Said by Ready when a service has no alert at all (downAlert disabled, no rules): scraping only is a
 * use of its own (its series feed other rules and dashboards, as a ServiceMonitor without a
 * PrometheusRule does), so it is not refused; Ready stays True and says that nothing pages.
 */
export const NO_ALERTS_NOTE = 'it has no alerts (spec.downAlert.enabled is false and spec.rules is empty): it is scraped only, and nothing pages anyone when it goes down';

/** Starts the sentence about Services selecting the same pods (selection.ts describeDuplicates). */
export const OVERLAP_PREFIX = 'overlapping Services: ';

/** TargetsHealthy reasons that mean the spec and the cluster's Services do not fit together. */
const MISCONFIGURED: readonly string[] = [REASONS.noMatchingService, REASONS.portNotFound, REASONS.noNamedPort];

/** Why target counts are not known right now (TargetsHealthy=Unknown). */
export interface TargetsUnavailable {
  reason: typeof REASONS.prometheusUnreachable | typeof REASONS.targetsUnknown;
  message: string;
}

/** What the operator's Service cache says about the selector and ports (selection.ts). */
export interface SelectionObservation {
  problems: { reason: string; message: string }[];
  /** Sentence naming Services that select the same pods (scraped once), if any. */
  duplicates?: string | undefined;
}

/** TargetsHealthy reasons of a service whose every scraped target fails, by the class of Prometheus's error (targets.ts classifyScrapeError). */
export const SCRAPE_ERROR_REASONS: readonly string[] = [REASONS.tlsError, REASONS.httpStatus, REASONS.scrapeTimeout, REASONS.connectionRefused, REASONS.limitExceeded, REASONS.noHealthyTargets];

/** Failing targets of one service that fail the same way (targets.ts countTargets). */
export interface ScrapeFailure {
  /** One of SCRAPE_ERROR_REASONS. */
  reason: string;
  /** Prometheus's lastError of `instance`, the local end of its connection masked (targets.ts maskLocalAddress). */
  error: string;
  /** How many of the service's targets fail this way. */
  targets: number;
  /** The instance the error is quoted from (first in sort order). */
  instance: string;
  /**
   * Its scrape URL (targets API `scrapeUrl`) without query or credentials, for an HTTP status error,
   * which does not name the path itself (`server returned HTTP status 404 Not Found`).
   */
  scrapeUrl?: string;
}

export interface TargetCounts {
  discovered: number;
  /** Last scrape succeeded (health "up"). */
  healthy: number;
  /** Discovered but not scraped yet (health "unknown"); absent when 0. */
  notScraped?: number;
  /** Why the failing targets (health "down") fail, most targets first; absent when none fails. */
  failures?: ScrapeFailure[];
}

/**
 * A service without targets whose scrape jobs Prometheus loaded less than its discovery grace ago
 * (plan.ts discoveryGraceOf): discovery and the first scrape may still be under way.
 */
export interface DiscoveryGrace {
  /** The grace (render/rules.ts discoveryGraceMs), ms. */
  graceMs: number;
}

/** A service's rule group as Prometheus evaluates it (rules-health.ts). */
export interface RuleHealth {
  /** Rules in the group. */
  rules: number;
  /** Rules evaluated at least once (health ok or err). */
  evaluated: number;
  /** Rules whose last evaluation failed (health "err"), in group order, with Prometheus's lastError. */
  failures?: { rule: string; error: string }[];
  /** Failing rules beyond those listed. */
  moreFailures?: number;
}

/** Why ConfigApplied is not True although the sidecar reported the config applied (Alertmanager's or Prometheus's). */
export interface AlertmanagerProblem {
  status: 'Unknown' | 'False';
  reason: string;
  message: string;
}

export interface ServiceObservation {
  generation: number;
  previous: MonitoredServiceStatus | undefined;
  /** Undefined when valid; otherwise the readable issues (`<ns>/<name>: <field>: <message>; ...`). */
  invalidMessage?: string;
  /** In the config the operator renders now. */
  included: boolean;
  desired: { prometheusHash: string; alertmanagerHash: string };
  /**
   * With Prometheus shards: the service's shard, as ConfigApplied names it (`Prometheus shard 1`);
   * `desired.prometheusHash` and `prometheus` are then that shard's. Absent: one Prometheus.
   */
  prometheusName?: string;
  /** The scrape limits the service runs with (render/scrape-limits.ts): a limit error names its field and value. */
  scrapeLimits?: ResolvedScrapeLimits;
  prometheus: SyncReport;
  alertmanager: SyncReport;
  /** Set when the desired config cannot be written at all (too large for one object): why. */
  undeliverable?: string;
  /** Set when this service was left out because a Secret/ConfigMap (or key) its scrape settings read is missing: which. */
  credentialsMissing?: string;
  /** Set when this service was left out so that the others fit in one object (assemble/size-fit.ts leaveOutUntilFits): why. */
  leftOut?: string;
  /** Set when a server refused this generation and the others run without it (isolation.ts): RejectedBy* and why. */
  rejected?: { reason: string; message: string };
  /** Alertmanager does not answer, or runs another config than its sidecar applied (plan.ts alertmanagerProblem). */
  alertmanagerProblem?: AlertmanagerProblem;
  /** Prometheus runs another config than its sidecar applied (plan.ts prometheusProblem). */
  prometheusProblem?: AlertmanagerProblem;
  /** Counts from the last successful poll of Prometheus; undefined when not known (see targetsUnavailable). */
  targets?: TargetCounts;
  /** Set while it has no target within its discovery grace: NotDiscoveredYet instead of NoTargets. */
  discoveryGrace?: DiscoveryGrace;
  /** Rule health from the same poll; `loaded: false` when Prometheus has no group of the service; undefined when not known. */
  rules?: RuleHealth | { loaded: false };
  /** Set when this generation is valid: it becomes the one kept in force through later invalid edits. */
  /** null: there is none (a new service a server refused: its generation never ran), so the stored one is not kept either. */
  lastValid?: { generation: number; spec: string } | null;
  /** Set when this generation is invalid but an older valid one is in the config instead. */
  inForceGeneration?: number;
  /** Parts of inForceGeneration this operator version refuses and left out (plan.ts lastValidInForce), e.g. `spec.rules[1] (HighLatency)`. */
  inForceWithout?: string[];
  /** This generation passed an earlier operator version (it is lastValidGeneration) and this one refuses it. */
  noLongerValid?: boolean;
  /** The stored last valid generation, which this operator version refuses with no part left to keep: nothing is in force. */
  lastValidRefused?: number;
  /** The install reconciling the object (install-scope.ts), recorded as status.install. */
  install?: InstallStatus;
  /**
   * Why targets are undefined: Prometheus unreachable, or no Prometheus URL. Undefined with
   * undefined targets: not polled yet, the stored counts stand.
   */
  targetsUnavailable?: TargetsUnavailable;
  /** Undefined when the operator cannot read Services (no cache yet, or no RBAC for them). */
  selection?: SelectionObservation;
  /** Set when its alerts reach no one: it names no recipients and the install has no default recipients. */
  unrouted?: boolean;
  /** Set when it renders no alert at all (NO_ALERTS_NOTE). */
  noAlerts?: boolean;
  /** The receiver its route ends in and what Alertmanager's counters say of it (plan.ts emailObservation); undefined: not routed (invalid). */
  email?: EmailObservation;
  now: string;
}

/** EmailDelivered's input: the service's receiver and its last attempts. */
export interface EmailObservation {
  /** The Alertmanager receiver of the service's route (its own, or the default one). */
  receiver: string;
  /** The receiver's state from the last poll; undefined when no attempt was seen since the operator started. */
  delivery?: ReceiverDelivery;
  /** Why nothing can be known of delivery (no poll of Alertmanager, unreachable, no receiver names in its metrics). */
  unknown?: { reason: string; message: string };
}

function findCondition(status: MonitoredServiceStatus | undefined, type: ConditionType): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** A condition carrying the previous lastTransitionTime when its status did not change. */
function condition(previous: MonitoredServiceStatus | undefined, type: ConditionType, status: Condition['status'], reason: string, message: string, generation: number, now: string): Condition {
  const prev = findCondition(previous, type);
  const lastTransitionTime = prev && prev.status === status ? prev.lastTransitionTime : now;
  return { type, status, reason, message, lastTransitionTime, observedGeneration: generation };
}

function isTrueFor(status: MonitoredServiceStatus | undefined, type: ConditionType, generation: number): boolean {
  const c = findCondition(status, type);
  return c?.status === 'True' && c.observedGeneration === generation;
}

/** A reload of the desired hash failed on this target: the error message, else undefined. */
export function reloadFailure(report: SyncReport, desiredHash: string): string | undefined {
  if (report.failedHash === desiredHash && report.reloadError !== undefined && report.appliedHash !== desiredHash) {
    return report.reloadError;
  }
  return undefined;
}

/**
 * What ConfigApplied needs from the desired hashes and the sidecars' reports, the same for every
 * object of one reconcile. computeStatus reads desired, prometheus and alertmanager only through
 * this, so the controller can tell from it (with the other inputs) that a status cannot have
 * changed although the desired hashes moved (status-memo.ts, issue #13).
 */
export interface ConfigApplyState {
  prometheusApplied: boolean;
  alertmanagerApplied: boolean;
  /** When both are applied: the config hash recorded in the status, and the True message's words. */
  running?: { prometheusHash: string; message: string };
  /** Reload failures of the desired configs, in words. */
  failures: string[];
  /** With several replicas: the replica of a server not applied yet and what it runs (SyncReport.behind), in words. */
  behind: string[];
}

export function configApplyState(desired: ServiceObservation['desired'], prometheus: SyncReport, alertmanager: SyncReport, prometheusName = 'Prometheus'): ConfigApplyState {
  const prometheusApplied = prometheus.appliedHash === desired.prometheusHash;
  const alertmanagerApplied = alertmanager.appliedHash === desired.alertmanagerHash;
  const failures: string[] = [];
  const promErr = reloadFailure(prometheus, desired.prometheusHash);
  const amErr = reloadFailure(alertmanager, desired.alertmanagerHash);
  const by = (report: SyncReport) => (report.failedBy !== undefined ? ` ${report.failedBy}` : '');
  if (promErr !== undefined) failures.push(`${prometheusName}${by(prometheus)} could not load config ${desired.prometheusHash}: ${promErr}`);
  if (amErr !== undefined) failures.push(`Alertmanager${by(alertmanager)} could not load config ${desired.alertmanagerHash}: ${amErr}`);
  const behind: string[] = [];
  if (!prometheusApplied && prometheus.behind !== undefined) behind.push(`${prometheusName} ${prometheus.behind}`);
  if (!alertmanagerApplied && alertmanager.behind !== undefined) behind.push(`Alertmanager ${alertmanager.behind}`);
  return {
    prometheusApplied,
    alertmanagerApplied,
    ...(prometheusApplied && alertmanagerApplied
      ? {
          running: {
            prometheusHash: desired.prometheusHash,
            message: `${prometheusName} runs config ${desired.prometheusHash} and Alertmanager runs config ${desired.alertmanagerHash}`,
          },
        }
      : {}),
    failures,
    behind,
  };
}

/**
 * ConfigApplied policy:
 * - True when both sidecars report the desired hashes as applied.
 * - While a NEWER config is pending (because some other service changed), a service that was
 *   already applied at its current generation stays True: the running config still contains it
 *   exactly as specified. Without this, every apply anywhere would flip every service's Ready
 *   to False for a few seconds. Its own spec change (new generation) does make it False until
 *   the config with the new generation is loaded.
 * - Otherwise False: ConfigTooLarge when the operator cannot even write the config, ReloadFailed
 *   with the sidecar's error, or ApplyPending.
 */
export function computeStatus(obs: ServiceObservation): MonitoredServiceStatus {
  const { previous, generation, now } = obs;
  const conditions: Condition[] = [];
  let appliedConfigHash = previous?.appliedConfigHash;

  // The kept generation runs only when it made it into the config (not left out for its credentials or size).
  const keptOut = obs.credentialsMissing !== undefined || obs.leftOut !== undefined || !obs.included;
  const inForce = obs.invalidMessage !== undefined && obs.inForceGeneration !== undefined && !keptOut ? obs.inForceGeneration : undefined;
  // Checks of what is in the config apply to the kept generation of an invalid edit too.
  const configured = obs.invalidMessage === undefined || obs.inForceGeneration !== undefined;
  const without = obs.inForceWithout?.length ? ` without ${obs.inForceWithout.join(', ')}, which this operator version refuses` : '';
  const refused = obs.invalidMessage !== undefined && inForce === undefined ? obs.lastValidRefused : undefined;
  const keptNote =
    inForce !== undefined
      ? `; the config keeps running ${inForce === generation ? 'this generation (valid for an earlier operator version)' : `generation ${inForce}, the last valid one${without ? ',' : ''}`}${without}`
      : refused !== undefined
        ? `; this operator version also refuses ${refused === generation ? 'this generation, which an earlier one ran' : `generation ${refused}, the last valid one`}, and no part of it can be kept (only rules and endpoints can be left out): the service is not monitored until the spec is fixed`
        : '';
  const valid =
    obs.invalidMessage === undefined
      ? condition(previous, 'Valid', 'True', REASONS.valid, 'spec passed validation', generation, now)
      : condition(previous, 'Valid', 'False', obs.noLongerValid ? REASONS.noLongerValid : REASONS.invalid, obs.invalidMessage + keptNote, generation, now);
  conditions.push(valid);

  let applied: Condition;
  if (obs.credentialsMissing !== undefined && configured) {
    applied = condition(previous, 'ConfigApplied', 'False', REASONS.credentialsNotFound, obs.credentialsMissing, generation, now);
    appliedConfigHash = undefined;
  } else if (obs.rejected !== undefined && obs.invalidMessage === undefined) {
    applied = condition(previous, 'ConfigApplied', 'False', obs.rejected.reason, obs.rejected.message, generation, now);
    appliedConfigHash = undefined;
  } else if (obs.leftOut !== undefined && configured) {
    applied = condition(previous, 'ConfigApplied', 'False', REASONS.configTooLarge, obs.leftOut, generation, now);
    appliedConfigHash = undefined;
  } else if ((obs.invalidMessage !== undefined && inForce === undefined) || !obs.included) {
    applied = condition(
      previous,
      'ConfigApplied',
      'False',
      REASONS.notIncluded,
      obs.invalidMessage === undefined
        ? 'not included in the generated config'
        : refused !== undefined
          ? `left out of the generated config: this operator version refuses ${refused === generation ? 'this generation, which an earlier one ran' : `generation ${refused}, the last valid one`}; fix what Valid names`
          : 'left out of the generated config until the spec is valid',
      generation,
      now,
    );
    appliedConfigHash = undefined;
  } else {
    // desired, prometheus and alertmanager are read through configApplyState only (StatusMemo relies on it).
    const { prometheusApplied: promOk, alertmanagerApplied: amOk, running, failures, behind } = configApplyState(obs.desired, obs.prometheus, obs.alertmanager, obs.prometheusName);
    if (running !== undefined) {
      applied = condition(
        previous,
        'ConfigApplied',
        'True',
        REASONS.applied,
        `${inForce !== undefined ? `${inForce === generation ? 'this generation' : `generation ${inForce} (the last valid one)`} is in force${without}: ` : ''}${running.message}`,
        generation,
        now,
      );
      appliedConfigHash = running.prometheusHash;
    } else if (isTrueFor(previous, 'ConfigApplied', generation)) {
      applied = findCondition(previous, 'ConfigApplied')!;
    } else if (obs.undeliverable !== undefined) {
      applied = condition(previous, 'ConfigApplied', 'False', REASONS.configTooLarge, obs.undeliverable, generation, now);
    } else {
      if (failures.length > 0) {
        applied = condition(previous, 'ConfigApplied', 'False', REASONS.reloadFailed, `${failures.join('; ')} (the last good config keeps running)`, generation, now);
      } else {
        const waiting = [!promOk ? (obs.prometheusName ?? 'Prometheus') : undefined, !amOk ? 'Alertmanager' : undefined].filter(Boolean).join(' and ');
        applied = condition(
          previous,
          'ConfigApplied',
          'False',
          REASONS.pending,
          `waiting for ${waiting} to load the config that includes generation ${generation}${behind.length > 0 ? ` (${behind.join('; ')})` : ''}`,
          generation,
          now,
        );
      }
    }
  }
  // The sidecars confirmed the config once; polls of Prometheus and Alertmanager say whether that still holds.
  const serverProblem = obs.prometheusProblem ?? obs.alertmanagerProblem;
  if (applied.status === 'True' && serverProblem) {
    applied = condition(previous, 'ConfigApplied', serverProblem.status, serverProblem.reason, serverProblem.message, generation, now);
  }
  conditions.push(applied);

  // A service whose invalid edit keeps its last valid generation in force is still scraped (issue #14).
  const scraped = valid.status === 'True' || inForce !== undefined;
  const targets = computeTargetsHealthy(obs, scraped, applied);
  conditions.push(targets.condition);
  const rules = computeRulesHealthy(obs, scraped);
  conditions.push(rules);
  const email = computeEmailDelivered(obs, scraped);
  conditions.push(email);
  conditions.push(computeReady(obs, valid, applied, targets.condition, rules, email));

  const status: MonitoredServiceStatus = { observedGeneration: generation, conditions };
  const install = obs.install ?? previous?.install;
  if (install) status.install = install;
  if (appliedConfigHash !== undefined) status.appliedConfigHash = appliedConfigHash;
  const lastValid =
    obs.lastValid === null
      ? undefined
      : (obs.lastValid ??
        (previous?.lastValidGeneration !== undefined && previous.lastValidSpec !== undefined ? { generation: previous.lastValidGeneration, spec: previous.lastValidSpec } : undefined));
  if (lastValid) {
    status.lastValidGeneration = lastValid.generation;
    status.lastValidSpec = lastValid.spec;
  }
  if (targets.counts) {
    status.discoveredTargets = targets.counts.discovered;
    status.healthyTargets = targets.counts.healthy;
  }
  return status;
}

/**
 * TargetsHealthy: whether Prometheus scrapes at least one target of this service successfully.
 * - False, naming what is wrong, when the selector matches no Service or the selected Services
 *   have no port of an endpoint's name (or only unnamed ports): Prometheus cannot discover
 *   anything there, whatever the counts say.
 * - Unknown when the counts are not known: PrometheusUnreachable (polls fail, see TargetsPoller; the
 *   counts are removed rather than frozen) or TargetsUnknown (no Prometheus URL, no poll yet).
 * - False NoTargets (0 discovered), blaming ConfigApplied's reason when Prometheus runs none of its jobs
 *   (NOT_RUN: left out, credentials missing); Unknown NotDiscoveredYet instead within the discovery grace of
 *   its current scrape jobs (the grace its ServiceDown alert has: not a failure yet); Unknown
 *   NotScrapedYet when no target was scraped yet (not a failure); False when every scraped target fails, the reason being the class of the most common
 *   error (SCRAPE_ERROR_REASONS) and the message quoting Prometheus's errors; else True (with the
 *   errors of the failing targets, if any).
 * - Before the first poll after an operator restart, the stored condition of this generation stands.
 * An invalid spec is not scraped: Unknown, NotScraped, no counts.
 */
function computeTargetsHealthy(obs: ServiceObservation, scraped: boolean, applied: Condition): { condition: Condition; counts?: TargetCounts } {
  const { previous, generation, now } = obs;
  const make = (status: Condition['status'], reason: string, message: string) => condition(previous, 'TargetsHealthy', status, reason, message, generation, now);
  if (!scraped) return { condition: make('Unknown', REASONS.notScraped, 'not scraped until the spec is valid') };
  // Right after an operator restart, before its first poll, the stored counts are the best
  // knowledge (one poll interval at most); when Prometheus is known unreachable they are not.
  const counts =
    obs.targets ?? (obs.targetsUnavailable === undefined && previous?.discoveredTargets !== undefined ? { discovered: previous.discoveredTargets, healthy: previous.healthyTargets ?? 0 } : undefined);
  const problems = obs.selection?.problems ?? [];
  const duplicates = obs.selection?.duplicates ? `; ${obs.selection.duplicates}` : '';
  if (problems.length > 0) {
    const reason = problems[0]!.reason;
    return { condition: make('False', reason, problems.map((p) => p.message).join('; ') + duplicates), ...(counts ? { counts } : {}) };
  }
  // The stored counts do not say why targets fail (nor which are not scraped yet): the stored
  // condition does. Recomputing it from the counts alone would turn HTTPErrorStatus into
  // NoHealthyTargets and back after every operator restart, with an Event each way.
  const stored = notPolledYet(obs) ? findCondition(previous, 'TargetsHealthy') : undefined;
  if (counts && stored && stored.observedGeneration === generation && stored.reason !== REASONS.targetsUnknown) {
    return { condition: make(stored.status, stored.reason, stored.message), counts };
  }
  if (!counts) {
    const why = obs.targetsUnavailable ?? { reason: REASONS.targetsUnknown, message: 'target health is not known yet: Prometheus has not been polled' };
    return { condition: make('Unknown', why.reason, why.message + duplicates) };
  }
  if (counts.discovered === 0 && obs.discoveryGrace) {
    return {
      condition: make(
        'Unknown',
        REASONS.notDiscoveredYet,
        `no target discovered yet: Prometheus discovers and first scrapes the targets of new or changed scrape jobs within ${formatDurationMs(obs.discoveryGrace.graceMs)} of first evaluating their rules (then, without a target, NoTargets)${duplicates}`,
      ),
      counts,
    };
  }
  // Left out of the config Prometheus runs: its endpoints are not the cause, ConfigApplied's reason is.
  if (counts.discovered === 0 && applied.status === 'False' && NOT_RUN.includes(applied.reason)) {
    return {
      condition: make('False', REASONS.noTargets, `Prometheus does not run this service's scrape jobs because of ${applied.reason} (see ConfigApplied)${duplicates}`),
      counts,
    };
  }
  if (counts.discovered === 0) {
    return {
      condition: make(
        'False',
        REASONS.noTargets,
        `Prometheus discovered no target: the selected Services have no ready endpoints on the scraped ports (scaled to zero, or pods not ready)${duplicates}`,
      ),
      counts,
    };
  }
  const failing = counts.discovered - counts.healthy - (counts.notScraped ?? 0);
  const errors = counts.failures && counts.failures.length > 0 ? `; ${describeScrapeFailures(counts.failures, failing, obs.scrapeLimits)}` : '';
  if (counts.healthy === 0 && failing === 0) {
    // Not failing: Prometheus has not scraped them yet (a new target waits up to one scrape interval).
    return {
      condition: make(
        'Unknown',
        REASONS.notScrapedYet,
        `${counts.discovered} target${counts.discovered === 1 ? '' : 's'} discovered, not scraped yet: Prometheus scrapes a new target within one scrape interval${duplicates}`,
      ),
      counts,
    };
  }
  if (counts.healthy === 0) {
    const reason = counts.failures?.[0]?.reason ?? REASONS.noHealthyTargets;
    const notYet = counts.notScraped ? ` (${counts.notScraped} not scraped yet)` : '';
    return { condition: make('False', reason, `0 of ${counts.discovered} targets healthy${notYet}: every scrape fails${errors}${duplicates}`), counts };
  }
  return { condition: make('True', REASONS.targetsHealthy, `${counts.healthy} of ${counts.discovered} targets healthy${errors}${duplicates}`), counts };
}

/** ConfigApplied reasons under which Prometheus runs none of the service's scrape jobs (it is not in the config). */
const NOT_RUN: readonly string[] = [REASONS.configTooLarge, REASONS.notIncluded, REASONS.credentialsNotFound];

/** Prometheus is polled but has not answered yet since the operator started: what status says stands. */
function notPolledYet(obs: ServiceObservation): boolean {
  return obs.targets === undefined && obs.targetsUnavailable === undefined;
}

/** Scrape errors shown in a message; the poll keeps more (targets.ts MAX_FAILURE_GROUPS). */
const SHOWN_FAILURES = 3;

/**
 * Prometheus's errors of the failing targets, e.g. `Prometheus's scrape error: "server returned HTTP
 * status 404 Not Found" (2 targets, e.g. 10.0.0.7:8080)`. `failing`: failing targets in all.
 */
export function describeScrapeFailures(failures: readonly ScrapeFailure[], failing: number, limits?: ResolvedScrapeLimits): string {
  const shown = failures.slice(0, SHOWN_FAILURES);
  const listed = shown.reduce((n, f) => n + f.targets, 0);
  const parts = shown.map((f) => {
    // A limit error names the spec.limits field, its value and what to change (scrape-limits.ts).
    const hit = f.reason === REASONS.limitExceeded ? scrapeLimitHit(f.error, limits) : undefined;
    const url = f.scrapeUrl ? `, scrape URL ${f.scrapeUrl}` : '';
    return `${JSON.stringify(f.error)} (${f.targets === 1 ? `target ${f.instance}` : `${f.targets} targets, e.g. ${f.instance}`}${url})${hit ? `: ${scrapeLimitMessage(hit)}` : ''}`;
  });
  if (failing > listed) parts.push(`${failing - listed} more failing target${failing - listed === 1 ? '' : 's'}`);
  return `Prometheus's scrape error${shown.length === 1 && failing <= listed ? '' : 's'}: ${parts.join('; ')}`;
}

/** Failing rules shown in a message; the poll keeps more (rules-health.ts MAX_RULE_FAILURES). */
const SHOWN_RULE_FAILURES = 3;

/**
 * RulesHealthy: whether Prometheus evaluates the service's rule group (its down alerts and custom
 * rules) without error.
 * - False RuleEvaluationFailed naming each failing rule with Prometheus's lastError: such a rule
 *   never fires (many-to-many matching once the service has two pods, for one).
 * - Unknown: NotEvaluated (invalid spec), PrometheusUnreachable or TargetsUnknown (no poll),
 *   RulesNotLoaded (Prometheus has no group of it yet), RulesNotEvaluatedYet (loaded, first
 *   evaluation not done). Unknown does not change Ready: it is the normal state for seconds.
 * - True otherwise.
 */
function computeRulesHealthy(obs: ServiceObservation, scraped: boolean): Condition {
  const { previous, generation, now } = obs;
  const make = (status: Condition['status'], reason: string, message: string) => condition(previous, 'RulesHealthy', status, reason, message, generation, now);
  if (!scraped) return make('Unknown', REASONS.notEvaluated, 'not evaluated until the spec is valid');
  const rules = obs.rules;
  // Before the first poll after a restart the stored condition is the best knowledge (as the counts are for TargetsHealthy).
  const stored = notPolledYet(obs) ? findCondition(previous, 'RulesHealthy') : undefined;
  if (stored && stored.observedGeneration === generation) return make(stored.status, stored.reason, stored.message);
  if (rules === undefined) {
    const why = obs.targetsUnavailable ?? { reason: REASONS.targetsUnknown, message: 'rule health is not known yet: Prometheus has not been polled' };
    return make('Unknown', why.reason, why.message.replace('target health', 'rule health'));
  }
  if (!('rules' in rules)) return make('Unknown', REASONS.rulesNotLoaded, 'Prometheus has not loaded the rule group of this service yet');
  if (rules.failures && rules.failures.length > 0) {
    const shown = rules.failures.slice(0, SHOWN_RULE_FAILURES).map((f) => `rule ${f.rule}: ${f.error}`);
    const more = rules.failures.length - shown.length + (rules.moreFailures ?? 0);
    if (more > 0) shown.push(`and ${more} more failing rule${more === 1 ? '' : 's'}`);
    return make('False', REASONS.ruleEvaluationFailed, `Prometheus fails to evaluate (the rule cannot fire): ${shown.join('; ')}`);
  }
  if (rules.evaluated === 0 && rules.rules > 0) return make('Unknown', REASONS.rulesNotEvaluatedYet, 'Prometheus loaded the rule group of this service but has not evaluated it yet');
  return make('True', REASONS.rulesHealthy, `Prometheus evaluates the ${rules.rules} rule${rules.rules === 1 ? '' : 's'} of this service without error`);
}

/**
 * EmailDelivered: whether the service's alert emails get out, as Alertmanager counts the SMTP
 * attempts of the receiver its route ends in (email-delivery.ts).
 * - False NoRecipients: it names no recipients and the install has none by default (UNROUTED_NOTE).
 * - False NotificationsFailing: every attempt to that receiver since `since` failed (Alertmanager
 *   keeps retrying). Alertmanager 0.35 exposes the error text only in its log: the message says
 *   where to look, with the reason label of a notification it gave up on, if any.
 * - True EmailDelivered: the last attempts include a success.
 * - Unknown: NoNotificationsYet (no attempt since the operator started, and nothing stored for this
 *   generation), AlertmanagerUnreachable or DeliveryUnknown (not polled, or no receiver names in
 *   Alertmanager's metrics), NotEvaluated (no route in the running config: invalid spec, or
 *   left out). Unknown does not change Ready.
 * The receiver is shared: a failure of the default receiver shows on every service routed to it.
 */
function computeEmailDelivered(obs: ServiceObservation, scraped: boolean): Condition {
  const { previous, generation, now } = obs;
  const make = (status: Condition['status'], reason: string, message: string) => condition(previous, 'EmailDelivered', status, reason, message, generation, now);
  const email = obs.email;
  if (!scraped || !email) return make('Unknown', REASONS.notEvaluated, 'no route in the running config: see Valid and ConfigApplied');
  if (obs.unrouted) return make('False', REASONS.noRecipients, `${UNROUTED_NOTE}; set spec.notify.email.to, or ask for smtp.defaultRecipients`);
  const delivery = email.delivery;
  if (delivery?.state === 'failing') {
    const gaveUp = delivery.reason ? `, and gave up on a notification (reason ${delivery.reason}) before retrying at the next group interval` : '';
    return make(
      'False',
      REASONS.notificationsFailing,
      `every email Alertmanager tried to send to receiver ${email.receiver} failed since ${delivery.since}${gaveUp}; it keeps retrying, nobody is told meanwhile. ` +
        `Its log has the error (msg="Notify attempt failed" receiver=${email.receiver}); check smtp.smarthost's port and TLS mode, the credentials Secret and smtp.from`,
    );
  }
  if (delivery?.state === 'delivered') return make('True', REASONS.emailDelivered, `the last email Alertmanager sent to receiver ${email.receiver} was accepted by the SMTP server`);
  if (email.unknown) return make('Unknown', email.unknown.reason, email.unknown.message);
  // No attempt seen since the operator started: what it stored for this generation stands.
  const stored = findCondition(previous, 'EmailDelivered');
  if (stored && stored.observedGeneration === generation && (stored.reason === REASONS.emailDelivered || stored.reason === REASONS.notificationsFailing)) {
    return make(stored.status, stored.reason, stored.message);
  }
  return make('Unknown', REASONS.noNotificationsYet, `Alertmanager has not tried to email receiver ${email.receiver} yet: nothing fired since the operator started`);
}

/**
 * Ready is one thing: the spec is valid, Prometheus and Alertmanager run a config that includes
 * it (ConfigApplied), at least one of its targets scrapes successfully (TargetsHealthy), and no rule
 * fails to evaluate (RulesHealthy not False), and its email is not known to fail (EmailDelivered not
 * False: nobody would be told; a service without alerts is exempt). Its reason is the first that
 * fails, in the order Valid, a misconfigured selector or port, ConfigApplied, TargetsHealthy,
 * RulesHealthy, EmailDelivered; Unknown when target health is unknown (or no target was scraped yet).
 */
function computeReady(obs: ServiceObservation, valid: Condition, applied: Condition, targets: Condition, rules: Condition, email: Condition): Condition {
  const { previous, generation, now } = obs;
  const make = (status: Condition['status'], reason: string, message: string) => condition(previous, 'Ready', status, reason, message, generation, now);
  if (valid.status !== 'True') return make('False', valid.reason, valid.message);
  if (targets.status === 'False' && MISCONFIGURED.includes(targets.reason)) return make('False', targets.reason, targets.message);
  if (applied.status !== 'True') return make(applied.status === 'Unknown' ? 'Unknown' : 'False', applied.reason, applied.message);
  if (targets.status !== 'True') return make(targets.status, targets.reason, targets.message);
  if (rules.status === 'False') return make('False', rules.reason, rules.message);
  // Nobody would be told when it goes down: not Ready, although it is scraped and evaluated.
  if (email.status === 'False' && !obs.noAlerts) return make('False', email.reason, email.message);
  return make('True', REASONS.ready, `valid, running in Prometheus and Alertmanager, ${targets.message}${obs.noAlerts ? `; ${NO_ALERTS_NOTE}` : ''}`);
}

/** The fields the operator owns, in a canonical form, for change detection. */
function canonical(status: MonitoredServiceStatus | undefined): string {
  const s = status ?? {};
  const conditions = [...(s.conditions ?? [])]
    .filter((c) => (CONDITION_TYPES as readonly string[]).includes(c.type))
    .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0))
    .map((c) => [c.type, c.status, c.reason, c.message, c.lastTransitionTime, c.observedGeneration ?? null]);
  return JSON.stringify([
    s.observedGeneration ?? null,
    conditions,
    s.discoveredTargets ?? null,
    s.healthyTargets ?? null,
    s.appliedConfigHash ?? null,
    s.lastValidGeneration ?? null,
    s.lastValidSpec ?? null,
    s.install ? [s.install.namespace, s.install.selector ?? null, s.install.watchNamespaces ?? null] : null,
  ]);
}

export function statusChanged(previous: MonitoredServiceStatus | undefined, next: MonitoredServiceStatus): boolean {
  return canonical(previous) !== canonical(next);
}

/**
 * JSON merge patch body for the status subresource: sets every field of `next` and removes
 * (null) the operator-owned fields it no longer has. Conditions are replaced as a whole.
 */
export function statusMergePatch(previous: MonitoredServiceStatus | undefined, next: MonitoredServiceStatus): { status: Record<string, unknown> } {
  const patch: Record<string, unknown> = { ...next };
  for (const key of ['appliedConfigHash', 'discoveredTargets', 'healthyTargets', 'lastValidGeneration', 'lastValidSpec'] as const) {
    if (next[key] === undefined && previous?.[key] !== undefined) patch[key] = null;
  }
  // A merge patch merges objects key by key: a scope part this install no longer has must be nulled.
  if (next.install && previous?.install) {
    const install: Record<string, unknown> = { ...next.install };
    for (const key of ['selector', 'watchNamespaces'] as const) if (next.install[key] === undefined && previous.install[key] !== undefined) install[key] = null;
    patch.install = install;
  }
  return { status: patch };
}

export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/**
 * Events follow transitions between the stored status and the new one, so a restarted
 * operator does not repeat them: InvalidSpec once per generation (and message), ConfigApplied
 * once per generation, ReloadFailed once per distinct error, ConfigTooLarge once on entering it,
 * a scrape-error reason of TargetsHealthy once per reason (NoTargets too, unless ConfigApplied says why), RuleEvaluationFailed once per set of
 * failing rules, EmailDelivered False once per reason (Warning) and its recovery (Normal).
 */
/** The rule names of a RuleEvaluationFailed message (computeRulesHealthy), for comparison. */
function failingRuleNames(message: string): string {
  return [...message.matchAll(/(?:^|; |: )rule ([A-Za-z_:][A-Za-z0-9_:]*): /g)].map((m) => m[1]).join(',');
}

export function eventsForTransition(previous: MonitoredServiceStatus | undefined, next: MonitoredServiceStatus): PlannedEvent[] {
  const events: PlannedEvent[] = [];
  const prevValid = findCondition(previous, 'Valid');
  const nextValid = findCondition(next, 'Valid');
  if (nextValid?.status === 'False' && !(prevValid?.status === 'False' && prevValid.observedGeneration === nextValid.observedGeneration && prevValid.message === nextValid.message)) {
    events.push({ type: 'Warning', reason: nextValid.reason, message: nextValid.message });
  }
  const prevApplied = findCondition(previous, 'ConfigApplied');
  const nextApplied = findCondition(next, 'ConfigApplied');
  if (nextApplied?.status === 'True' && !(prevApplied?.status === 'True' && prevApplied.observedGeneration === nextApplied.observedGeneration)) {
    events.push({ type: 'Normal', reason: REASONS.applied, message: nextApplied.message });
  }
  if (nextApplied?.status === 'False' && nextApplied.reason === REASONS.reloadFailed && !(prevApplied?.reason === REASONS.reloadFailed && prevApplied.message === nextApplied.message)) {
    events.push({ type: 'Warning', reason: REASONS.reloadFailed, message: nextApplied.message });
  }
  if (nextApplied?.status === 'False' && nextApplied.reason === REASONS.credentialsNotFound && !(prevApplied?.reason === REASONS.credentialsNotFound && prevApplied.message === nextApplied.message)) {
    events.push({ type: 'Warning', reason: REASONS.credentialsNotFound, message: nextApplied.message });
  }
  // Its message carries sizes that change with every other service: only the transition counts,
  // or each apply anywhere would repeat the Event on every pending service.
  if (nextApplied?.status === 'False' && nextApplied.reason === REASONS.configTooLarge && prevApplied?.reason !== REASONS.configTooLarge) {
    events.push({ type: 'Warning', reason: REASONS.configTooLarge, message: nextApplied.message });
  }
  const rejected: readonly string[] = [REASONS.rejectedByPrometheus, REASONS.rejectedByAlertmanager];
  if (nextApplied?.status === 'False' && rejected.includes(nextApplied.reason) && !(prevApplied?.reason === nextApplied.reason && prevApplied.observedGeneration === nextApplied.observedGeneration)) {
    events.push({ type: 'Warning', reason: nextApplied.reason, message: nextApplied.message });
  }
  const prevTargets = findCondition(previous, 'TargetsHealthy');
  const nextTargets = findCondition(next, 'TargetsHealthy');
  if (nextTargets?.status === 'False' && MISCONFIGURED.includes(nextTargets.reason) && !(prevTargets?.reason === nextTargets.reason && prevTargets.message === nextTargets.message)) {
    events.push({ type: 'Warning', reason: nextTargets.reason, message: nextTargets.message });
  }
  // Scrape errors: once on entering False and when the class changes, not for every new count or address.
  if (nextTargets?.status === 'False' && SCRAPE_ERROR_REASONS.includes(nextTargets.reason) && !(prevTargets?.status === 'False' && prevTargets.reason === nextTargets.reason)) {
    events.push({ type: 'Warning', reason: nextTargets.reason, message: nextTargets.message });
  }
  // No endpoints after the grace: like a scrape error, once on entering it. Not when Prometheus runs none of
  // its jobs: ConfigApplied's Event says why (TargetsHealthy only refers to it).
  if (
    nextTargets?.status === 'False' &&
    nextTargets.reason === REASONS.noTargets &&
    !(nextApplied?.status === 'False' && NOT_RUN.includes(nextApplied.reason)) &&
    !(prevTargets?.status === 'False' && prevTargets.reason === nextTargets.reason)
  ) {
    events.push({ type: 'Warning', reason: nextTargets.reason, message: nextTargets.message });
  }
  // Failing rules: once per set of failing rules (an error's text may vary between evaluations).
  const prevRules = findCondition(previous, 'RulesHealthy');
  const nextRules = findCondition(next, 'RulesHealthy');
  if (nextRules?.status === 'False' && !(prevRules?.status === 'False' && failingRuleNames(prevRules.message) === failingRuleNames(nextRules.message))) {
    events.push({ type: 'Warning', reason: nextRules.reason, message: nextRules.message });
  }
  // Email: once on entering False and when the reason changes (not when `since` moves); once on recovery.
  const prevEmail = findCondition(previous, 'EmailDelivered');
  const nextEmail = findCondition(next, 'EmailDelivered');
  if (nextEmail?.status === 'False' && !(prevEmail?.status === 'False' && prevEmail.reason === nextEmail.reason)) {
    events.push({ type: 'Warning', reason: nextEmail.reason, message: nextEmail.message });
  }
  if (nextEmail?.status === 'True' && prevEmail?.status === 'False' && prevEmail.reason === REASONS.notificationsFailing) {
    events.push({ type: 'Normal', reason: REASONS.emailDelivered, message: nextEmail.message });
  }
  // The duplicates sentence always ends the message (computeTargetsHealthy): compare that part.
  const overlap = (c: Condition | undefined) => {
    const at = c?.message.indexOf(OVERLAP_PREFIX) ?? -1;
    return at >= 0 ? c!.message.slice(at) : undefined;
  };
  const nextOverlap = overlap(nextTargets);
  if (nextOverlap !== undefined && nextOverlap !== overlap(prevTargets)) {
    events.push({ type: 'Warning', reason: REASONS.overlappingServices, message: nextOverlap });
  }
  return events;
}
