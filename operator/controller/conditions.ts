// Status of one MonitoredService as a pure function of what the operator observes: the object
// (with the status it last wrote, which is how nothing needs to be kept in memory), its
// validation result, the desired config hashes and what the sync sidecars report.
import type { Condition, InstallStatus, MonitoredServiceStatus } from '../api/schema.js';
import type { SyncReport } from './annotations.js';

export const CONDITION_TYPES = ['Valid', 'ConfigApplied', 'TargetsHealthy', 'Ready'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export const REASONS = {
  valid: 'SpecValid',
  invalid: 'InvalidSpec',
  applied: 'ConfigApplied',
  pending: 'ApplyPending',
  reloadFailed: 'ReloadFailed',
  configTooLarge: 'ConfigTooLarge',
  notIncluded: 'NotIncluded',
  ready: 'Ready',
  targetsHealthy: 'TargetsHealthy',
  noTargets: 'NoTargets',
  noHealthyTargets: 'NoHealthyTargets',
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
  rejectedByPrometheus: 'RejectedByPrometheus',
  rejectedByAlertmanager: 'RejectedByAlertmanager',
} as const;

/**
 * Said by Ready when a service's alerts reach no one (the install's smtp.allowNoDefaultRecipients):
 * Ready stays True, as the service is monitored and its alerts are visible in Alertmanager.
 */
export const UNROUTED_NOTE = 'its alerts are emailed to nobody: it names no recipients (spec.notify.email.to) and the install has no default recipients (smtp.defaultRecipients)';

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

export interface TargetCounts {
  discovered: number;
  healthy: number;
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
  prometheus: SyncReport;
  alertmanager: SyncReport;
  /** Set when the desired config cannot be written at all (too large for one object): why. */
  undeliverable?: string;
  /** Set when this service was left out so that the others fit in one object (plan.ts leaveOutUntilFits): why. */
  leftOut?: string;
  /** Set when a server refused this generation and the others run without it (isolation.ts): RejectedBy* and why. */
  rejected?: { reason: string; message: string };
  /** Alertmanager does not answer, or runs another config than its sidecar applied (plan.ts alertmanagerProblem). */
  alertmanagerProblem?: AlertmanagerProblem;
  /** Prometheus runs another config than its sidecar applied (plan.ts prometheusProblem). */
  prometheusProblem?: AlertmanagerProblem;
  /** Counts from the last successful poll of Prometheus; undefined when not known (see targetsUnavailable). */
  targets?: TargetCounts;
  /** Set when this generation is valid: it becomes the one kept in force through later invalid edits. */
  lastValid?: { generation: number; spec: string };
  /** Set when this generation is invalid but an older valid one is in the config instead. */
  inForceGeneration?: number;
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
  now: string;
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
function reloadFailure(report: SyncReport, desiredHash: string): string | undefined {
  if (report.failedHash === desiredHash && report.reloadError !== undefined && report.appliedHash !== desiredHash) {
    return report.reloadError;
  }
  return undefined;
}

/**
 * What ConfigApplied needs from the desired hashes and the sidecars' reports, the same for every
 * object of one reconcile. computeStatus reads desired, prometheus and alertmanager only through
 * this, so the controller can tell from it (with the other inputs) that a status cannot have
 * changed although the desired hashes moved (controller/service-cache.ts StatusMemo, issue #13).
 */
export interface ConfigApplyState {
  prometheusApplied: boolean;
  alertmanagerApplied: boolean;
  /** When both are applied: the config hash recorded in the status, and the True message's words. */
  running?: { prometheusHash: string; message: string };
  /** Reload failures of the desired configs, in words. */
  failures: string[];
}

export function configApplyState(desired: ServiceObservation['desired'], prometheus: SyncReport, alertmanager: SyncReport): ConfigApplyState {
  const prometheusApplied = prometheus.appliedHash === desired.prometheusHash;
  const alertmanagerApplied = alertmanager.appliedHash === desired.alertmanagerHash;
  const failures: string[] = [];
  const promErr = reloadFailure(prometheus, desired.prometheusHash);
  const amErr = reloadFailure(alertmanager, desired.alertmanagerHash);
  if (promErr !== undefined) failures.push(`Prometheus could not load config ${desired.prometheusHash}: ${promErr}`);
  if (amErr !== undefined) failures.push(`Alertmanager could not load config ${desired.alertmanagerHash}: ${amErr}`);
  return {
    prometheusApplied,
    alertmanagerApplied,
    ...(prometheusApplied && alertmanagerApplied
      ? {
          running: {
            prometheusHash: desired.prometheusHash,
            message: `Prometheus runs config ${desired.prometheusHash} and Alertmanager runs config ${desired.alertmanagerHash}`,
          },
        }
      : {}),
    failures,
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

  const inForce = obs.invalidMessage !== undefined && obs.inForceGeneration !== undefined ? obs.inForceGeneration : undefined;
  const keptNote = inForce !== undefined ? `; the config keeps running generation ${inForce}, the last valid one` : '';
  const valid =
    obs.invalidMessage === undefined
      ? condition(previous, 'Valid', 'True', REASONS.valid, 'spec passed validation', generation, now)
      : condition(previous, 'Valid', 'False', REASONS.invalid, obs.invalidMessage + keptNote, generation, now);
  conditions.push(valid);

  let applied: Condition;
  if (obs.rejected !== undefined && obs.invalidMessage === undefined) {
    applied = condition(previous, 'ConfigApplied', 'False', obs.rejected.reason, obs.rejected.message, generation, now);
    appliedConfigHash = undefined;
  } else if (obs.leftOut !== undefined && obs.invalidMessage === undefined) {
    applied = condition(previous, 'ConfigApplied', 'False', REASONS.configTooLarge, obs.leftOut, generation, now);
    appliedConfigHash = undefined;
  } else if ((obs.invalidMessage !== undefined && inForce === undefined) || !obs.included) {
    applied = condition(
      previous,
      'ConfigApplied',
      'False',
      REASONS.notIncluded,
      obs.invalidMessage !== undefined ? 'left out of the generated config until the spec is valid' : 'not included in the generated config',
      generation,
      now,
    );
    appliedConfigHash = undefined;
  } else {
    // desired, prometheus and alertmanager are read through configApplyState only (StatusMemo relies on it).
    const { prometheusApplied: promOk, alertmanagerApplied: amOk, running, failures } = configApplyState(obs.desired, obs.prometheus, obs.alertmanager);
    if (running !== undefined) {
      applied = condition(
        previous,
        'ConfigApplied',
        'True',
        REASONS.applied,
        `${inForce !== undefined ? `generation ${inForce} (the last valid one) is in force: ` : ''}${running.message}`,
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
        const waiting = [!promOk ? 'Prometheus' : undefined, !amOk ? 'Alertmanager' : undefined].filter(Boolean).join(' and ');
        applied = condition(previous, 'ConfigApplied', 'False', REASONS.pending, `waiting for ${waiting} to load the config that includes generation ${generation}`, generation, now);
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
  const targets = computeTargetsHealthy(obs, valid.status === 'True' || inForce !== undefined);
  conditions.push(targets.condition);
  conditions.push(computeReady(obs, valid, applied, targets.condition));

  const status: MonitoredServiceStatus = { observedGeneration: generation, conditions };
  const install = obs.install ?? previous?.install;
  if (install) status.install = install;
  if (appliedConfigHash !== undefined) status.appliedConfigHash = appliedConfigHash;
  const lastValid =
    obs.lastValid ?? (previous?.lastValidGeneration !== undefined && previous.lastValidSpec !== undefined ? { generation: previous.lastValidGeneration, spec: previous.lastValidSpec } : undefined);
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
 * - False NoTargets (0 discovered) or NoHealthyTargets (0 of N healthy), else True.
 * An invalid spec is not scraped: Unknown, NotScraped, no counts.
 */
function computeTargetsHealthy(obs: ServiceObservation, scraped: boolean): { condition: Condition; counts?: TargetCounts } {
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
  if (!counts) {
    const why = obs.targetsUnavailable ?? { reason: REASONS.targetsUnknown, message: 'target health is not known yet: Prometheus has not been polled' };
    return { condition: make('Unknown', why.reason, why.message + duplicates) };
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
  if (counts.healthy === 0) {
    return { condition: make('False', REASONS.noHealthyTargets, `0 of ${counts.discovered} targets healthy: every scrape fails${duplicates}`), counts };
  }
  return { condition: make('True', REASONS.targetsHealthy, `${counts.healthy} of ${counts.discovered} targets healthy${duplicates}`), counts };
}

/**
 * Ready is one thing: the spec is valid, Prometheus and Alertmanager run a config that includes
 * it (ConfigApplied), and at least one of its targets scrapes successfully (TargetsHealthy).
 * Its reason is the first that fails, in the order Valid, a misconfigured selector or port,
 * ConfigApplied, TargetsHealthy; Unknown when target health is unknown.
 */
function computeReady(obs: ServiceObservation, valid: Condition, applied: Condition, targets: Condition): Condition {
  const { previous, generation, now } = obs;
  const make = (status: Condition['status'], reason: string, message: string) => condition(previous, 'Ready', status, reason, message, generation, now);
  if (valid.status !== 'True') return make('False', valid.reason, valid.message);
  if (targets.status === 'False' && MISCONFIGURED.includes(targets.reason)) return make('False', targets.reason, targets.message);
  if (applied.status !== 'True') return make(applied.status === 'Unknown' ? 'Unknown' : 'False', applied.reason, applied.message);
  if (targets.status !== 'True') return make(targets.status, targets.reason, targets.message);
  return make('True', REASONS.ready, `valid, running in Prometheus and Alertmanager, ${targets.message}${obs.unrouted ? `; ${UNROUTED_NOTE}` : ''}`);
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
 * once per generation, ReloadFailed once per distinct error, ConfigTooLarge once on entering it.
 */
export function eventsForTransition(previous: MonitoredServiceStatus | undefined, next: MonitoredServiceStatus): PlannedEvent[] {
  const events: PlannedEvent[] = [];
  const prevValid = findCondition(previous, 'Valid');
  const nextValid = findCondition(next, 'Valid');
  if (nextValid?.status === 'False' && !(prevValid?.status === 'False' && prevValid.observedGeneration === nextValid.observedGeneration && prevValid.message === nextValid.message)) {
    events.push({ type: 'Warning', reason: REASONS.invalid, message: nextValid.message });
  }
  const prevApplied = findCondition(previous, 'ConfigApplied');
  const nextApplied = findCondition(next, 'ConfigApplied');
  if (nextApplied?.status === 'True' && !(prevApplied?.status === 'True' && prevApplied.observedGeneration === nextApplied.observedGeneration)) {
    events.push({ type: 'Normal', reason: REASONS.applied, message: nextApplied.message });
  }
  if (nextApplied?.status === 'False' && nextApplied.reason === REASONS.reloadFailed && !(prevApplied?.reason === REASONS.reloadFailed && prevApplied.message === nextApplied.message)) {
    events.push({ type: 'Warning', reason: REASONS.reloadFailed, message: nextApplied.message });
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
