import { describe, expect, it } from '@jest/globals';
import { mergeDeliveries, nextDeliveries, parseEmailCounters, peerOf, sameDeliveries, type EmailCounterSample } from './email-delivery.js';

// Lines as Alertmanager 0.35.0 with --enable-feature=receiver-name-in-metrics prints them after a
// failed send (seen with ./bin/alertmanager and a smarthost on a closed port).
const METRICS = `# TYPE alertmanager_notification_requests_failed_total counter
alertmanager_notification_requests_failed_total{integration="email",receiver_name="r1"} 11
alertmanager_notification_requests_failed_total{integration="webhook",receiver_name="vigil-watchdog"} 0
alertmanager_notification_requests_total{integration="email",receiver_name="r1"} 12
alertmanager_notification_requests_total{integration="email",receiver_name="vigil-default"} 0
alertmanager_notifications_failed_total{integration="email",reason="other",receiver_name="r1"} 1
alertmanager_notifications_failed_total{integration="email",reason="authError",receiver_name="r1"} 0
alertmanager_config_last_reload_success_timestamp_seconds 1.7651e+09
`;

function sample(byReceiver: Record<string, [number, number, Record<string, number>?]>, reloadedAt = 1): EmailCounterSample {
  return { byReceiver: new Map(Object.entries(byReceiver).map(([r, [requests, failed, gaveUp]]) => [r, { requests, failed, gaveUp: gaveUp ?? {} }])), reloadedAt, receiverNames: true };
}

describe('parseEmailCounters', () => {
  it('sums the email counters per receiver_name, with the give-ups by reason, and skips other integrations', () => {
    const s = parseEmailCounters(METRICS);
    expect(s.receiverNames).toBe(true);
    expect(s.reloadedAt).toBe(1.7651e9);
    expect([...s.byReceiver.keys()].sort()).toEqual(['r1', 'vigil-default']);
    expect(s.byReceiver.get('r1')).toEqual({ requests: 12, failed: 11, gaveUp: { other: 1, authError: 0 } });
  });

  it('says when Alertmanager exports no receiver names (feature flag off)', () => {
    const s = parseEmailCounters('alertmanager_notification_requests_total{integration="email"} 3\n');
    expect(s.receiverNames).toBe(false);
    expect(s.byReceiver.size).toBe(0);
    // With the flag, a config without integrations (the bootstrap one) exports no series: names are not missing.
    expect(parseEmailCounters('alertmanager_config_hash 1\n').receiverNames).toBe(true);
  });
});

describe('nextDeliveries', () => {
  const T0 = '2026-12-07T12:00:00Z';
  const T1 = '2026-12-07T12:00:10Z';
  const T2 = '2026-12-07T12:00:20Z';

  it('at the first poll only all-failed or all-succeeded counters decide', () => {
    const states = nextDeliveries(undefined, sample({ a: [3, 3], b: [2, 0], c: [5, 2], d: [0, 0] }), T0);
    expect(states.get('a')).toEqual({ state: 'failing', since: T0, failedAttempts: 3 });
    expect(states.get('b')).toEqual({ state: 'delivered', since: T0 });
    expect(states.has('c')).toBe(false);
    expect(states.has('d')).toBe(false);
  });

  it('new attempts that all fail make a delivering receiver failing; a success makes it delivered again; no attempt keeps the state', () => {
    const s0 = sample({ a: [1, 0] });
    const p0 = { sample: s0, states: nextDeliveries(undefined, s0, T0) };
    const s1 = sample({ a: [4, 3, { other: 1 }] });
    const st1 = nextDeliveries(p0, s1, T1);
    expect(st1.get('a')).toEqual({ state: 'failing', since: T1, failedAttempts: 3, reason: 'other' });
    const s2 = sample({ a: [6, 5, { other: 1 }] });
    const st2 = nextDeliveries({ sample: s1, states: st1 }, s2, T2);
    expect(st2.get('a')).toEqual({ state: 'failing', since: T1, failedAttempts: 5, reason: 'other' });
    expect(sameDeliveries(st1, st2)).toBe(true);
    const st3 = nextDeliveries({ sample: s2, states: st2 }, s2, T2);
    expect(st3.get('a')?.state).toBe('failing');
    // Failures, then the retry that got through, within one interval.
    const s4 = sample({ a: [9, 7, { other: 1 }] });
    const st4 = nextDeliveries({ sample: s2, states: st3 }, s4, T2);
    expect(st4.get('a')).toEqual({ state: 'delivered', since: T2 });
    expect(sameDeliveries(st3, st4)).toBe(false);
  });

  it('a reload resets the counters: the current values are the interval', () => {
    const s0 = sample({ a: [10, 0] }, 1);
    const p0 = { sample: s0, states: nextDeliveries(undefined, s0, T0) };
    // Fewer attempts than before, all failed, after a reload.
    const st1 = nextDeliveries(p0, sample({ a: [2, 2] }, 2), T1);
    expect(st1.get('a')).toEqual({ state: 'failing', since: T1, failedAttempts: 2 });
    // A counter going down without a reload time (a restart): also a reset.
    const st2 = nextDeliveries({ sample: sample({ a: [5, 5] }, 2), states: st1 }, sample({ a: [1, 0] }, 2), T2);
    expect(st2.get('a')).toEqual({ state: 'delivered', since: T2 });
  });
});

describe('replicas', () => {
  it('names the replica that answered by its peer name, none when clustering is off', () => {
    expect(peerOf('alertmanager_cluster_enabled 1\nalertmanager_cluster_peer_info{peer="01KB2Z"} 1\n')).toBe('01KB2Z');
    expect(peerOf(METRICS)).toBe('');
  });

  it('takes, per receiver, the state of the replica whose state began last', () => {
    const a = new Map([['r', { state: 'failing' as const, since: '2026-12-07T12:00:00Z' }]]);
    const b = new Map([
      ['r', { state: 'delivered' as const, since: '2026-12-07T12:01:00Z' }],
      ['s', { state: 'delivered' as const, since: '2026-12-07T11:00:00Z' }],
    ]);
    const merged = mergeDeliveries([a, b]);
    expect(merged.get('r')?.state).toBe('delivered');
    expect(merged.get('s')?.state).toBe('delivered');
    expect(mergeDeliveries([b, new Map([['r', { state: 'failing' as const, since: '2026-12-07T12:02:00Z' }]])]).get('r')?.state).toBe('failing');
  });
});
