// One reconcile as a pure function: from every MonitoredService in the caches and what the
// sidecars report, compute the desired config, whether each generated object needs a write,
// and which statuses/events change. The controller only executes this plan.
import type { InstallStatus, MonitoredService, MonitoredServiceStatus } from '../api/schema.js';
import { encodeFileSet, type EncodeLimits, type EncodedFiles, type FileSet } from '../assemble/config-bundle.js';
import { OBJECT_NAMES } from '../rbac.js';
import type { ConfigPartition, GlobalSettings, ObjectRef, PartitionedPrometheusConfig, RenderedConfig, ScrapeHints, ValidationIssue, ValidationResult } from '../render/types.js';
import { ALERTMANAGER_CONFIG_FILE, compareRefs, jobName, PROMETHEUS_CONFIG_FILE } from '../render/names.js';
import { alertmanagerConfigHashValue } from '../sync/confirm.js';
import type { AlertmanagerRunning } from './alertmanager-poller.js';
import { scrapeConfigFiles, scrapeJobNames } from '../sync/job-names.js';
import { describeScrapeDifference, type PrometheusRunning } from './prometheus-config.js';
import type { SyncReport } from './annotations.js';
import { claimedByOtherInstall } from './install-scope.js';
import {
  computeStatus,
  configApplyState,
  eventsForTransition,
  REASONS,
  reloadFailure,
  statusChanged,
  statusMergePatch,
  type AlertmanagerProblem,
  type DiscoveryGrace,
  type PlannedEvent,
  type RuleHealth,
  type SelectionObservation,
  type TargetCounts,
  type TargetsUnavailable,
} from './conditions.js';
import { describeDuplicates, diagnoseSelection, type ServiceInfo } from './selection.js';
import type { CredentialResolution } from './scrape-credentials.js';
import { resolveScrapeLimits, type ResolvedScrapeLimits } from '../render/scrape-limits.js';
import { routeReceiver } from '../render/alertmanager.js';
import type { EmailObservation } from './conditions.js';
import type { RawMonitoredService } from '../api/raw.js';
import { encodePartitions, leaveOutUntilFits, renderIsolated, tooLargeAlone, type RenderTarget } from '../assemble/size-fit.js';
import { recordWindow, scrapeConfigHash } from '../render/rules.js';
import type { ObjectIdentity, ReconcileMemo } from './plan-memo.js';

export type { RawMonitoredService };

export interface ReconcileInput {
  objects: readonly RawMonitoredService[];
  settings: GlobalSettings;
  validate: (raw: RawMonitoredService) => ValidationResult;
  formatIssue: (ref: ObjectRef, issue: ValidationIssue) => string;
  /** `target`: which server's part of this render is used (assemble/size-fit.ts renderIsolated); absent: both. */
  render: (services: MonitoredService[], settings: GlobalSettings, hints?: ScrapeHints, target?: RenderTarget) => RenderedConfig;
  prometheus: SyncReport;
  alertmanager: SyncReport;
  /**
   * A partitioned config only: true when a partition object it needs is missing or was changed by
   * someone else (the controller's partition cache), so the objects are written though the hash is the same.
   */
  partitionsStale?: (config: PartitionedPrometheusConfig) => boolean;
  targetsFor: (namespace: string, name: string) => TargetCounts | undefined;
  /** Rule health of a service's group from the same poll (TargetsPoller.rulesFor); absent or undefined: not known. */
  rulesFor?: (namespace: string, name: string) => RuleHealth | { loaded: false } | undefined;
  /**
   * When Prometheus first evaluated the service's rules with the scrape config of that hash, read
   * over the window of its grace clock (TargetsPoller.scrapeConfigLoaded, render/rules.ts
   * recordWindow): ms since the epoch (0: long ago), null: not yet; absent or undefined: not known.
   * It starts the discovery grace of a service with no target.
   */
  scrapeConfigLoaded?: (namespace: string, name: string, hash: string, windowMs: number) => number | null | undefined;
  /**
   * What Alertmanager reports it runs (its /metrics), when the operator polls it; undefined while
   * unknown. The key is absent when the operator does not poll Alertmanager at all (then email
   * delivery is not known: EmailDelivered Unknown, DeliveryUnknown).
   */
  alertmanagerRunning?: AlertmanagerRunning | undefined;
  /** Set while Alertmanager does not answer the poll: why, in words. */
  alertmanagerUnreachable?: string | undefined;
  /** The scrape jobs Prometheus reports it runs (/api/v1/status/config), when the operator polls it; undefined while unknown. */
  prometheusRunning?: PrometheusRunning | undefined;
  /** Why targetsFor says nothing right now (Prometheus unreachable); undefined otherwise. */
  targetsUnavailable?: TargetsUnavailable | undefined;
  /** The Services of a namespace from the operator's cache; undefined when not known. */
  servicesIn?: (namespace: string) => readonly ServiceInfo[] | undefined;
  now: string;
  /** Storage limits (tests lower them to reach "too large" with a few services). */
  limits?: EncodeLimits;
  /**
   * How a file set to write is encoded: encodeFileSet (the default) or the same through the
   * controller's cache of compressed bundle members (assemble/service-cache.ts), byte-identical.
   */
  encode?: (files: FileSet, limits?: EncodeLimits) => EncodedFiles;
  /** How a partition's files are encoded (ServiceCache: unchanged partitions from the last reconciles). Absent: with encode. */
  encodePartition?: (partition: ConfigPartition, limits?: EncodeLimits) => EncodedFiles;
  /**
   * The scrape job names of the rendered prometheus.yml read with `parse`, through the cache of the
   * last one (assemble/service-cache.ts). Absent: read every time.
   */
  expectedJobNames?: (rendered: RenderedConfig, parse: (prometheusYml: string) => string[]) => string[];
  /**
   * This install and its scope (install-scope.ts): recorded in every status it writes; objects
   * another install holds are left alone. Undefined (tests, the CLI): every object is reconciled.
   */
  install?: InstallStatus;
  /** Whether the install of that namespace is gone, so its claims are taken over (install-liveness.ts). Absent: none is. */
  installGone?: (installNamespace: string) => boolean;
  /**
   * The controller's memo of objects whose status came out unchanged (status-memo.ts
   * StatusMemo): such an object is skipped while nothing its status depends on moved. Absent:
   * every status is computed.
   */
  statusMemo?: StatusMemo;
  /**
   * The controller's memo of per-object facts and the last order (plan-memo.ts ReconcileMemo): the
   * same plan with or without it, fewer passes over every object. Absent: all computed anew.
   */
  memo?: ReconcileMemo;
  /**
   * The scrape credential files of a valid service (controller/scrape-credentials.ts), or why it
   * cannot have them: such a service is left out of the config (a job naming a missing file would
   * make Prometheus refuse the whole reload). Absent (the CLI, tests): no service reads any.
   */
  scrapeCredentials?: (service: MonitoredService) => CredentialResolution;
  /**
   * Run-time isolation (isolation.ts): which version of each valid service goes into each server's
   * config (quarantined ones at their last applied generation, or not at all). Absent: every valid
   * service as it is, in both.
   */
  isolate?: (valid: MonitoredService[]) => { prometheus: MonitoredService[]; alertmanager: MonitoredService[] };
  /**
   * Services a server refused (isolation.ts), by `<namespace>/<name>`: their ConfigApplied reason and
   * message, and the generation that runs instead, recorded as lastValidGeneration/lastValidSpec
   * (the one in force: an invalid edit keeps it, a restarted operator renders it).
   */
  rejected?: ReadonlyMap<string, { reason: string; message: string; inForce?: MonitoredService }>;
  /**
   * With Prometheus shards (rendered.prometheusPartitions.shards): the shard of a namespace's
   * services, and per shard (by index) what `prometheus`, `prometheusRunning` and
   * `targetsUnavailable` say for one Prometheus. A service's ConfigApplied, PrometheusConfigMismatch
   * and PrometheusUnreachable then come from its shard alone; `prometheus` stays the shards'
   * combined report (annotations.ts combineShardReports), which decides the writes.
   */
  shards?: {
    shardOf: (namespace: string) => number;
    of: readonly ShardObservation[];
  };
}

