import { describe, expect, it } from '@jest/globals';
import type { MonitoredServiceStatus } from '../api/schema.js';
import { computeStatus, UNROUTED_NOTE, eventsForTransition, statusChanged, statusMergePatch, type ServiceObservation } from './conditions.js';

const T0 = '2025-01-01T00:00:00Z';
const T1 = '2025-01-01T00:01:00Z';
const desired = { prometheusHash: 'p2', alertmanagerHash: 'a2' };

function obs(over: Partial<ServiceObservation> = {}): ServiceObservation {
  return {
    generation: 1,
    previous: undefined,
    included: true,
    desired,
    prometheus: { configHash: 'p2' },
    alertmanager: { configHash: 'a2' },
    now: T0,
    ...over,
  };
}

const cond = (s: MonitoredServiceStatus, type: string) => s.conditions?.find((c) => c.type === type);

describe('computeStatus', () => {
  it('Ready stays True but says so when the alerts reach no one (no recipients, no default recipients)', () => {
    const applied = { prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a2' }, targets: { discovered: 1, healthy: 1 } };
    expect(cond(computeStatus(obs({ ...applied, unrouted: true })), 'Ready')).toMatchObject({
      status: 'True',
      reason: 'Ready',
      message: `valid, running in Prometheus and Alertmanager, 1 of 1 targets healthy; ${UNROUTED_NOTE}`,
    });
    expect(cond(computeStatus(obs(applied)), 'Ready')?.message).not.toContain('nobody');
  });

  it('a valid service waits (ApplyPending) until both sidecars report the desired hashes', () => {
    const s = computeStatus(obs({ prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a1' } }));
    expect(s.observedGeneration).toBe(1);
    expect(cond(s, 'Valid')).toMatchObject({ status: 'True', reason: 'SpecValid', observedGeneration: 1, lastTransitionTime: T0 });
    expect(cond(s, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'ApplyPending' });
    expect(cond(s, 'ConfigApplied')?.message).toBe('waiting for Alertmanager to load the config that includes generation 1');
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'ApplyPending' });
    expect(s.appliedConfigHash).toBeUndefined();
  });

  it('is ConfigApplied once both applied hashes match, and Ready only with a healthy target', () => {
    const applied = { prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a2' } };
    const s = computeStatus(obs({ ...applied, targets: { discovered: 2, healthy: 1 } }));
    expect(cond(s, 'ConfigApplied')).toMatchObject({ status: 'True', reason: 'ConfigApplied' });
    expect(cond(s, 'ConfigApplied')?.message).toContain('p2');
    expect(cond(s, 'ConfigApplied')?.message).toContain('a2');
    expect(cond(s, 'TargetsHealthy')).toMatchObject({ status: 'True', reason: 'TargetsHealthy', message: '1 of 2 targets healthy' });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready', message: 'valid, running in Prometheus and Alertmanager, 1 of 2 targets healthy' });
    expect(s.appliedConfigHash).toBe('p2');
  });

  it('Ready=False with 0 healthy targets, and with 0 discovered (issue #15: never True with nothing scraped)', () => {
    const applied = { prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a2' } };
    const down = computeStatus(obs({ ...applied, targets: { discovered: 3, healthy: 0 } }));
    expect(cond(down, 'TargetsHealthy')).toMatchObject({ status: 'False', reason: 'NoHealthyTargets', message: '0 of 3 targets healthy: every scrape fails' });
    expect(cond(down, 'Ready')).toMatchObject({ status: 'False', reason: 'NoHealthyTargets' });
    const none = computeStatus(obs({ ...applied, targets: { discovered: 0, healthy: 0 } }));
    expect(cond(none, 'TargetsHealthy')).toMatchObject({ status: 'False', reason: 'NoTargets' });
    expect(cond(none, 'Ready')).toMatchObject({ status: 'False', reason: 'NoTargets' });
    expect(none).toMatchObject({ discoveredTargets: 0, healthyTargets: 0 });
  });

  it('Prometheus unreachable: TargetsHealthy and Ready Unknown with reason PrometheusUnreachable, counts removed, not frozen', () => {
    const applied = { prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a2' } };
    const before = computeStatus(obs({ ...applied, targets: { discovered: 1, healthy: 1 } }));
    const dead = computeStatus(obs({ ...applied, previous: before, now: T1, targetsUnavailable: { reason: 'PrometheusUnreachable', message: 'Prometheus at http://p does not answer' } }));
    expect(cond(dead, 'TargetsHealthy')).toMatchObject({ status: 'Unknown', reason: 'PrometheusUnreachable', lastTransitionTime: T1 });
    expect(cond(dead, 'Ready')).toMatchObject({ status: 'Unknown', reason: 'PrometheusUnreachable', message: 'Prometheus at http://p does not answer' });
    expect(dead.discoveredTargets).toBeUndefined();
    expect(dead.healthyTargets).toBeUndefined();
    expect(statusMergePatch(before, dead).status).toMatchObject({ discoveredTargets: null, healthyTargets: null });
  });

  it('a selector or port that finds nothing makes Ready=False with that reason, before ApplyPending', () => {
    const problem = { reason: 'PortNotFound', message: 'spec.endpoints[0].port: no selected Service has a port named "http-metrics"; the ports that exist are: checkout (metrics)' };
    const s = computeStatus(obs({ targets: { discovered: 0, healthy: 0 }, selection: { problems: [problem] } }));
    expect(cond(s, 'TargetsHealthy')).toMatchObject({ status: 'False', ...problem });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', ...problem });
    expect(eventsForTransition(undefined, s)).toContainEqual({ type: 'Warning', ...problem });
    expect(eventsForTransition(s, computeStatus(obs({ previous: s, now: T1, targets: { discovered: 0, healthy: 0 }, selection: { problems: [problem] } })))).toEqual([]);
  });

  it('Services over the same pods: named in TargetsHealthy, one Warning OverlappingServices Event per change', () => {
    const applied = { prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a2' } };
    const duplicates = 'overlapping Services: a, a-headless select the same pods (identical spec.selector): each pod is scraped once, through a';
    const s = computeStatus(obs({ ...applied, targets: { discovered: 3, healthy: 3 }, selection: { problems: [], duplicates } }));
    expect(cond(s, 'TargetsHealthy')).toMatchObject({ status: 'True', message: `3 of 3 targets healthy; ${duplicates}` });
    expect(cond(s, 'Ready')?.status).toBe('True');
    expect(eventsForTransition(undefined, s)).toContainEqual({ type: 'Warning', reason: 'OverlappingServices', message: duplicates });
    const later = computeStatus(obs({ ...applied, previous: s, targets: { discovered: 2, healthy: 2 }, selection: { problems: [], duplicates } }));
    expect(eventsForTransition(s, later).filter((e) => e.reason === 'OverlappingServices')).toEqual([]);
  });

  it('without a Prometheus URL, target health is Unknown (TargetsUnknown) and so is Ready', () => {
    const applied = { prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a2' } };
    const s = computeStatus(obs({ ...applied, targetsUnavailable: { reason: 'TargetsUnknown', message: 'no --prometheus-url' } }));
    expect(cond(s, 'Ready')).toMatchObject({ status: 'Unknown', reason: 'TargetsUnknown' });
  });

  it('an invalid service is Valid=False with the issues, not included, and loses appliedConfigHash and target counts', () => {
    const previous: MonitoredServiceStatus = { appliedConfigHash: 'p1', discoveredTargets: 2, healthyTargets: 2 };
    const s = computeStatus(obs({ previous, invalidMessage: 'shop/x: spec.rules[0].expr: bad PromQL', included: false, targets: { discovered: 2, healthy: 1 } }));
    expect(cond(s, 'Valid')).toMatchObject({ status: 'False', reason: 'InvalidSpec', message: 'shop/x: spec.rules[0].expr: bad PromQL' });
    expect(cond(s, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'NotIncluded' });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec', message: 'shop/x: spec.rules[0].expr: bad PromQL' });
    expect(s.appliedConfigHash).toBeUndefined();
    expect(s.discoveredTargets).toBeUndefined();
    expect(statusMergePatch(previous, s).status).toMatchObject({ appliedConfigHash: null, discoveredTargets: null, healthyTargets: null });
  });

  it('reports a reload failure of the desired hash as ReloadFailed with the sidecar message', () => {
    const s = computeStatus(obs({ prometheus: { appliedHash: 'p1', failedHash: 'p2', reloadError: 'rule file: parse error' }, alertmanager: { appliedHash: 'a2' } }));
    expect(cond(s, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'ReloadFailed' });
    expect(cond(s, 'ConfigApplied')?.message).toBe('Prometheus could not load config p2: rule file: parse error (the last good config keeps running)');
  });

  it('ignores a reload error about an older hash (the new one is simply pending)', () => {
    const s = computeStatus(obs({ prometheus: { failedHash: 'p1', reloadError: 'old' }, alertmanager: { appliedHash: 'a2' } }));
    expect(cond(s, 'ConfigApplied')).toMatchObject({ reason: 'ApplyPending' });
  });

  it('stays applied while a newer config (another service changed) is pending, at the same generation', () => {
    const applied = computeStatus(obs({ prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a2' } }));
    const next = computeStatus(obs({ previous: applied, desired: { prometheusHash: 'p3', alertmanagerHash: 'a3' }, prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a2' }, now: T1 }));
    expect(cond(next, 'ConfigApplied')).toEqual(cond(applied, 'ConfigApplied'));
    expect(next.appliedConfigHash).toBe('p2');
    expect(statusChanged(applied, next)).toBe(false);
  });

  it('goes back to pending when its own spec changed (new generation)', () => {
    const applied = computeStatus(obs({ prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a2' } }));
    const next = computeStatus(
      obs({ previous: applied, generation: 2, desired: { prometheusHash: 'p3', alertmanagerHash: 'a3' }, prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a2' }, now: T1 }),
    );
    expect(cond(next, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'ApplyPending', lastTransitionTime: T1, observedGeneration: 2 });
    // Valid did not change status: its transition time is kept.
    expect(cond(next, 'Valid')).toMatchObject({ status: 'True', lastTransitionTime: T0, observedGeneration: 2 });
  });

  it('keeps target counts from the previous status until the first poll (operator restart)', () => {
    const s = computeStatus(obs({ previous: { discoveredTargets: 3, healthyTargets: 1 } }));
    expect(s).toMatchObject({ discoveredTargets: 3, healthyTargets: 1 });
    const t = computeStatus(obs({ previous: { discoveredTargets: 3, healthyTargets: 1 }, targets: { discovered: 2, healthy: 2 } }));
    expect(t).toMatchObject({ discoveredTargets: 2, healthyTargets: 2 });
  });
});

describe('statusChanged', () => {
  it('is false for the same status recomputed later (transition times kept) and true for a new count', () => {
    const a = computeStatus(obs());
    const b = computeStatus(obs({ previous: a, now: T1 }));
    expect(statusChanged(a, b)).toBe(false);
    const c = computeStatus(obs({ previous: a, now: T1, targets: { discovered: 1, healthy: 0 } }));
    expect(statusChanged(a, c)).toBe(true);
  });

  it('ignores condition order and conditions owned by others', () => {
    const a = computeStatus(obs());
    const reordered: MonitoredServiceStatus = { ...a, conditions: [...(a.conditions ?? [])].reverse() };
    expect(statusChanged(a, reordered)).toBe(false);
    expect(statusChanged(undefined, a)).toBe(true);
  });
});

describe('eventsForTransition', () => {
  const invalid = (generation: number, message: string, previous?: MonitoredServiceStatus) => computeStatus(obs({ generation, previous, invalidMessage: message, included: false }));

  it('emits InvalidSpec once per generation and message', () => {
    const first = invalid(1, 'bad');
    expect(eventsForTransition(undefined, first)).toEqual([{ type: 'Warning', reason: 'InvalidSpec', message: 'bad' }]);
    expect(eventsForTransition(first, invalid(1, 'bad', first))).toEqual([]);
    expect(eventsForTransition(first, invalid(2, 'bad', first))).toHaveLength(1);
  });

  it('emits ConfigApplied once per generation and ReloadFailed once per error', () => {
    const pending = computeStatus(obs());
    const applied = computeStatus(obs({ previous: pending, prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a2' } }));
    expect(eventsForTransition(pending, applied)).toEqual([expect.objectContaining({ type: 'Normal', reason: 'ConfigApplied' })]);
    expect(eventsForTransition(applied, applied)).toEqual([]);
    const failed = computeStatus(obs({ previous: pending, prometheus: { failedHash: 'p2', reloadError: 'boom' }, alertmanager: { appliedHash: 'a2' } }));
    expect(eventsForTransition(pending, failed)).toEqual([expect.objectContaining({ type: 'Warning', reason: 'ReloadFailed' })]);
    expect(eventsForTransition(failed, failed)).toEqual([]);
  });
});
