import { describe, expect, it } from '@jest/globals';
import type { MonitoredService } from '../api/schema.js';
import type { RawMonitoredService } from '../api/raw.js';
import { renderConfig } from '../assemble/config.js';
import { defaultSettings } from '../render/index.js';
import { formatIssue, validateMonitoredService } from '../validate/index.js';
import { planReconcile } from './plan.js';
import { emptyIsolation, isRefusal, namedInError, rejectionMessage, RunTimeIsolation, servicesToRender, step, suspectsOf, type ObjectFacts, type Outcome } from './isolation.js';

/** A service version: only metadata matters to the isolation. */
function svc(key: string, generation: number): MonitoredService {
  const [namespace, name] = key.split('/') as [string, string];
  return { metadata: { namespace, name, generation } } as unknown as MonitoredService;
}

const RULES_ERROR =
  'prometheus rejected the new config (HTTP 500): failed to reload config: one or more errors occurred while applying the new configuration (--config.file="/etc/prometheus/prometheus.yml")';

/**
 * Drives RunTimeIsolation the way the controller and a sidecar do, against a fake server that
 * refuses any config holding one of `bad` (key@generation), or (`refuseAll`, a bad operator
 * setting) every config rendered now. Returns the versions finally running and how many reloads it took.
 */
function converge(current: MonitoredService[], confirmedBefore: Set<string>, bad: Set<string>, isolation = new RunTimeIsolation(), appliedBefore?: MonitoredService[], refuseAll = false) {
  const id = (services: readonly MonitoredService[]) => services.map((s) => `${s.metadata.namespace}/${s.metadata.name}@${s.metadata.generation}`).join(',');
  const report: Outcome = {};
  if (appliedBefore) {
    isolation.rendered('prometheus', id(appliedBefore), appliedBefore);
    report.appliedHash = id(appliedBefore);
  }
  let running = appliedBefore ?? [];
  let reloads = 0;
  for (let round = 0; round < 30; round++) {
    const facts: ObjectFacts[] = current.map((s) => {
      const key = `${s.metadata.namespace}/${s.metadata.name}`;
      const rejected = isolation.rejected().get(key);
      return { key, generation: s.metadata.generation!, valid: true, confirmed: confirmedBefore.has(`${key}@${s.metadata.generation}`), ...(rejected ? { rejected } : {}) };
    });
    isolation.observe(facts, { prometheus: report, alertmanager: {} });
    const chosen = isolation.choose(current).prometheus;
    // A changed operator setting changes every config rendered from now on.
    const hash = refuseAll ? `${id(chosen)}#new-settings` : id(chosen);
    isolation.rendered('prometheus', hash, chosen);
    isolation.planned('prometheus', hash);
    if (report.configHash === hash) {
      if (!isolation.probing() && report.appliedHash === hash) break;
      continue;
    }
    report.configHash = hash;
    reloads++;
    if (refuseAll || chosen.some((s) => bad.has(`${s.metadata.namespace}/${s.metadata.name}@${s.metadata.generation}`))) {
      report.failedHash = hash;
      report.reloadError = RULES_ERROR;
    } else {
      report.appliedHash = hash;
      delete report.failedHash;
      delete report.reloadError;
      running = chosen;
    }
  }
  return { running: id(running), reloads, isolation };
}

describe('namedInError', () => {
  it('finds a service by its rule file, its job or its quoted receiver, among the candidates only', () => {
    const candidates = ['shop/checkout', 'shop/cart', 'team-b/web'];
    expect(namedInError('ns: "shop__checkout.rules.yaml: 5:15: group ..."', candidates)).toEqual(['shop/checkout']);
    expect(namedInError('found multiple scrape configs with job name "vigil/team-b/web/metrics"', candidates)).toEqual(['team-b/web']);
    expect(namedInError('undefined receiver "shop/cart" used in route', candidates)).toEqual(['shop/cart']);
    expect(namedInError(RULES_ERROR, candidates)).toEqual([]);
  });

  it('finds by a recipient-set receiver every candidate that has it, and no other', () => {
    const candidates = ['shop/checkout', 'shop/cart', 'team-b/web', 'team-b/quiet'];
    const receivers = new Map([
      ['shop/checkout', 'vigil-to:shop@example.com'],
      ['shop/cart', 'vigil-to:shop@example.com'],
      ['team-b/web', 'vigil-to:b@example.com,c@example.com'],
    ]);
    // Alertmanager v0.35 config.go: `notification config name %q is not unique`.
    const duplicate = 'alertmanager rejected the new config (HTTP 400): notification config name "vigil-to:b@example.com,c@example.com" is not unique';
    expect(namedInError(duplicate, candidates, receivers)).toEqual(['team-b/web']);
    expect(namedInError('notification config name "vigil-to:shop@example.com" is not unique', candidates, receivers)).toEqual(['shop/checkout', 'shop/cart']);
    // A receiver that is a prefix of another is not named by it.
    expect(namedInError('notification config name "vigil-to:b@example.com" is not unique', candidates, receivers)).toEqual([]);
    // Only candidates count, whatever the map holds.
    expect(namedInError(duplicate, ['shop/checkout'], receivers)).toEqual([]);
  });
});

