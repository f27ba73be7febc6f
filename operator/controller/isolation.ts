// Run-time isolation (issue 22): when Prometheus or Alertmanager refuses a reload that validation
// let through, find the services whose pieces cause it, keep them out of the config (their last
// applied generation stays, or nothing when none ever ran), and apply everyone else's changes.
//
// Decisions here are pure: from what the operator rendered (which services at which generation
// went into each config hash) and what the sidecar reported (applied-hash, failed-hash,
// reload-error), the next state. The controller keeps one IsolationState per server and renders
// what `servicesToRender` says.
//
// Attribution: first by the server's error text (a rule file name, a job name, a receiver name
// naming a service); when it names none (Prometheus 3.15.1 answers a rule file it cannot load with
// only "one or more errors occurred while applying the new configuration", the file is named in its
// log), by bisection over the suspects: the services not yet confirmed at their current
// generation. A trial renders the last applied versions plus the first half of the suspects'
// new versions; applied, that half is good; refused, the culprit is in it. A service is convicted
// only when a config without it (its last applied version instead) loads: one suspect left is tried
// out that way. About log2(suspects) + 1 reloads per culprit.
import type { MonitoredService } from '../api/schema.js';
import type { ObjectRef, RenderedConfig, ScrapeHints } from '../render/types.js';
import type { RenderTarget } from '../assemble/size-fit.js';
import { JOB_PREFIX, RULE_FILE_SUFFIX } from '../render/names.js';

import type { ServerKind } from '../sync/confirm.js';

export type { ServerKind };

/** `<namespace>/<name>` of a MonitoredService. */
export type ServiceKey = string;

export const keyOf = (ref: ObjectRef): ServiceKey => `${ref.namespace}/${ref.name}`;

/** A service refused by the server at one generation: stays out until its generation changes. */
export interface Quarantine {
  generation: number;
  /** The server's error, as the sidecar reported it. */
  error: string;
  /** The config hash the server refused. */
  hash: string;
  /** How it was found: the error named it, or trials without it loaded. */
  foundBy: 'error' | 'bisection';
}

/** A bisection in progress: `suspects` hold a culprit; `trial` (a prefix of them) is being tried. */
export interface Probe {
  suspects: ServiceKey[];
  trial: ServiceKey[];
  /** Earlier suspects outside `suspects`, not known good: held at their last applied versions until the culprit is found. */
  held: ServiceKey[];
  /** The hash rendered for the trial, once rendered (the controller fills it in). */
  hash?: string;
  /** The error of the refused config that started the bisection. */
  error: string;
  failedHash: string;
}

export interface IsolationState {
  quarantined: Map<ServiceKey, Quarantine>;
  probe?: Probe;
  /** The last sidecar outcome acted on (`applied:<hash>` or `failed:<hash>`): each is acted on once. */
  handled?: string;
  /** A refused config that was refused without any of its suspects too: not bisected again. */
  unattributed?: string;
}

export function emptyIsolation(): IsolationState {
  return { quarantined: new Map() };
}

/** The sidecar's report for this server (controller/annotations.ts SyncReport, the fields used here). */
export interface Outcome {
  configHash?: string | undefined;
  appliedHash?: string | undefined;
  failedHash?: string | undefined;
  reloadError?: string | undefined;
}

/**
 * Whether a sidecar's reload-error says the server answered and refused the config (sync/reloader.ts:
 * "<kind> rejected the new config (HTTP <status>): …", or after an unanswered request "<kind> reports a
 * failed reload (…)"), as opposed to a server that is down, not ready or slow: only a refusal is
 * attributed to services; the others would convict whichever service changed at that moment.
 */
export function isRefusal(error: string): boolean {
  return /^(prometheus|alertmanager) rejected the new config \(HTTP \d{3}\)/.test(error) || /(prometheus|alertmanager) reports a failed reload/.test(error);
}