/** What one Prometheus shard's sidecar and polls say (ReconcileInput.shards). */
export interface ShardObservation {
  /** Its name in status messages, e.g. `Prometheus shard 1 (ConfigMap vigil-prometheus-config-shard-1)`. */
  name: string;
  prometheus: SyncReport;
  prometheusRunning?: PrometheusRunning | undefined;
  targetsUnavailable?: TargetsUnavailable | undefined;
}

/**
 * Everything computeStatus depends on for one object besides the object itself (its generation,
 * spec and stored status: a new object whenever any of them changes) and the time: `shared` is the
 * same for every object of a reconcile (configApplyState, server problems, ...), the rest is the
 * object's own. Equal inputs and the same object give the same status (the time is only used for
 * a condition whose status changes, and then the status is not unchanged).
 */
export interface StatusInputs {
  shared: string;
  result: ValidationResult;
  inForce: InForce | undefined;
  included: boolean;
  targets: TargetCounts | undefined;
  rules: RuleHealth | { loaded: false } | undefined;
  discoveryGrace: DiscoveryGrace | undefined;
  selection: SelectionObservation | undefined;
  leftOut: string | undefined;
  credentials: string | undefined;
  rejected: { reason: string; message: string; inForce?: MonitoredService } | undefined;
  email: EmailObservation | undefined;
}

/** Remembers, per object, the inputs from which its status came out unchanged. */
export interface StatusMemo {
  /** Whether `raw`'s status came out unchanged from equal inputs before (computeStatus would say so again). */
  unchanged(raw: RawMonitoredService, inputs: StatusInputs): boolean;
  remember(raw: RawMonitoredService, inputs: StatusInputs): void;
}

export interface StatusUpdate {
  namespace: string;
  name: string;
  uid: string | undefined;
  generation: number;
  patch: { status: Record<string, unknown> };
  events: PlannedEvent[];
}

export interface ReconcilePlan {
  rendered: RenderedConfig;
  writeConfigMap: boolean;
  writeSecret: boolean;
  /**
   * How each object to write stores its files (plain or one gzip bundle), computed only for the
   * objects to write; `ok: false` when even compressed it would not fit in one object.
   */
  encoded: { prometheus?: EncodedFiles; alertmanager?: EncodedFiles };
  /**
   * A partitioned Prometheus config to write (rendered.prometheusPartitions): how its main object
   * and each partition object (by id) store their files. `encoded.prometheus` is then the main
   * object's, or the first partition that does not fit.
   */
  encodedPartitions?: { main: Extract<EncodedFiles, { ok: true }>; partitions: ReadonlyMap<string, Extract<EncodedFiles, { ok: true }>> };
  /** Why the desired config cannot be delivered (too large): goes into ConfigApplied and the log. */
  undeliverable?: string;
  statusUpdates: StatusUpdate[];
  valid: number;
  invalid: ObjectRef[];
  /** Objects in this install's caches that another install holds: neither rendered nor written. */
  otherInstall: (ObjectRef & { install: InstallStatus })[];
  /** Namespaces of the other installs recorded in status.install of objects in the caches, held or taken over (sorted). */
  claimingInstalls: string[];
  /** The scrape credential files of the included services (file name -> content), for the credentials Secret. */
  scrapeCredentialFiles: FileSet;
  /** A referenced Secret/ConfigMap has not been listed yet: the plan must not be written (it would drop the service for a moment). */
  credentialsPending: boolean;
  /** When the first discovery grace of a service with no target ends (ms since the epoch): its status changes then, with nothing else moving. */
  discoveryGraceEndsAt?: number;
}