describe('isRefusal', () => {
  it("is true only when the server answered and refused (the sidecar's words, sync/reloader.ts)", () => {
    expect(isRefusal(RULES_ERROR)).toBe(true);
    expect(isRefusal('alertmanager rejected the new config (HTTP 400): failed to reload config: undefined receiver "a/b" used in route')).toBe(true);
    expect(
      isRefusal(
        'POST http://127.0.0.1:9090/-/reload failed: fetch failed (UND_ERR_HEADERS_TIMEOUT); prometheus reports a failed reload (prometheus_config_last_reload_successful 0); its log names the cause',
      ),
    ).toBe(true);
    expect(isRefusal('server not ready at http://127.0.0.1:9090/-/ready: fetch failed (ECONNREFUSED)')).toBe(false);
    expect(isRefusal('POST http://127.0.0.1:9090/-/reload failed: fetch failed (ECONNREFUSED)')).toBe(false);
    expect(isRefusal('reload returned 200 but could not be confirmed: Prometheus reports prometheus_config_last_reload_successful 0')).toBe(false);
  });

  it('a server that is down convicts nobody', () => {
    const state = emptyIsolation();
    const down = { configHash: 'H', failedHash: 'H', reloadError: 'server not ready at http://127.0.0.1:9090/-/ready: fetch failed (ECONNREFUSED)', appliedHash: 'G' };
    step(state, down, new Map([['a/x', 2]]), ['a/x'], new Set(['H']));
    expect(state.probe).toBeUndefined();
    expect(state.quarantined.size).toBe(0);
  });
});

describe('servicesToRender', () => {
  it('gives a quarantined service its last applied version, or leaves it out when none ran', () => {
    const state = emptyIsolation();
    state.quarantined.set('a/one', { generation: 2, error: 'x', hash: 'h', foundBy: 'bisection' });
    state.quarantined.set('a/new', { generation: 1, error: 'x', hash: 'h', foundBy: 'bisection' });
    const last = new Map([['a/one', svc('a/one', 1)]]);
    const out = servicesToRender([svc('a/new', 1), svc('a/one', 2), svc('b/two', 5)], last, state);
    expect(out.map((s) => `${s.metadata.name}@${s.metadata.generation}`)).toEqual(['one@1', 'two@5']);
  });
});

describe('step', () => {
  it('convicts the only suspect of a refused config once the config without it loads, and releases it when its generation changes', () => {
    const state = emptyIsolation();
    const generations = new Map([
      ['a/x', 2],
      ['b/y', 1],
    ]);
    const outcome = { configHash: 'H', failedHash: 'H', reloadError: RULES_ERROR, appliedHash: 'G' };
    expect(step(state, outcome, generations, ['a/x'], new Set(['H']))).toEqual([]);
    expect(state.probe).toMatchObject({ suspects: ['a/x'], trial: [] });
    // The config without it is the one running (G): no reload needed, it loads.
    state.probe!.hash = 'G';
    expect(step(state, { configHash: 'G', appliedHash: 'G' }, generations, [], new Set(['H', 'G']))).toEqual(['a/x']);
    expect(state.quarantined.get('a/x')).toMatchObject({ generation: 2, hash: 'H', foundBy: 'bisection' });
    // The same report again (the echo of the next write) changes nothing.
    expect(step(state, { configHash: 'G', appliedHash: 'G' }, generations, [], new Set(['H', 'G']))).toEqual([]);
    step(state, { appliedHash: 'G2' }, new Map([...generations, ['a/x', 3]]), [], new Set(['H']));
    expect(state.quarantined.size).toBe(0);
  });

  it('does not act on a refusal of a config it did not render', () => {
    const state = emptyIsolation();
    expect(step(state, { configHash: 'H', failedHash: 'H', reloadError: 'e' }, new Map([['a/x', 1]]), ['a/x'], new Set())).toEqual([]);
    expect(state.quarantined.size).toBe(0);
  });

  it('suspects only valid services not confirmed at their generation, not those already quarantined at it', () => {
    const state = emptyIsolation();
    state.quarantined.set('q/q', { generation: 1, error: 'e', hash: 'h', foundBy: 'error' });
    const facts = [
      { key: 'a/ok', generation: 1, confirmed: true, valid: true },
      { key: 'b/new', generation: 1, confirmed: false, valid: true },
      { key: 'c/invalid', generation: 1, confirmed: false, valid: false },
      { key: 'q/q', generation: 1, confirmed: false, valid: true },
    ];
    expect(suspectsOf(facts, state)).toEqual(['b/new']);
  });
});