/**
 * Services the error text names: a rule file `<ns>__<name>.rules.yaml`, a job `vigil/<ns>/<name>/<port>`
 * (Prometheus), `<ns>/<name>` in quotes, or the service's recipient-set receiver in quotes
 * (Alertmanager quotes names with Go's %q: `notification config name "vigil-to:a@x" is not unique`).
 * `receivers`: each candidate's receiver name, for those with recipients; a receiver is shared by
 * every service with the same recipients, so it names each candidate that has it. Only keys among
 * `candidates`.
 */
export function namedInError(error: string, candidates: readonly ServiceKey[], receivers: ReadonlyMap<ServiceKey, string> = new Map()): ServiceKey[] {
  const quoted = (name: string) => error.includes(`"${name}"`) || error.includes(`'${name}'`) || error.includes(JSON.stringify(name));
  const found = new Set<ServiceKey>();
  for (const key of candidates) {
    const [namespace, name] = key.split('/') as [string, string];
    const ruleFile = `${namespace}__${name}${RULE_FILE_SUFFIX}`;
    const job = `${JOB_PREFIX}/${namespace}/${name}/`;
    const receiver = receivers.get(key);
    if (error.includes(ruleFile) || error.includes(job) || quoted(key) || (receiver !== undefined && quoted(receiver))) found.add(key);
  }
  return [...found];
}

/** The keys of `services` not known to run at their current generation (ConfigApplied not True at it), minus quarantined ones. */
export function suspectsOf(services: readonly { key: ServiceKey; generation: number; confirmed: boolean; valid: boolean }[], state: IsolationState): ServiceKey[] {
  return services
    .filter((s) => s.valid && !s.confirmed && state.quarantined.get(s.key)?.generation !== s.generation)
    .map((s) => s.key)
    .sort();
}

function quarantine(state: IsolationState, keys: readonly ServiceKey[], generations: ReadonlyMap<ServiceKey, number>, base: Omit<Quarantine, 'generation'>): void {
  for (const key of keys) {
    const generation = generations.get(key);
    if (generation !== undefined) state.quarantined.set(key, { ...base, generation });
  }
}

/**
 * Tries the first half of `suspects` (with the others held). One suspect alone is tried the other
 * way round, without it: only a config that loads without a service convicts it, so a refusal that
 * no service causes (the operator's own settings) blames none.
 */
function startProbe(state: IsolationState, suspects: ServiceKey[], held: ServiceKey[], error: string, failedHash: string): void {
  state.probe = { suspects, trial: suspects.length === 1 ? [] : suspects.slice(0, Math.ceil(suspects.length / 2)), held, error, failedHash };
}

/**
 * The next state after the sidecar's report. `generations`: each current valid service's
 * generation; `suspects`: suspectsOf() now; `rendered`: the config hashes this operator rendered
 * (a report about a hash it did not render, e.g. before a restart, starts nothing); `receivers`: the
 * receiver name of each service with recipients (namedInError).
 * Returns the services newly quarantined (for the log).
 */