function refOf(raw: RawMonitoredService): ObjectRef {
  return { namespace: raw.metadata?.namespace ?? '', name: raw.metadata?.name ?? '' };
}

/** Code-unit order (render/names.ts compareRefs): independent of the locale, and cheap for 10,000 objects (localeCompare was not). */
const byRef = compareRefs;

/**
 * What of an invalid object stays in the config: its last valid generation (status.lastValidSpec),
 * whole or, when this operator version refuses parts of it, without the refused rules and
 * endpoints. `without` names the left-out parts (empty: whole).
 */
export interface InForce {
  service: MonitoredService;
  generation: number;
  without: string[];
}

/** Rounds of leaving parts out: leaving out an endpoint can make a rule refer to a job that is gone. */
const SALVAGE_ROUNDS = 3;

/**
 * The last valid generation of an object whose current generation is invalid, re-validated from
 * its status (lastValidGeneration, lastValidSpec). Like a Deployment keeping its old ReplicaSet
 * while a new template fails: an invalid edit must neither stop the service's monitoring nor drop
 * its route while its alerts fire (issue #14).
 *
 * A newer operator may refuse what an older one accepted (the stored generation, or the current one
 * when that is the last valid): then the rules and endpoints it refuses are left out and the rest
 * (ServiceDown on the other endpoints, the route) keeps running, re-validated as a whole so that
 * the renderer only ever sees valid services; a refused field with a value validation accepts in
 * its place (ValidationIssue.accepted: a downAlert.for a Prometheus restart outlasts) runs with
 * that value. Undefined when there is no stored generation, or when what it refuses is elsewhere
 * (selector, the rest of downAlert, notify) or every endpoint; `current` is the result of the
 * current generation.
 */
export function lastValidInForce(raw: RawMonitoredService, validate: ReconcileInput['validate'], current?: ValidationResult): InForce | undefined {
  const generation = raw.status?.lastValidGeneration;
  if (generation === undefined) return undefined;
  let spec: unknown;
  try {
    spec = JSON.parse(raw.status?.lastValidSpec ?? '');
  } catch {
    return undefined;
  }
  const whole = current && generation === raw.metadata?.generation ? current : validate({ ...lastValidObject(raw), spec });
  if (whole.ok) return { service: whole.service, generation, without: [] };
  return salvage(raw, spec, whole.issues, validate, generation);
}

