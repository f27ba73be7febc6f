import { describe, expect, it } from '@jest/globals';
import type { MonitoredServiceStatus } from '../api/schema.js';
import { computeStatus, eventsForTransition, statusChanged, statusMergePatch, type ServiceObservation } from './conditions.js';

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
  it('a valid service waits (ApplyPending) until both sidecars report the desired hashes', () => {
    const s = computeStatus(obs({ prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a1' } }));
    expect(s.observedGeneration).toBe(1);
    expect(cond(s, 'Valid')).toMatchObject({ status: 'True', reason: 'SpecValid', observedGeneration: 1, lastTransitionTime: T0 });
    expect(cond(s, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'ApplyPending' });
    expect(cond(s, 'ConfigApplied')?.message).toBe('waiting for Alertmanager to load the config that includes generation 1');
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'ApplyPending' });
    expect(s.appliedConfigHash).toBeUndefined();
  });

  it('is ConfigApplied and Ready once both applied hashes match, with the Prometheus hash in status', () => {
    const s = computeStatus(obs({ prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a2' } }));
    expect(cond(s, 'ConfigApplied')).toMatchObject({ status: 'True', reason: 'ConfigApplied' });
    expect(cond(s, 'ConfigApplied')?.message).toContain('p2');
    expect(cond(s, 'ConfigApplied')?.message).toContain('a2');
    expect(cond(s, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(s.appliedConfigHash).toBe('p2');
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
    const s = computeStatus(
      obs({ prometheus: { appliedHash: 'p1', failedHash: 'p2', reloadError: 'rule file: parse error' }, alertmanager: { appliedHash: 'a2' } }),
    );
    expect(cond(s, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'ReloadFailed' });
    expect(cond(s, 'ConfigApplied')?.message).toBe('Prometheus could not load config p2: rule file: parse error (the last good config keeps running)');
  });

  it('ignores a reload error about an older hash (the new one is simply pending)', () => {
    const s = computeStatus(obs({ prometheus: { failedHash: 'p1', reloadError: 'old' }, alertmanager: { appliedHash: 'a2' } }));
    expect(cond(s, 'ConfigApplied')).toMatchObject({ reason: 'ApplyPending' });
  });

  it('stays applied while a newer config (another service changed) is pending, at the same generation', () => {
    const applied = computeStatus(obs({ prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a2' } }));
    const next = computeStatus(
      obs({ previous: applied, desired: { prometheusHash: 'p3', alertmanagerHash: 'a3' }, prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a2' }, now: T1 }),
    );
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

  it('keeps target counts from the previous status when Prometheus could not be polled', () => {
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
  const invalid = (generation: number, message: string, previous?: MonitoredServiceStatus) =>
    computeStatus(obs({ generation, previous, invalidMessage: message, included: false }));

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