export function step(
  state: IsolationState,
  outcome: Outcome,
  generations: ReadonlyMap<ServiceKey, number>,
  suspects: readonly ServiceKey[],
  rendered: ReadonlySet<string>,
  receivers: ReadonlyMap<ServiceKey, string> = new Map(),
): ServiceKey[] {
  // A suspect whose spec moved on, or that was deleted, is tried afresh; so is a quarantined one.
  for (const [key, q] of state.quarantined) if (generations.get(key) !== q.generation) state.quarantined.delete(key);
  const before = new Set(state.quarantined.keys());
  const probe = state.probe;
  const failed =
    outcome.failedHash !== undefined && outcome.reloadError !== undefined && isRefusal(outcome.reloadError) && outcome.appliedHash !== outcome.failedHash && outcome.failedHash === outcome.configHash;
  const event = failed ? `failed:${outcome.failedHash}` : outcome.appliedHash !== undefined ? `applied:${outcome.appliedHash}` : undefined;
  if (event === undefined || event === state.handled) return [];
  if (probe && probe.hash !== undefined && (outcome.appliedHash === probe.hash || outcome.failedHash === probe.hash)) {
    state.handled = event;
    const rest = probe.suspects.filter((k) => !probe.trial.includes(k) && generations.has(k));
    if (!failed) {
      // The trial half loads: the culprit is among the rest, which failed together with it.
      delete state.probe;
      if (rest.length === 1) quarantine(state, rest, generations, { error: probe.error, hash: probe.failedHash, foundBy: 'bisection' });
      else if (rest.length > 1) startProbe(state, rest, probe.held, probe.error, probe.failedHash);
    } else {
      const trial = probe.trial.filter((k) => generations.has(k));
      delete state.probe;
      const named = namedInError(outcome.reloadError ?? '', trial, receivers);
      if (named.length > 0) quarantine(state, named, generations, { error: outcome.reloadError ?? probe.error, hash: outcome.failedHash ?? probe.failedHash, foundBy: 'error' });
      else if (trial.length === 0) state.unattributed = probe.failedHash;
      // The refused full config stays the reference: its hash is the one not to bisect again.
      else if (trial.length >= 1) startProbe(state, trial, [...probe.held, ...rest], probe.error, probe.failedHash);
    }
  } else if (failed && rendered.has(outcome.failedHash!) && (!probe || probe.hash !== undefined)) {
    state.handled = event;
    delete state.probe;
    const error = outcome.reloadError!;
    const named = namedInError(error, suspects, receivers);
    if (named.length > 0) quarantine(state, named, generations, { error, hash: outcome.failedHash!, foundBy: 'error' });
    // Already shown to fail without any suspect: the plain ReloadFailed stands.
    else if (outcome.failedHash !== state.unattributed && suspects.length > 0) startProbe(state, [...suspects], [], error, outcome.failedHash!);
  } else if (!failed) {
    state.handled = event;
  }
  return [...state.quarantined.keys()].filter((k) => !before.has(k));
}

/**
 * Which version of each service goes into this server's config: the current one, or (quarantined,
 * or a suspect outside the running trial) the last one the server applied, or none (never applied).
 */
export function servicesToRender(current: readonly MonitoredService[], lastApplied: ReadonlyMap<ServiceKey, MonitoredService>, state: IsolationState): MonitoredService[] {
  const held = new Set(state.quarantined.keys());
  if (state.probe) {
    for (const k of state.probe.suspects) if (!state.probe.trial.includes(k)) held.add(k);
    for (const k of state.probe.held) held.add(k);
  }
  const out: MonitoredService[] = [];
  for (const service of current) {
    const key = keyOf(service.metadata);
    if (!held.has(key)) out.push(service);
    else {
      const last = lastApplied.get(key);
      if (last && last.metadata.generation !== service.metadata.generation) out.push(last);
    }
  }
  return out;
}

const SERVER_NAME: Record<ServerKind, string> = { prometheus: 'Prometheus', alertmanager: 'Alertmanager' };

/** ConfigApplied reason of a quarantined service. */
export const REJECTED_REASON: Record<ServerKind, 'RejectedByPrometheus' | 'RejectedByAlertmanager'> = {
  prometheus: 'RejectedByPrometheus',
  alertmanager: 'RejectedByAlertmanager',
};

/** The ConfigApplied message of a quarantined service. `runningGeneration`: the one kept instead, if any. */
export function rejectionMessage(kind: ServerKind, q: Quarantine, runningGeneration: number | undefined): string {
  const how = q.foundBy === 'error' ? 'its error names this service' : 'the config loads without this generation and not with it';
  const kept = runningGeneration !== undefined ? `generation ${runningGeneration}, the last one it loaded, keeps running` : 'this service is left out (no generation of it ever loaded)';
  return `${SERVER_NAME[kind]} refused config ${q.hash} because of generation ${q.generation} of this service (${how}): ${q.error}; ${kept}, the other services' changes are applied; change the spec to try again`;
}