function salvage(raw: RawMonitoredService, spec: unknown, firstIssues: readonly ValidationIssue[], validate: ReconcileInput['validate'], generation: number): InForce | undefined {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return undefined;
  const list = (key: string) => {
    const value = (spec as Record<string, unknown>)[key];
    return Array.isArray(value) ? value.map((item, index) => ({ item, index })) : undefined;
  };
  let rules = list('rules');
  let endpoints = list('endpoints');
  const without: { kind: 'rules' | 'endpoints'; index: number; item: unknown }[] = [];
  let downAlertFor: { written: unknown; accepted: string } | undefined;
  let issues = firstIssues;
  for (let round = 1; round <= SALVAGE_ROUNDS; round++) {
    const drop = { rules: new Set<number>(), endpoints: new Set<number>() };
    for (const issue of issues) {
      if (issue.field === 'spec.downAlert.for' && issue.accepted !== undefined) {
        const downAlert = (spec as Record<string, unknown>).downAlert;
        downAlertFor = { written: downAlert !== null && typeof downAlert === 'object' ? (downAlert as Record<string, unknown>).for : undefined, accepted: issue.accepted };
        continue;
      }
      const m = /^spec\.(rules|endpoints)\[(\d+)\]([.[]|$)/.exec(issue.field);
      if (!m) return undefined;
      drop[m[1] as 'rules' | 'endpoints'].add(Number(m[2]));
    }
    const keep = (items: typeof rules, kind: 'rules' | 'endpoints') =>
      items?.filter((entry, position) => {
        if (!drop[kind].has(position)) return true;
        without.push({ kind, ...entry });
        return false;
      });
    rules = keep(rules, 'rules');
    endpoints = keep(endpoints, 'endpoints');
    if (!endpoints || endpoints.length === 0) return undefined;
    const downAlert = (spec as Record<string, unknown>).downAlert;
    const reduced = {
      ...(spec as Record<string, unknown>),
      endpoints: endpoints.map((e) => e.item),
      ...(rules ? { rules: rules.map((r) => r.item) } : {}),
      ...(downAlertFor ? { downAlert: { ...(downAlert !== null && typeof downAlert === 'object' ? downAlert : {}), for: downAlertFor.accepted } } : {}),
    };
    const result = validate({ ...lastValidObject(raw, round), spec: reduced });
    if (result.ok) {
      without.sort((a, b) => (a.kind === b.kind ? a.index - b.index : a.kind === 'endpoints' ? -1 : 1));
      const forNote = downAlertFor
        ? [`spec.downAlert.for ${typeof downAlertFor.written === 'string' ? downAlertFor.written : '(the default)'} (ServiceDown runs with for ${downAlertFor.accepted})`]
        : [];
      return { service: result.service, generation, without: [...without.map(describePart), ...forNote] };
    }
    issues = result.issues;
  }
  return undefined;
}

/** `spec.rules[2] (HighLatency)`, `spec.endpoints[0] (port web)`: the stored generation's numbering. */
function describePart(part: { kind: 'rules' | 'endpoints'; index: number; item: unknown }): string {
  const item = part.item !== null && typeof part.item === 'object' ? (part.item as Record<string, unknown>) : {};
  const name = part.kind === 'rules' ? item.name : item.port;
  const label = typeof name === 'string' ? ` (${part.kind === 'rules' ? name : `port ${name}`})` : '';
  return `spec.${part.kind}[${part.index}]${label}`;
}

/**
 * The object as it was at its last valid generation, without spec (the caller parses it) and
 * status. Its uid gets a suffix so that the controller's per-uid cache keeps it apart from the
 * current generation instead of replacing one with the other on every reconcile; each round of
 * leaving parts out (salvage) has its own.
 */
export function lastValidObject(raw: RawMonitoredService, salvageRound = 0): RawMonitoredService {
  const uid = raw.metadata?.uid;
  const suffix = salvageRound === 0 ? '/last-valid' : `/last-valid-part-${salvageRound}`;
  return {
    ...raw,
    metadata: { ...raw.metadata, generation: raw.status?.lastValidGeneration ?? 0, ...(uid !== undefined ? { uid: `${uid}${suffix}` } : {}) },
    spec: undefined,
    status: undefined,
  };
}

/**
 * The objects lastValidInForce may validate for this object, whose cache entries the controller
 * keeps: the stored generation, and the rounds of leaving parts out only while Valid is not True
 * (one object each for the thousands of valid ones).
 */
export function lastValidObjects(raw: RawMonitoredService): RawMonitoredService[] {
  if (raw.status?.lastValidGeneration === undefined) return [];
  const valid = raw.status.conditions?.some((c) => c.type === 'Valid' && c.status === 'True');
  return Array.from({ length: valid ? 1 : SALVAGE_ROUNDS + 1 }, (_, round) => lastValidObject(raw, round));
}

function targetsObservation(input: ReconcileInput, ref: ObjectRef): { targets?: TargetCounts; rules?: RuleHealth | { loaded: false }; targetsUnavailable?: TargetsUnavailable } {
  const targets = input.targetsFor(ref.namespace, ref.name);
  const rules = input.rulesFor?.(ref.namespace, ref.name);
  if (targets) return { targets, ...(rules ? { rules } : {}) };
  return input.targetsUnavailable ? { targetsUnavailable: input.targetsUnavailable } : {};
}

/**
 * The receiver of a service's route and what the Alertmanager poll says of its email attempts
 * (email-delivery.ts); `unknown` says why nothing can be said.
 */
export function emailObservation(input: ReconcileInput, service: MonitoredService, receiver = routeReceiver(service)): EmailObservation {
  if (!Object.hasOwn(input, 'alertmanagerRunning')) {
    return { receiver, unknown: { reason: REASONS.deliveryUnknown, message: 'email delivery is not known: the operator runs without --alertmanager-url' } };
  }
  if (input.alertmanagerUnreachable !== undefined) return { receiver, unknown: { reason: REASONS.alertmanagerUnreachable, message: input.alertmanagerUnreachable } };
  const running = input.alertmanagerRunning;
  if (running && !running.delivery) {
    return {
      receiver,
      unknown: {
        reason: REASONS.deliveryUnknown,
        message: 'email delivery is not known: Alertmanager exports no receiver names in its metrics (run it with --enable-feature=receiver-name-in-metrics, as the chart does)',
      },
    };
  }
  const delivery = running?.delivery?.get(receiver);
  return { receiver, ...(delivery ? { delivery } : {}) };
}

/**
 * Whether Alertmanager really runs the config its sidecar reported as applied (issue #15): not
 * when it does not answer (Unknown), nor when the hash it exports is not that of the config
 * written (False: restarted from other files, or reloaded by something else). Nothing while a
 * newer config is pending: ApplyPending says that already.
 */
export function alertmanagerProblem(input: ReconcileInput, rendered: RenderedConfig): AlertmanagerProblem | undefined {
  if (input.alertmanagerUnreachable !== undefined) return { status: 'Unknown', reason: REASONS.alertmanagerUnreachable, message: input.alertmanagerUnreachable };
  const running = input.alertmanagerRunning;
  if (!running || input.alertmanager.appliedHash !== rendered.alertmanagerHash) return undefined;
  // A poll sent before the sidecar's reload shows the previous config: that is a reload in progress,
  // not a foreign config. Every apply anywhere made every service False for up to a poll interval
  // (issue #22); the next poll decides, as for Prometheus.
  if (!polledAfterApply(running.polledAt, input.alertmanager.appliedAt)) return undefined;
  const expected = alertmanagerConfigHashValue(rendered.alertmanager[ALERTMANAGER_CONFIG_FILE] ?? '');
  if (running.configHash === expected) return undefined;
  return {
    status: 'False',
    reason: REASONS.alertmanagerConfigMismatch,
    message:
      `Alertmanager runs a config Vigil did not write (its alertmanager_config_hash is ${running.configHash}; config ${rendered.alertmanagerHash}, which its sidecar applied, hashes to ${expected}): ` +
      'it was restarted from other files, or reloaded by something else',
  };
}

/** How much later than the sidecar's appliedAt a poll of a server must be sent to be compared with what it applied (clocks of different pods). */
const APPLIED_AT_MARGIN_MS = 2000;

/** Whether a poll sent at `polledAt` (ms) can show the config the sidecar applied at `appliedAt` (RFC 3339); false without appliedAt. */
export function polledAfterApply(polledAt: number, appliedAt: string | undefined): boolean {
  const at = Date.parse(appliedAt ?? '');
  return Number.isFinite(at) && polledAt >= at + APPLIED_AT_MARGIN_MS;
}

/**
 * Whether Prometheus really runs the config its sidecar reported as applied (issue #15): False when
 * the scrape jobs it reports (/api/v1/status/config, prometheus-config.ts says why job names) are not
 * those of the config written: reloaded into, or restarted with, a config Vigil did not write. Nothing
 * while a newer config is pending (ApplyPending says that) or while Prometheus's config is unknown.
 */
export function prometheusProblem(input: ReconcileInput, rendered: RenderedConfig): AlertmanagerProblem | undefined {
  const running = input.prometheusRunning;
  if (!running || input.prometheus.appliedHash !== rendered.prometheusHash) return undefined;
  // A poll sent before the sidecar's reload (plus 2 s for clocks of different pods) shows the previous config:
  // comparing it would report every new service's config as a mismatch until the next poll.
  if (!polledAfterApply(running.polledAt, input.prometheus.appliedAt)) return undefined;
  const expected = input.expectedJobNames ? input.expectedJobNames(rendered, scrapeJobNames) : scrapeJobNames(rendered.prometheus[PROMETHEUS_CONFIG_FILE] ?? '');
  const difference = describeScrapeDifference({ jobNames: expected, scrapeFiles: scrapeConfigFiles(rendered.prometheus[PROMETHEUS_CONFIG_FILE] ?? '') }, running);
  if (difference === undefined) return undefined;
  return {
    status: 'False',
    reason: REASONS.prometheusConfigMismatch,
    message: `Prometheus runs a config Vigil did not write (its scrape jobs are not those of config ${rendered.prometheusHash}, which its sidecar applied: ${difference}): it was reloaded by something else, or restarted from other files`,
  };
}

/**
 * The stored status as this install may build on it: all of it when this install wrote it (or nobody did);
 * when another install did (taken over from a gone or relabelled-away install), only the spec's own facts
 * (the last valid generation): what it said about its servers (config applied, targets) is not true of this
 * install's, and keeping it would leave the gone install's green status in place.
 */
export function ownPrevious(status: MonitoredServiceStatus | undefined, me: InstallStatus): MonitoredServiceStatus | undefined {
  if (!status?.install || status.install.namespace === me.namespace) return status;
  return {
    ...(status.lastValidGeneration !== undefined ? { lastValidGeneration: status.lastValidGeneration } : {}),
    ...(status.lastValidSpec !== undefined ? { lastValidSpec: status.lastValidSpec } : {}),
  };
}

/**
 * The version of a service whose scrape jobs Prometheus runs: the last one it loaded while it refuses
 * this generation (none when it never loaded one), the last valid one while this generation is
 * invalid, else this generation.
 */
export function prometheusInForce(result: ValidationResult, inForce: InForce | undefined, rejected: { reason: string; inForce?: MonitoredService } | undefined): MonitoredService | undefined {
  if (!result.ok) return inForce?.service;
  return rejected?.reason === REASONS.rejectedByPrometheus ? rejected.inForce : result.service;
}

/** The limits the jobs of the version in force carry (prometheusInForce), for its TargetsHealthy message; none when they cannot be resolved. */
export function runningScrapeLimits(service: MonitoredService | undefined, settings: GlobalSettings): { scrapeLimits?: ResolvedScrapeLimits } {
  if (!service) return {};
  try {
    return { scrapeLimits: resolveScrapeLimits(service.spec.limits, settings.scrapeLimits) };
  } catch {
    return {};
  }
}

/**
 * A service with no target within its discovery grace: the same grace, on the same clock, as its
 * ServiceDown alert (render/rules.ts recordWindow): from Prometheus's first evaluation of its rules
 * with its current scrape jobs, recorded in Prometheus and read over the same window W as the alert
 * reads it (`min_over_time(record[W])`), so a restarted operator, or a Prometheus restarted on a
 * kept TSDB, reads the same start as the alert.
 * `endsAt` (ms since the epoch) is absent while Prometheus has not evaluated them yet.
 * `runs`: the service is in the config Prometheus runs or is about to (planReconcile: included, the
 * config writable, its reload not failed, no other config running); without it there is no grace,
 * as no record of its jobs will come and NotDiscoveredYet would last for ever.
 * Undefined: not within it, or no grace (no down alert records the clock; the clock is not known).
 */
export function discoveryGraceOf(
  service: MonitoredService | undefined,
  settings: GlobalSettings,
  loaded: ReconcileInput['scrapeConfigLoaded'],
  nowMs: number,
  runs: boolean,
): (DiscoveryGrace & { endsAt?: number }) | undefined {
  if (!runs || !service?.spec.downAlert.enabled || !loaded) return undefined;
  const { windowMs, graceMs } = recordWindow(service, settings);
  const first = loaded(service.metadata.namespace, service.metadata.name, scrapeConfigHash(service, settings), windowMs);
  if (first === undefined) return undefined;
  if (first === null) return { graceMs };
  return nowMs < first + graceMs ? { graceMs, endsAt: first + graceMs } : undefined;
}

/** The generation recorded as last valid: this one, or the one a server runs instead of it (isolation.ts). */
function lastValidOf(generation: number, raw: RawMonitoredService, inForce: MonitoredService | undefined): { generation: number; spec: string } {
  return inForce ? { generation: inForce.metadata.generation ?? 0, spec: JSON.stringify(inForce.spec) } : { generation, spec: JSON.stringify(raw.spec ?? {}) };
}

export function planReconcile(input: ReconcileInput): ReconcilePlan {
  const memo = input.memo;
  const identityOf = (raw: RawMonitoredService): ObjectIdentity => {
    if (memo) return memo.identityOf(raw);
    const ref = refOf(raw);
    return { ref, key: `${ref.namespace}/${ref.name}` };
  };
  const otherInstall: ReconcilePlan['otherInstall'] = [];
  const claimingInstalls = new Set<string>();
  const objects = input.objects.filter((o) => {
    if (!o.metadata?.name || !o.metadata.namespace || o.metadata.deletionTimestamp) return false;
    const claim = o.status?.install?.namespace;
    if (input.install && claim !== undefined && claim !== input.install.namespace) claimingInstalls.add(claim);
    const holder = input.install && claimedByOtherInstall(o.status?.install, input.install, o.metadata.namespace, o.metadata.labels, input.installGone);
    if (holder) otherInstall.push({ ...refOf(o), install: holder });
    return !holder;
  });
  const results = objects.map((raw) => {
    const result = input.validate(raw);
    return { raw, result, inForce: result.ok ? undefined : lastValidInForce(raw, input.validate, result) };
  });
  const candidates: MonitoredService[] = [];
  const invalid: ObjectRef[] = [];
  for (const { raw, result, inForce } of results) {
    if (result.ok) candidates.push(result.service);
    else {
      invalid.push(refOf(raw));
      if (inForce) candidates.push(inForce.service);
    }
  }
  // The informer cache has no stable order; the renderer output must not depend on it.
  const credentials = collectScrapeCredentials(memo ? memo.sortedByRef(candidates) : candidates.sort((a, b) => byRef(a.metadata, b.metadata)), input.scrapeCredentials);
  // Valid (or in force) and with their credential files at hand, in namespace/name order.
  const validServices = credentials.deliverable;
  // What the selectors and ports find among the Services (selection.ts): problems for the status,
  // Services over the same pods for the scrape jobs.
  const selections = new Map<string, SelectionObservation>();
  const hints: ScrapeHints = {};
  for (const service of validServices) {
    const inNamespace = input.servicesIn?.(service.metadata.namespace);
    if (!inNamespace) continue;
    const report = diagnoseSelection(service, inNamespace);
    for (const d of report.duplicates) hints[jobName(service.metadata, d.port)] = { skipServices: d.skip };
    // A selector key that a Service's label key equals after Prometheus's sanitising: by name.
    if (report.exactServices) {
      for (const { port } of service.spec.endpoints) {
        const job = jobName(service.metadata, port);
        hints[job] = { skipServices: hints[job]?.skipServices ?? [], onlyServices: report.exactServices };
      }
    }
    // What status says of a misconfigured selector or port goes into the ServiceDown email too (issue #21).
    if (report.problems.length > 0) {
      const downReason = report.problems.map((p) => `${p.reason}: ${p.message}`).join('; ');
      for (const { port } of service.spec.endpoints) {
        const job = jobName(service.metadata, port);
        hints[job] = { skipServices: hints[job]?.skipServices ?? [], ...(hints[job]?.onlyServices ? { onlyServices: hints[job].onlyServices } : {}), downReason };
      }
    }
    selections.set(`${service.metadata.namespace}/${service.metadata.name}`, { problems: report.problems, duplicates: describeDuplicates(report.duplicates) });
  }
  const withHints = Object.keys(hints).length > 0 ? hints : undefined;
  const renderOne = (services: MonitoredService[], target: RenderTarget) => input.render(services, input.settings, withHints, target);
  const renderAndEncode = (services: MonitoredService[]) => {
    const rendered = renderIsolated(services, renderOne, input.isolate);
    // Compressing 5 MB costs tens of milliseconds: only for an object whose content must change.
    const writeConfigMap = input.prometheus.configHash !== rendered.prometheusHash || (rendered.prometheusPartitions !== undefined && input.partitionsStale?.(rendered.prometheusPartitions) === true);
    const writeSecret = input.alertmanager.configHash !== rendered.alertmanagerHash;
    const encoded: ReconcilePlan['encoded'] = {};
    const encode = input.encode ?? encodeFileSet;
    let encodedPartitions: ReconcilePlan['encodedPartitions'];
    if (writeConfigMap && rendered.prometheusPartitions) {
      const encodePartition = input.encodePartition;
      const parts = encodePartitions(rendered.prometheusPartitions, (files) => encode(files, input.limits), encodePartition && ((partition) => encodePartition(partition, input.limits)));
      encoded.prometheus = parts.problem ?? parts.main;
      if (!parts.problem && parts.main.ok) encodedPartitions = { main: parts.main, partitions: parts.partitions };
    } else if (writeConfigMap) encoded.prometheus = encode(rendered.prometheus, input.limits);
    if (writeSecret) encoded.alertmanager = encode(rendered.alertmanager, input.limits);
    return { rendered, writeConfigMap, writeSecret, encoded, ...(encodedPartitions ? { encodedPartitions } : {}) };
  };
  let { rendered, writeConfigMap, writeSecret, encoded, encodedPartitions } = renderAndEncode(validServices);
  // One team's size never holds back the others (issue #15): leave services out until it fits.
  const leftOutMessages = new Map<string, string>();
  // Partitioned, only a service too large for an object of its own is left out; the rest is split.
  if (rendered.prometheusPartitions && encoded.prometheus?.ok === false) {
    const alone = tooLargeAlone(rendered.prometheusPartitions, (files) => (input.encode ?? encodeFileSet)(files, input.limits));
    if (alone.size > 0) {
      ({ rendered, writeConfigMap, writeSecret, encoded, encodedPartitions } = renderAndEncode(validServices.filter((s) => !alone.has(`${s.metadata.namespace}/${s.metadata.name}`))));
      for (const [key, message] of alone) leftOutMessages.set(key, message);
    }
  }
  if ((!rendered.prometheusPartitions && encoded.prometheus?.ok === false) || encoded.alertmanager?.ok === false) {
    const fit = leaveOutUntilFits(validServices, results, rendered, encoded, input.limits, renderAndEncode);
    if (fit) {
      ({ rendered, writeConfigMap, writeSecret, encoded, encodedPartitions } = fit.result);
      for (const [key, message] of fit.messages) leftOutMessages.set(key, message);
    }
  }
  const included = memo ? memo.includedKeys(rendered.included) : new Set(rendered.included.map((r) => `${r.namespace}/${r.name}`));
  const problems: string[] = [];
  if (encoded.prometheus?.ok === false) {
    problems.push(`the Prometheus config (ConfigMap ${OBJECT_NAMES.prometheusConfigMap}) is ${encoded.prometheus.message}`);
  }
  if (encoded.alertmanager?.ok === false) {
    problems.push(`the Alertmanager config (Secret ${OBJECT_NAMES.alertmanagerSecret}) is ${encoded.alertmanager.message}`);
  }
  const undeliverable =
    problems.length > 0 ? `the config for ${rendered.included.length} MonitoredServices cannot be written: ${problems.join('; ')}; the last written config keeps running` : undefined;

  const amProblem = alertmanagerProblem(input, rendered);
  const views = prometheusViews(input, rendered);
  const statusUpdates: StatusUpdate[] = [];
  // What every object's status shares in this reconcile; computeStatus reads the desired hashes and
  // the sidecars' reports only through configApplyState, so a new desired hash alone moves no status.
  const sharedOf = views.map((view) =>
    JSON.stringify([
      configApplyState({ prometheusHash: view.rendered.prometheusHash, alertmanagerHash: rendered.alertmanagerHash }, view.input.prometheus, input.alertmanager, view.name),
      amProblem ?? null,
      view.promProblem ?? null,
      undeliverable ?? null,
      input.install ?? null,
      view.input.targetsUnavailable ?? null,
    ]),
  );
  const nowMs = Date.parse(input.now);
  // Whether Prometheus runs the rendered config or is about to (ApplyPending): what discoveryGraceOf's `runs` needs besides inclusion.
  const willRunOf = views.map((view) => undeliverable === undefined && view.promProblem === undefined && reloadFailure(view.input.prometheus, view.rendered.prometheusHash) === undefined);
  let discoveryGraceEndsAt: number | undefined;
  for (const { raw, result, inForce } of results) {
    const { ref, key } = identityOf(raw);
    // One Prometheus, or the shard of the object's namespace.
    const shard = input.shards && views.length > 1 ? input.shards.shardOf(ref.namespace) : 0;
    const view = views[shard]!;
    const shared = sharedOf[shard]!;
    const prometheusWillRun = willRunOf[shard]!;
    const observed: ReturnType<typeof targetsObservation> = result.ok || inForce ? targetsObservation(view.input, ref) : {};
    const routed = result.ok ? result.service : inForce?.service;
    const rejected = result.ok ? input.rejected?.get(key) : undefined;
    const scraping = prometheusInForce(result, inForce, rejected);
    // Only a service without targets needs it (the scrape config hash renders its jobs).
    const isIncluded = included.has(key);
    const grace = observed.targets?.discovered === 0 ? discoveryGraceOf(scraping, input.settings, input.scrapeConfigLoaded, nowMs, prometheusWillRun && isIncluded) : undefined;
    if (grace?.endsAt !== undefined) discoveryGraceEndsAt = Math.min(discoveryGraceEndsAt ?? grace.endsAt, grace.endsAt);
    const inputs: StatusInputs = {
      shared,
      result,
      inForce,
      included: isIncluded,
      targets: observed.targets,
      rules: observed.rules,
      discoveryGrace: grace ? { graceMs: grace.graceMs } : undefined,
      selection: selections.get(key),
      leftOut: leftOutMessages.get(key),
      credentials: credentials.problems.get(key),
      rejected,
      email: routed && isIncluded ? emailObservation(input, routed, memo ? memo.receiverOf(routed) : routeReceiver(routed)) : undefined,
    };
    if (input.statusMemo?.unchanged(raw, inputs)) continue;
    const generation = raw.metadata?.generation ?? 0;
    const invalidMessage = result.ok ? undefined : result.issues.map((i) => input.formatIssue(result.ref, i)).join('; ');
    const next = computeStatus({
      generation,
      previous: input.install ? ownPrevious(raw.status, input.install) : raw.status,
      ...(invalidMessage !== undefined ? { invalidMessage } : {}),
      included: inputs.included,
      desired: { prometheusHash: view.rendered.prometheusHash, alertmanagerHash: rendered.alertmanagerHash },
      ...(view.name !== 'Prometheus' ? { prometheusName: view.name } : {}),
      prometheus: view.input.prometheus,
      alertmanager: input.alertmanager,
      ...(amProblem ? { alertmanagerProblem: amProblem } : {}),
      ...(view.promProblem ? { prometheusProblem: view.promProblem } : {}),
      ...(undeliverable !== undefined ? { undeliverable } : {}),
      ...(inputs.leftOut !== undefined ? { leftOut: inputs.leftOut } : {}),
      ...(inputs.credentials !== undefined ? { credentialsMissing: inputs.credentials } : {}),
      ...(inputs.rejected !== undefined ? { rejected: inputs.rejected } : {}),
      ...observed,
      // A refused new service never ran: nothing of it is the last valid generation (isolation.ts).
      ...(result.ok ? { lastValid: inputs.rejected && !inputs.rejected.inForce ? null : lastValidOf(generation, raw, inputs.rejected?.inForce) } : {}),
      ...(inForce ? { inForceGeneration: inForce.generation, ...(inForce.without.length > 0 ? { inForceWithout: inForce.without } : {}) } : {}),
      // The current generation passed an earlier operator version: this one refuses what ran.
      ...(!result.ok && raw.status?.lastValidGeneration === generation ? { noLongerValid: true } : {}),
      ...(!result.ok && !inForce && raw.status?.lastValidGeneration !== undefined ? { lastValidRefused: raw.status.lastValidGeneration } : {}),
      ...(input.install ? { install: input.install } : {}),
      ...(inputs.selection ? { selection: inputs.selection } : {}),
      ...(routed && input.settings.defaultRecipients.length === 0 && (routed.spec.notify?.email?.to.length ?? 0) === 0 ? { unrouted: true } : {}),
      ...(result.ok && !result.service.spec.downAlert.enabled && result.service.spec.rules.length === 0 ? { noAlerts: true } : {}),
      ...runningScrapeLimits(scraping, input.settings),
      ...(inputs.discoveryGrace ? { discoveryGrace: inputs.discoveryGrace } : {}),
      ...(inputs.email ? { email: inputs.email } : {}),
      now: input.now,
    });
    if (!statusChanged(raw.status, next)) {
      input.statusMemo?.remember(raw, inputs);
      continue;
    }
    statusUpdates.push({
      namespace: ref.namespace,
      name: ref.name,
      uid: raw.metadata?.uid,
      generation,
      patch: statusMergePatch(raw.status, next),
      events: eventsForTransition(raw.status, next),
    });
  }
  statusUpdates.sort(byRef);

  return {
    rendered,
    writeConfigMap,
    writeSecret,
    encoded,
    ...(encodedPartitions ? { encodedPartitions } : {}),
    ...(undeliverable !== undefined ? { undeliverable } : {}),
    statusUpdates,
    valid: validServices.length,
    invalid: invalid.sort(byRef),
    otherInstall: otherInstall.sort(byRef),
    claimingInstalls: [...claimingInstalls].sort(),
    scrapeCredentialFiles: credentials.files,
    credentialsPending: credentials.pending,
    ...(discoveryGraceEndsAt !== undefined ? { discoveryGraceEndsAt } : {}),
  };
}

/**
 * How each Prometheus is seen by the status of its services: one view of the input and the rendered
 * config, or with shards one per shard, holding that shard's report, polls and rendered main files
 * and hash (so prometheusProblem and configApplyState compare a shard with its own config).
 */
function prometheusViews(input: ReconcileInput, rendered: RenderedConfig): { name: string; input: ReconcileInput; rendered: RenderedConfig; promProblem: AlertmanagerProblem | undefined }[] {
  const shards = rendered.prometheusPartitions?.shards;
  if (!shards || !input.shards) return [{ name: 'Prometheus', input, rendered, promProblem: prometheusProblem(input, rendered) }];
  return shards.map((config, shard) => {
    const seen = input.shards!.of[shard] ?? { name: `Prometheus shard ${shard}`, prometheus: {} };
    const shardInput: ReconcileInput = { ...input, prometheus: seen.prometheus, prometheusRunning: seen.prometheusRunning, targetsUnavailable: seen.targetsUnavailable };
    const shardRendered: RenderedConfig = { ...rendered, prometheus: config.main, prometheusHash: config.hash, digests: { ...rendered.digests, prometheus: config.digest } };
    return { name: seen.name, input: shardInput, rendered: shardRendered, promProblem: prometheusProblem(shardInput, shardRendered) };
  });
}

/** Splits valid services into those whose credential files are at hand and those left out (with why). */
function collectScrapeCredentials(
  services: MonitoredService[],
  resolve: ReconcileInput['scrapeCredentials'],
): { deliverable: MonitoredService[]; problems: Map<string, string>; files: FileSet; pending: boolean } {
  const problems = new Map<string, string>();
  const files: FileSet = {};
  let pending = false;
  if (!resolve) return { deliverable: services, problems, files, pending };
  const deliverable = services.filter((service) => {
    const resolution = resolve(service);
    if ('problem' in resolution) {
      problems.set(`${service.metadata.namespace}/${service.metadata.name}`, resolution.problem);
      return false;
    }
    if ('pending' in resolution) pending = true;
    else Object.assign(files, resolution.files);
    return true;
  });
  return { deliverable, problems, files, pending };
}