describe('RunTimeIsolation against a server that refuses one service', () => {
  it("applies team B's change while team A's refused generation is quarantined (A's earlier generation keeps running)", () => {
    const before = [svc('a/api', 1), svc('b/web', 1)];
    const now = [svc('a/api', 2), svc('b/web', 2)];
    const { running, isolation } = converge(now, new Set(['a/api@1', 'b/web@1']), new Set(['a/api@2']), new RunTimeIsolation(), before);
    expect(running).toBe('a/api@1,b/web@2');
    const rejected = isolation.rejected().get('a/api');
    expect(rejected?.reason).toBe('RejectedByPrometheus');
    expect(rejected?.message).toContain('generation 1, the last one it loaded, keeps running');
    expect(rejected?.message).toContain(RULES_ERROR);
    expect(isolation.rejected().has('b/web')).toBe(false);
  });

  it('finds one culprit among 20 changed services by bisection, in a few reloads, and applies the other 19', () => {
    const keys = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, '0')}/svc`);
    const before = keys.map((k) => svc(k, 1));
    const now = keys.map((k) => svc(k, 2));
    const { running, reloads, isolation } = converge(now, new Set(keys.map((k) => `${k}@1`)), new Set(['t13/svc@2']), new RunTimeIsolation(), before);
    expect([...isolation.rejected().keys()]).toEqual(['t13/svc']);
    expect(running).toBe(keys.map((k) => (k === 't13/svc' ? `${k}@1` : `${k}@2`)).join(','));
    // The full config, ceil(log2(20)) = 5 trials and one without the last suspect at most, and the final config.
    expect(reloads).toBeLessThanOrEqual(8);
  });

  it('finds two culprits, one after the other; a new service never applied is left out', () => {
    const keys = ['a/one', 'b/two', 'c/three', 'd/four', 'e/five'];
    const { running, isolation } = converge(
      keys.map((k) => svc(k, 1)),
      new Set(),
      new Set(['b/two@1', 'e/five@1']),
    );
    expect([...isolation.rejected().keys()].sort()).toEqual(['b/two', 'e/five']);
    expect(isolation.rejected().get('e/five')?.message).toContain('left out (no generation of it ever loaded)');
    expect(running).toBe('a/one@1,c/three@1,d/four@1');
  });

  it('blames no service when the server refuses every new config whatever the services (a bad operator setting), and stops trying', () => {
    const before = [svc('a/one', 1), svc('b/two', 1), svc('c/three', 1)];
    const now = [svc('a/one', 2), svc('b/two', 2), svc('c/three', 1)];
    const { running, reloads, isolation } = converge(now, new Set(['a/one@1', 'b/two@1', 'c/three@1']), new Set(), new RunTimeIsolation(), before, true);
    expect(isolation.rejected().size).toBe(0);
    expect(isolation.probing()).toBe(false);
    expect(running).toBe('a/one@1,b/two@1,c/three@1');
    expect(reloads).toBeLessThanOrEqual(5);
  });

  it('keeps a rejection found in status (after an operator restart) until the generation changes', () => {
    const isolation = new RunTimeIsolation();
    const restored = { reason: 'RejectedByPrometheus', message: 'Prometheus refused config abc ...' };
    isolation.observe([{ key: 'a/x', generation: 3, confirmed: false, valid: true, rejected: restored }], { prometheus: {}, alertmanager: {} });
    expect(isolation.rejected().get('a/x')).toEqual(restored);
    expect(isolation.choose([svc('a/x', 3)]).prometheus).toEqual([]);
    // With the generation in force recorded in status, that one is rendered instead.
    const withInForce = new RunTimeIsolation();
    const gen2 = svc('a/x', 2);
    withInForce.observe([{ key: 'a/x', generation: 3, confirmed: false, valid: true, rejected: restored, inForce: gen2 }], { prometheus: {}, alertmanager: {} });
    expect(withInForce.choose([svc('a/x', 3)]).prometheus).toEqual([gen2]);
    expect(withInForce.rejected().get('a/x')).toEqual({ ...restored, inForce: gen2 });
    isolation.observe([{ key: 'a/x', generation: 4, confirmed: false, valid: true }], { prometheus: {}, alertmanager: {} });
    expect(isolation.rejected().size).toBe(0);
  });
});

describe('rejectionMessage', () => {
  it("names the server, the refused config, the generation, how it was found, the server's error and what runs", () => {
    expect(rejectionMessage('alertmanager', { generation: 4, error: 'bad route', hash: 'h1', foundBy: 'error' }, 3)).toBe(
      'Alertmanager refused config h1 because of generation 4 of this service (its error names this service): bad route; generation 3, the last one it loaded, keeps running, ' +
        "the other services' changes are applied; change the spec to try again",
    );
  });
});

describe('RunTimeIsolation with an error that names the service', () => {
  it("quarantines the service Alertmanager's error names, without bisection, and Prometheus still gets its new generation", () => {
    const isolation = new RunTimeIsolation();
    const before = [svc('a/mail', 1), svc('b/queue', 1)];
    const now = [svc('a/mail', 2), svc('b/queue', 2)];
    isolation.rendered('alertmanager', 'old', before);
    isolation.rendered('alertmanager', 'new', now);
    const facts: ObjectFacts[] = now.map((s) => ({ key: `${s.metadata.namespace}/${s.metadata.name}`, generation: 2, confirmed: false, valid: true }));
    const error = 'alertmanager rejected the new config (HTTP 400): failed to reload config: notification config name "a/mail" is not unique';
    const found = isolation.observe(facts, { prometheus: {}, alertmanager: { appliedHash: 'old', configHash: 'new', failedHash: 'new', reloadError: error } });
    expect(found).toEqual({ prometheus: [], alertmanager: ['a/mail'] });
    expect(isolation.probing()).toBe(false);
    const chosen = isolation.choose(now);
    expect(chosen.alertmanager.map((s) => `${s.metadata.name}@${s.metadata.generation}`)).toEqual(['mail@1', 'queue@2']);
    expect(chosen.prometheus.map((s) => `${s.metadata.name}@${s.metadata.generation}`)).toEqual(['mail@2', 'queue@2']);
    expect(isolation.rejected().get('a/mail')).toEqual({
      reason: 'RejectedByAlertmanager',
      message: `Alertmanager refused config new because of generation 2 of this service (its error names this service): ${error}; generation 1, the last one it loaded, keeps running, the other services' changes are applied; change the spec to try again`,
      inForce: before[0],
    });
  });
});