/** What the isolation needs of each MonitoredService object in the caches (raw, before validation). */
export interface ObjectFacts {
  key: ServiceKey;
  generation: number;
  /** ConfigApplied True at this generation: the servers run it. */
  confirmed: boolean;
  /** This generation passes validation (only such can be in the config, and be suspected). */
  valid: boolean;
  /** Its Alertmanager receiver's name (render/alertmanager.ts routeReceiver), when valid and it names recipients. */
  receiver?: string;
  /** ConfigApplied's reason and message when they are a RejectedBy* of this generation (kept in status across operator restarts). */
  rejected?: { reason: string; message: string };
  /** With `rejected`: the generation that runs instead, from status.lastValidSpec (see Rejection.inForce). */
  inForce?: MonitoredService;
}

/** A quarantined service's ConfigApplied, and the generation that runs instead (recorded as status.lastValid*, so a restarted operator keeps rendering it). */
export interface Rejection {
  reason: string;
  message: string;
  inForce?: MonitoredService;
}

/** How many rendered configs are remembered per server, to learn which versions an applied hash holds. */
const RENDERS_KEPT = 16;

/**
 * The controller's memory for isolation, per server: the services of each config hash it rendered
 * (so an applied hash tells which versions run), the last applied versions, and the IsolationState.
 * No I/O: the controller feeds it the sidecars' reports and the objects, and renders what it says.
 */
export class RunTimeIsolation {
  private readonly state: Record<ServerKind, IsolationState> = { prometheus: emptyIsolation(), alertmanager: emptyIsolation() };
  /** The services of each rendered hash: the array planReconcile rendered (kept by reference, no copy: 10,000 services). */
  private readonly renders: Record<ServerKind, Map<string, readonly MonitoredService[]>> = { prometheus: new Map(), alertmanager: new Map() };
  private readonly lastApplied: Record<ServerKind, Map<ServiceKey, MonitoredService>> = { prometheus: new Map(), alertmanager: new Map() };
  /** The hash lastApplied was built from: rebuilt only when the applied hash moves. */
  private readonly lastAppliedHash: Record<ServerKind, string | undefined> = { prometheus: undefined, alertmanager: undefined };
  /** RejectedBy* statuses found on objects the state does not hold (after an operator restart): kept as they are. */
  private restored = new Map<ServiceKey, { generation: number; reason: string; message: string; inForce?: MonitoredService }>();

  /** Acts on both sidecars' reports; returns the services newly quarantined, per server. */
  observe(objects: readonly ObjectFacts[], reports: Record<ServerKind, Outcome>): Record<ServerKind, ServiceKey[]> {
    const generations = new Map(objects.map((o) => [o.key, o.generation]));
    const receivers = new Map(objects.flatMap((o) => (o.receiver !== undefined ? [[o.key, o.receiver] as const] : [])));
    this.restored = new Map(objects.filter((o) => o.rejected).map((o) => [o.key, { generation: o.generation, ...o.rejected!, ...(o.inForce ? { inForce: o.inForce } : {}) }]));
    const result = { prometheus: [] as ServiceKey[], alertmanager: [] as ServiceKey[] };
    for (const kind of ['prometheus', 'alertmanager'] as const) {
      const report = reports[kind];
      const applied = report.appliedHash !== undefined && report.appliedHash !== this.lastAppliedHash[kind] ? this.renders[kind].get(report.appliedHash) : undefined;
      if (applied) {
        this.lastApplied[kind] = new Map(applied.map((s) => [keyOf(s.metadata), s]));
        this.lastAppliedHash[kind] = report.appliedHash;
      }
      // A restored rejection counts as quarantine until the spec changes (the status is the memory).
      for (const [key, r] of this.restored) {
        if (r.reason === REJECTED_REASON[kind] && !this.state[kind].quarantined.has(key)) {
          this.state[kind].quarantined.set(key, { generation: r.generation, error: r.message, hash: '', foundBy: 'error' });
          // What ran before the restart: rendered again until the spec changes.
          if (r.inForce && !this.lastApplied[kind].has(key)) this.lastApplied[kind].set(key, r.inForce);
        }
      }
      const suspects = suspectsOf(objects, this.state[kind]);
      result[kind] = step(this.state[kind], report, generations, suspects, new Set(this.renders[kind].keys()), receivers);
    }
    return result;
  }

