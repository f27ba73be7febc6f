import type { MonitoredServiceStatus } from '../api/schema.js';
import { INSTALL_REMOVED_ANNOTATION } from '../contract.js';
import { installGone, leaseRecord, observeLease } from './install-liveness.js';
import { isMarkedRemoved, isStaleMark } from './leader.js';
import { INSTALL_REMOVED_REASON, installRemovedStatusPatch, showsInstallRemoved } from './uninstall.js';

const T0 = '2026-12-07T10:00:00Z';
const NOW = '2026-12-07T11:00:00Z';
const cond = (type: string, status: 'True' | 'False' | 'Unknown', reason: string) => ({ type, status, reason, message: `${type} ${reason}`, lastTransitionTime: T0, observedGeneration: 3 });

describe('installRemovedStatusPatch (what vigil uninstall leaves on a claimed MonitoredService)', () => {
  const green: MonitoredServiceStatus = {
    install: { namespace: 'monitoring', selector: 'team=a' },
    observedGeneration: 3,
    conditions: [
      cond('Valid', 'True', 'SpecValid'),
      cond('ConfigApplied', 'True', 'ConfigApplied'),
      cond('TargetsHealthy', 'True', 'TargetsHealthy'),
      cond('RulesHealthy', 'True', 'RulesHealthy'),
      cond('EmailDelivered', 'Unknown', 'NoNotificationsYet'),
      cond('Ready', 'True', 'Ready'),
    ],
    discoveredTargets: 2,
    healthyTargets: 2,
    appliedConfigHash: 'sha256:abc',
    lastValidGeneration: 3,
    lastValidSpec: '{}',
  };

  it('turns a green status into Ready/ConfigApplied False and the health conditions Unknown, each InstallRemoved naming the install; Valid stays', () => {
    const { status } = installRemovedStatusPatch(green, 'monitoring', NOW);
    const conditions = status.conditions as { type: string; status: string; reason: string; message: string; lastTransitionTime: string }[];
    expect(conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Valid', 'True', 'SpecValid'],
      ['ConfigApplied', 'False', INSTALL_REMOVED_REASON],
      ['TargetsHealthy', 'Unknown', INSTALL_REMOVED_REASON],
      ['RulesHealthy', 'Unknown', INSTALL_REMOVED_REASON],
      ['EmailDelivered', 'Unknown', INSTALL_REMOVED_REASON],
      ['Ready', 'False', INSTALL_REMOVED_REASON],
    ]);
    for (const c of conditions.filter((x) => x.reason === INSTALL_REMOVED_REASON)) {
      expect(c.message).toBe(
        'the Vigil install in namespace monitoring was removed (helm uninstall): nothing scrapes this service or emails its alerts until another install whose scope selects it takes it over (it then reports its own status)',
      );
    }
    // A status that changed moves its transition time; one that did not (EmailDelivered stayed Unknown) keeps it.
    expect(Object.fromEntries(conditions.map((c) => [c.type, c.lastTransitionTime]))).toEqual({
      Valid: T0,
      ConfigApplied: NOW,
      TargetsHealthy: NOW,
      RulesHealthy: NOW,
      EmailDelivered: T0,
      Ready: NOW,
    });
  });

  it("removes the claim and the removed servers' figures (merge patch nulls) and keeps the last valid spec for the next install", () => {
    const { status } = installRemovedStatusPatch(green, 'monitoring', NOW);
    expect({ ...status, conditions: undefined }).toEqual({ conditions: undefined, install: null, discoveredTargets: null, healthyTargets: null, appliedConfigHash: null });
  });

  it('writes every condition on an object that has none yet', () => {
    const { status } = installRemovedStatusPatch(undefined, 'vigil-system', NOW);
    expect((status.conditions as { type: string }[]).map((c) => c.type)).toEqual(['ConfigApplied', 'TargetsHealthy', 'RulesHealthy', 'EmailDelivered', 'Ready']);
  });

  it('showsInstallRemoved: only without a claim and with Ready InstallRemoved', () => {
    expect(showsInstallRemoved(green)).toBe(false);
    expect(showsInstallRemoved({ conditions: [cond('Ready', 'False', INSTALL_REMOVED_REASON)] })).toBe(true);
    expect(showsInstallRemoved({ install: { namespace: 'b' }, conditions: [cond('Ready', 'False', INSTALL_REMOVED_REASON)] })).toBe(false);
  });
});

describe('the removal mark on the Lease', () => {
  const marked = (owners: string[]) => ({
    metadata: {
      annotations: { [INSTALL_REMOVED_ANNOTATION]: NOW },
      resourceVersion: '7',
      ownerReferences: owners.map((uid) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: 'vigil-operator-settings', uid })),
    },
    spec: { holderIdentity: '' },
  });

  it('a marked Lease is removed; another install judges it gone at once, like a missing one', () => {
    expect(isMarkedRemoved(marked([]))).toBe(true);
    expect(isMarkedRemoved({ metadata: { annotations: {} } })).toBe(false);
    expect(leaseRecord(marked([]))).toBe('missing');
    expect(installGone(observeLease(undefined, leaseRecord(marked([])), 0), 0, 120_000)).toBe(true);
  });

  it("a mark is stale only when the Lease belongs to another owner than this install's settings ConfigMap (a reinstall before the garbage collector ran)", () => {
    const ours = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'vigil-operator-settings', uid: 'new-uid' }];
    expect(isStaleMark(marked(['old-uid']), ours)).toBe(true);
    expect(isStaleMark(marked(['new-uid']), ours)).toBe(false);
    // Without an owner on either side nothing tells a removed install from this one: the mark holds.
    expect(isStaleMark(marked(['old-uid']), undefined)).toBe(false);
    expect(isStaleMark(marked([]), ours)).toBe(false);
  });
});