describe('RunTimeIsolation.recording: what each server is known to have been rendered', () => {
  const raw = (generation: number, to: string): RawMonitoredService => ({
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace: 'a', name: 'api', generation, uid: 'a-api' },
    spec: { selector: { matchLabels: { app: 'api' } }, endpoints: [{ port: 'metrics' }], rules: [{ name: `Gen${generation}`, expr: 'up == 0' }], notify: { email: { to: [to] } } },
  });
  const refused = (hash: string): Outcome => ({ configHash: hash, failedHash: hash, reloadError: `alertmanager rejected the new config (HTTP 400): ${hash}` });

  it("remembers a render only for the server whose part of it is used, so trial renders do not push the other server's configs out", () => {
    const isolation = new RunTimeIsolation();
    const settings = defaultSettings();
    const valid = (r: RawMonitoredService) => {
      const v = validateMonitoredService(r);
      if (!v.ok) throw new Error('invalid fixture');
      return v.service;
    };
    const old = valid(raw(1, 'old@example.com'));
    // Prometheus keeps generation 1, Alertmanager gets generation 2: two renders, one per server.
    const plan = planReconcile({
      objects: [raw(2, 'new@example.com')],
      settings,
      validate: validateMonitoredService,
      formatIssue,
      render: isolation.recording(renderConfig),
      isolate: (services) => ({ prometheus: [old], alertmanager: services }),
      prometheus: {},
      alertmanager: {},
      targetsFor: () => undefined,
      now: '2025-01-01T00:00:00Z',
    });
    const forPrometheus = renderConfig([old], settings);
    const forAlertmanager = renderConfig([valid(raw(2, 'new@example.com'))], settings);
    expect(plan.rendered.prometheusHash).toBe(forPrometheus.prometheusHash);
    expect(plan.rendered.alertmanagerHash).toBe(forAlertmanager.alertmanagerHash);
    // Each server knows the config it was given (a refusal of it is acted on) ...
    expect(isolation.unhandledFailure('prometheus', { ...refused(forPrometheus.prometheusHash), reloadError: `prometheus rejected the new config (HTTP 400): x` })).toBe(true);
    expect(isolation.unhandledFailure('alertmanager', refused(forAlertmanager.alertmanagerHash))).toBe(true);
    // ... and not the other server's part of the same render, which is never written.
    expect(forPrometheus.alertmanagerHash).not.toBe(forAlertmanager.alertmanagerHash);
    expect(isolation.unhandledFailure('alertmanager', refused(forPrometheus.alertmanagerHash))).toBe(false);
    expect(isolation.unhandledFailure('prometheus', { ...refused(forAlertmanager.prometheusHash), reloadError: `prometheus rejected the new config (HTTP 400): x` })).toBe(false);
  });
});