  /** planReconcile's `isolate`: the versions each server gets. Also records what each rendered hash holds (see rendered()). */
  choose(valid: MonitoredService[]): { prometheus: MonitoredService[]; alertmanager: MonitoredService[] } {
    const prometheus = servicesToRender(valid, this.lastApplied.prometheus, this.state.prometheus);
    const alertmanager = servicesToRender(valid, this.lastApplied.alertmanager, this.state.alertmanager);
    // Unchanged lists share one render (assemble/size-fit.ts renderIsolated).
    const same = prometheus.length === alertmanager.length && prometheus.every((s, i) => s === alertmanager[i]);
    return { prometheus, alertmanager: same ? prometheus : alertmanager };
  }

  /**
   * planReconcile's `render` through this memory: each render's hash is remembered for the server
   * whose part of it is used (`target`), not for the other, whose part of it is never written.
   */
  recording<S>(render: (services: MonitoredService[], settings: S, hints?: ScrapeHints, target?: RenderTarget) => RenderedConfig) {
    return (services: MonitoredService[], settings: S, hints?: ScrapeHints, target: RenderTarget = 'both'): RenderedConfig => {
      const result = render(services, settings, hints, target);
      if (target !== 'alertmanager') this.rendered('prometheus', result.prometheusHash, services);
      if (target !== 'prometheus') this.rendered('alertmanager', result.alertmanagerHash, services);
      return result;
    };
  }

  /** After a render of `services` for `kind` gave `hash`: remembered, and a bisection trial waiting for its hash gets it. */
  rendered(kind: ServerKind, hash: string, services: readonly MonitoredService[]): void {
    const renders = this.renders[kind];
    renders.delete(hash);
    renders.set(hash, services);
    while (renders.size > RENDERS_KEPT) renders.delete(renders.keys().next().value as string);
  }

  /**
   * The hash planned for `kind`: while a bisection runs, the config written is its trial (with the
   * latest versions of the services outside the suspects), so its outcome decides the trial.
   */
  planned(kind: ServerKind, hash: string): void {
    const probe = this.state[kind].probe;
    if (probe) probe.hash = hash;
  }

  /** A refusal of a config this operator rendered that was not acted on yet (seen before it was rendered: after a restart). */
  unhandledFailure(kind: ServerKind, report: Outcome): boolean {
    const failed =
      report.failedHash !== undefined && report.reloadError !== undefined && isRefusal(report.reloadError) && report.failedHash === report.configHash && report.appliedHash !== report.failedHash;
    return failed && this.state[kind].handled !== `failed:${report.failedHash}` && this.renders[kind].has(report.failedHash!);
  }

  /** A bisection is running for some server (its trials are rendered instead of everyone's changes). */
  probing(): boolean {
    return this.state.prometheus.probe !== undefined || this.state.alertmanager.probe !== undefined;
  }

  /** ConfigApplied of each quarantined service (Prometheus's refusal first). */
  rejected(): Map<ServiceKey, Rejection> {
    const out = new Map<ServiceKey, Rejection>();
    for (const kind of ['prometheus', 'alertmanager'] as const) {
      for (const [key, q] of this.state[kind].quarantined) {
        if (out.has(key)) continue;
        const restored = this.restored.get(key);
        const last = this.lastApplied[kind].get(key);
        const inForce = last && last.metadata.generation !== q.generation ? last : undefined;
        if (q.hash === '' && restored) {
          out.set(key, { reason: restored.reason, message: restored.message, ...(inForce ? { inForce } : {}) });
          continue;
        }
        out.set(key, { reason: REJECTED_REASON[kind], message: rejectionMessage(kind, q, inForce?.metadata.generation), ...(inForce ? { inForce } : {}) });
      }
    }
    return out;
  }
}
