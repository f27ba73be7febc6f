import { describe, expect, it } from '@jest/globals';
import type { MonitoredServiceStatus } from '../api/schema.js';
import { computeStatus, describeScrapeFailures, NO_ALERTS_NOTE, UNROUTED_NOTE, eventsForTransition, statusChanged, statusMergePatch, type ServiceObservation } from './conditions.js';
import { DEFAULT_SCRAPE_LIMIT_SETTINGS } from '../render/scrape-limits.js';

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
  describe('EmailDelivered', () => {
    const applied = { prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a2' }, targets: { discovered: 1, healthy: 1 } };
    const receiver = 'vigil-shop-checkout';

    it('False NoRecipients, and Ready False with it, when the alerts reach no one (no recipients, no default recipients)', () => {
      const s = computeStatus(obs({ ...applied, unrouted: true, email: { receiver: 'vigil-default' } }));
      expect(cond(s, 'EmailDelivered')).toMatchObject({ status: 'False', reason: 'NoRecipients' });
      expect(cond(s, 'EmailDelivered')?.message).toContain(UNROUTED_NOTE);
      expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'NoRecipients' });
    });

    it('Unknown NoNotificationsYet before any attempt: Ready stays True', () => {
      const s = computeStatus(obs({ ...applied, email: { receiver } }));
      expect(cond(s, 'EmailDelivered')).toMatchObject({ status: 'Unknown', reason: 'NoNotificationsYet' });
      expect(cond(s, 'EmailDelivered')?.message).toContain(receiver);
      expect(cond(s, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
      expect(cond(s, 'Ready')?.message).not.toContain('nobody');
    });

    it('False NotificationsFailing names the receiver, the time, the reason and where the error is; Ready False; a Warning once, a Normal Event on recovery', () => {
      const failing = computeStatus(obs({ ...applied, email: { receiver, delivery: { state: 'failing', since: '2026-12-07T12:00:00Z', failedAttempts: 3, reason: 'other' } } }));
      const c = cond(failing, 'EmailDelivered')!;
      expect(c).toMatchObject({ status: 'False', reason: 'NotificationsFailing' });
      expect(c.message).toContain(`receiver ${receiver} failed since 2026-12-07T12:00:00Z`);
      expect(c.message).toContain('(reason other)');
      expect(c.message).toContain(`msg="Notify attempt failed" receiver=${receiver}`);
      expect(cond(failing, 'Ready')).toMatchObject({ status: 'False', reason: 'NotificationsFailing', message: c.message });
      expect(eventsForTransition(undefined, failing)).toContainEqual({ type: 'Warning', reason: 'NotificationsFailing', message: c.message });
      // More failed attempts: the same condition, no new Event.
      const still = computeStatus(
        obs({ ...applied, previous: failing, now: T1, email: { receiver, delivery: { state: 'failing', since: '2026-12-07T12:00:00Z', failedAttempts: 9, reason: 'other' } } }),
      );
      expect(statusChanged(failing, still)).toBe(false);
      expect(eventsForTransition(failing, still).filter((e) => e.reason === 'NotificationsFailing')).toEqual([]);
      const back = computeStatus(obs({ ...applied, previous: failing, now: T1, email: { receiver, delivery: { state: 'delivered', since: '2026-12-07T12:02:00Z' } } }));
      expect(cond(back, 'EmailDelivered')).toMatchObject({ status: 'True', reason: 'EmailDelivered', lastTransitionTime: T1 });
      expect(cond(back, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
      expect(eventsForTransition(failing, back)).toContainEqual(expect.objectContaining({ type: 'Normal', reason: 'EmailDelivered' }));
    });

    it('keeps what it stored for this generation while no attempt was seen since a restart; Unknown with the reason when Alertmanager is not known', () => {
      const failing = computeStatus(obs({ ...applied, email: { receiver, delivery: { state: 'failing', since: '2026-12-07T12:00:00Z' } } }));
      const restarted = computeStatus(obs({ ...applied, previous: failing, now: T1, email: { receiver } }));
      expect(cond(restarted, 'EmailDelivered')).toEqual(cond(failing, 'EmailDelivered'));
      const unreachable = computeStatus(obs({ ...applied, previous: failing, now: T1, email: { receiver, unknown: { reason: 'AlertmanagerUnreachable', message: 'down' } } }));
      expect(cond(unreachable, 'EmailDelivered')).toMatchObject({ status: 'Unknown', reason: 'AlertmanagerUnreachable', message: 'down' });
      // A new generation (e.g. new recipients) starts over.
      expect(cond(computeStatus(obs({ ...applied, generation: 2, previous: failing, email: { receiver } })), 'EmailDelivered')).toMatchObject({ reason: 'NoNotificationsYet' });
    });

    it('a service without alerts is Ready whatever its email does (nothing would page anyway)', () => {
      const s = computeStatus(obs({ ...applied, noAlerts: true, unrouted: true, email: { receiver: 'vigil-default' } }));
      expect(cond(s, 'EmailDelivered')).toMatchObject({ status: 'False', reason: 'NoRecipients' });
      expect(cond(s, 'Ready')).toMatchObject({ status: 'True', message: `valid, running in Prometheus and Alertmanager, 1 of 1 targets healthy; ${NO_ALERTS_NOTE}` });
    });
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

  it('with replicas: names the replica that is behind or failed, and is True only once every replica runs the config', () => {
    const behind = computeStatus(obs({ prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a1', behind: 'replica 1 (pod vigil-alertmanager-1) runs config a1' } }));
    expect(cond(behind, 'ConfigApplied')).toMatchObject({
      status: 'False',
      reason: 'ApplyPending',
      message: 'waiting for Alertmanager to load the config that includes generation 1 (Alertmanager replica 1 (pod vigil-alertmanager-1) runs config a1)',
    });
    const failed = computeStatus(
      obs({
        prometheus: {
          appliedHash: 'p1',
          failedHash: 'p2',
          reloadError: 'connection refused',
          failedBy: 'replica 1 (pod vigil-prometheus-1)',
          behind: 'replica 1 (pod vigil-prometheus-1) runs config p1',
        },
        alertmanager: { appliedHash: 'a2' },
      }),
    );
    expect(cond(failed, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'ReloadFailed' });
    expect(cond(failed, 'ConfigApplied')?.message).toBe('Prometheus replica 1 (pod vigil-prometheus-1) could not load config p2: connection refused (the last good config keeps running)');
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
    expect(cond(none, 'TargetsHealthy')?.message).toContain('endpoints');
    // A Warning Event (and so a log line) on entering NoTargets, like a scrape error; not again while it lasts.
    expect(eventsForTransition(undefined, none)).toContainEqual({ type: 'Warning', reason: 'NoTargets', message: cond(none, 'TargetsHealthy')!.message });
    const still = computeStatus(obs({ ...applied, previous: none, now: T1, targets: { discovered: 0, healthy: 0 } }));
    expect(eventsForTransition(none, still).filter((e) => e.reason === 'NoTargets')).toEqual([]);
    expect(eventsForTransition(down, none)).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'NoTargets' }));
  });

  it('0 discovered because Prometheus runs none of its jobs (left out, credentials missing): TargetsHealthy blames ConfigApplied, not the endpoints', () => {
    const applied = { prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a2' } };
    for (const [extra, reason] of [
      [{ leftOut: 'left out so that the others fit' }, 'ConfigTooLarge'],
      [{ credentialsMissing: 'Secret ns/creds not found' }, 'CredentialsNotFound'],
      [{ included: false }, 'NotIncluded'],
    ] as const) {
      const s = computeStatus(obs({ ...applied, ...extra, targets: { discovered: 0, healthy: 0 } }));
      expect(cond(s, 'ConfigApplied')).toMatchObject({ status: 'False', reason });
      expect(cond(s, 'TargetsHealthy')).toMatchObject({
        status: 'False',
        reason: 'NoTargets',
        message: `Prometheus does not run this service's scrape jobs because of ${reason} (see ConfigApplied)`,
      });
      // ConfigApplied's own Event says why (CredentialsNotFound, ConfigTooLarge): no NoTargets Event besides.
      expect(eventsForTransition(undefined, s).filter((e) => e.reason === 'NoTargets')).toEqual([]);
    }
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

describe('scrape errors and rule health (issue #21)', () => {
  const applied = { prometheus: { appliedHash: 'p2' }, alertmanager: { appliedHash: 'a2' } };
  const notFound = { reason: 'HTTPErrorStatus', error: 'server returned HTTP status 404 Not Found', targets: 2, instance: '10.0.0.2:8080' };
  const timeout = { reason: 'ScrapeTimeout', error: 'Get "http://10.0.0.3:8080/metrics": context deadline exceeded', targets: 1, instance: '10.0.0.3:8080' };

  it('every target failing: the reason is the class of the most common error, the message quotes Prometheus', () => {
    const s = computeStatus(obs({ ...applied, targets: { discovered: 3, healthy: 0, failures: [notFound, timeout] } }));
    const message =
      '0 of 3 targets healthy: every scrape fails; Prometheus\'s scrape errors: "server returned HTTP status 404 Not Found" (2 targets, e.g. 10.0.0.2:8080); ' +
      '"Get \\"http://10.0.0.3:8080/metrics\\": context deadline exceeded" (target 10.0.0.3:8080)';
    expect(cond(s, 'TargetsHealthy')).toEqual(expect.objectContaining({ status: 'False', reason: 'HTTPErrorStatus', message }));
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'HTTPErrorStatus', message });
    expect(eventsForTransition(undefined, s)).toContainEqual({ type: 'Warning', reason: 'HTTPErrorStatus', message });
  });

  it('an HTTP status error names the scrape URL, which says the path', () => {
    const s = computeStatus(obs({ ...applied, targets: { discovered: 1, healthy: 0, failures: [{ ...notFound, targets: 1, scrapeUrl: 'http://10.0.0.2:8080/metrcs' }] } }));
    expect(cond(s, 'TargetsHealthy')?.message).toBe(
      '0 of 1 targets healthy: every scrape fails; Prometheus\'s scrape error: "server returned HTTP status 404 Not Found" (target 10.0.0.2:8080, scrape URL http://10.0.0.2:8080/metrcs)',
    );
  });

  it('some targets failing: True, with the errors of the failing ones', () => {
    const s = computeStatus(obs({ ...applied, targets: { discovered: 2, healthy: 1, failures: [{ ...timeout }] } }));
    expect(cond(s, 'TargetsHealthy')).toMatchObject({
      status: 'True',
      message: '1 of 2 targets healthy; Prometheus\'s scrape error: "Get \\"http://10.0.0.3:8080/metrics\\": context deadline exceeded" (target 10.0.0.3:8080)',
    });
    expect(cond(s, 'Ready')?.status).toBe('True');
  });

  it('shows three errors and counts the rest', () => {
    const f = (n: number) => ({ reason: 'NoHealthyTargets', error: `e${n}`, targets: 1, instance: `i${n}` });
    expect(describeScrapeFailures([f(1), f(2), f(3), f(4)], 6)).toBe('Prometheus\'s scrape errors: "e1" (target i1); "e2" (target i2); "e3" (target i3); 3 more failing targets');
  });

  it('names the spec.limits field and its value for a scrape a limit failed', () => {
    const failure = { reason: 'LimitExceeded', error: 'sample limit exceeded', targets: 1, instance: '10.0.0.3:8080' };
    const limits = { ...DEFAULT_SCRAPE_LIMIT_SETTINGS.defaults, sampleLimit: 200 };
    expect(describeScrapeFailures([failure], 1, limits)).toBe(
      'Prometheus\'s scrape error: "sample limit exceeded" (target 10.0.0.3:8080): scrape over spec.limits.sampleLimit 200: Prometheus fails the whole scrape (up 0, sample_limit); reduce what the target exposes, or raise spec.limits.sampleLimit (up to the cluster ceiling)',
    );
    // Other errors are quoted as they are.
    expect(describeScrapeFailures([{ ...failure, reason: 'HTTPErrorStatus', error: 'server returned HTTP status 404 Not Found' }], 1, limits)).toBe(
      'Prometheus\'s scrape error: "server returned HTTP status 404 Not Found" (target 10.0.0.3:8080)',
    );
  });

  it('a target not scraped yet is not failing: TargetsHealthy and Ready Unknown (NotScrapedYet), never False', () => {
    const s = computeStatus(obs({ ...applied, targets: { discovered: 1, healthy: 0, notScraped: 1 } }));
    expect(cond(s, 'TargetsHealthy')).toMatchObject({
      status: 'Unknown',
      reason: 'NotScrapedYet',
      message: '1 target discovered, not scraped yet: Prometheus scrapes a new target within one scrape interval',
    });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NotScrapedYet' });
    expect(eventsForTransition(undefined, s).filter((e) => e.type === 'Warning')).toEqual([]);
    // One healthy target is enough, whatever the new ones do.
    const t = computeStatus(obs({ ...applied, targets: { discovered: 3, healthy: 1, notScraped: 2 } }));
    expect(cond(t, 'Ready')?.status).toBe('True');
    // Failing and not-yet-scraped together: every scraped one fails.
    const u = computeStatus(obs({ ...applied, targets: { discovered: 2, healthy: 0, notScraped: 1, failures: [{ ...timeout }] } }));
    expect(cond(u, 'TargetsHealthy')).toMatchObject({ status: 'False', reason: 'ScrapeTimeout' });
    expect(cond(u, 'TargetsHealthy')?.message).toMatch(/^0 of 2 targets healthy \(1 not scraped yet\): every scrape fails; /);
  });

  it('a Warning Event on entering a scrape-error reason and when it changes, not for new counts', () => {
    const a = computeStatus(obs({ ...applied, targets: { discovered: 1, healthy: 0, failures: [{ ...timeout }] } }));
    const b = computeStatus(obs({ ...applied, previous: a, now: T1, targets: { discovered: 2, healthy: 0, failures: [{ ...timeout, targets: 2 }] } }));
    expect(eventsForTransition(a, b)).toEqual([]);
    const c = computeStatus(obs({ ...applied, previous: b, now: T1, targets: { discovered: 2, healthy: 0, failures: [notFound] } }));
    expect(eventsForTransition(b, c)).toEqual([expect.objectContaining({ type: 'Warning', reason: 'HTTPErrorStatus' })]);
  });

  it('after an operator restart, before its first poll, the stored TargetsHealthy and RulesHealthy stand (no reason flip, no Event)', () => {
    const before = computeStatus(obs({ ...applied, targets: { discovered: 3, healthy: 0, failures: [notFound] }, rules: { rules: 2, evaluated: 2, failures: [{ rule: 'X', error: 'e' }] } }));
    const restarted = computeStatus(obs({ ...applied, previous: before, now: T1 }));
    expect(cond(restarted, 'TargetsHealthy')).toEqual(cond(before, 'TargetsHealthy'));
    expect(cond(restarted, 'RulesHealthy')).toEqual(cond(before, 'RulesHealthy'));
    expect(cond(restarted, 'Ready')).toEqual(cond(before, 'Ready'));
    expect(statusChanged(before, restarted)).toBe(false);
    expect(eventsForTransition(before, restarted)).toEqual([]);
    // A new generation is not what the stored conditions were about: recomputed from the counts.
    const edited = computeStatus(obs({ ...applied, previous: before, generation: 2, now: T1 }));
    expect(cond(edited, 'TargetsHealthy')).toMatchObject({ status: 'False', reason: 'NoHealthyTargets' });
    expect(cond(edited, 'RulesHealthy')).toMatchObject({ status: 'Unknown', reason: 'TargetsUnknown' });
  });

  const manyToMany =
    'found duplicate series for the match group {} on the right hand-side of the operation: [{...}, {...}];many-to-many matching not allowed: matching labels must be unique on one side';

  it('a rule failing to evaluate: RulesHealthy False naming it with its error, Ready False, one Event per set of failing rules', () => {
    const healthy = { discovered: 2, healthy: 2 };
    const s = computeStatus(obs({ ...applied, targets: healthy, rules: { rules: 4, evaluated: 4, failures: [{ rule: 'ErrorRatio', error: manyToMany }] } }));
    const message = `Prometheus fails to evaluate (the rule cannot fire): rule ErrorRatio: ${manyToMany}`;
    expect(cond(s, 'RulesHealthy')).toMatchObject({ status: 'False', reason: 'RuleEvaluationFailed', message });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'RuleEvaluationFailed', message });
    expect(eventsForTransition(undefined, s)).toContainEqual({ type: 'Warning', reason: 'RuleEvaluationFailed', message });
    const again = computeStatus(obs({ ...applied, previous: s, now: T1, targets: healthy, rules: { rules: 4, evaluated: 4, failures: [{ rule: 'ErrorRatio', error: 'other text' }] } }));
    expect(eventsForTransition(s, again)).toEqual([]);
    const more = computeStatus(
      obs({
        ...applied,
        previous: again,
        now: T1,
        targets: healthy,
        rules: {
          rules: 6,
          evaluated: 6,
          failures: [
            { rule: 'ErrorRatio', error: 'x' },
            { rule: 'B', error: 'y' },
            { rule: 'C', error: 'z' },
            { rule: 'D', error: 'w' },
          ],
          moreFailures: 1,
        },
      }),
    );
    expect(cond(more, 'RulesHealthy')?.message).toBe('Prometheus fails to evaluate (the rule cannot fire): rule ErrorRatio: x; rule B: y; rule C: z; and 2 more failing rules');
    expect(eventsForTransition(again, more)).toEqual([expect.objectContaining({ reason: 'RuleEvaluationFailed' })]);
    const fixed = computeStatus(obs({ ...applied, previous: more, now: T1, targets: healthy, rules: { rules: 4, evaluated: 4 } }));
    expect(cond(fixed, 'RulesHealthy')).toMatchObject({ status: 'True', reason: 'RulesHealthy', message: 'Prometheus evaluates the 4 rules of this service without error', lastTransitionTime: T1 });
    expect(cond(fixed, 'Ready')?.status).toBe('True');
  });

  it('rule health not known, not loaded or not evaluated yet: RulesHealthy Unknown, Ready unaffected', () => {
    const healthy = { discovered: 1, healthy: 1 };
    const cases: [ServiceObservation['rules'], string][] = [
      [undefined, 'TargetsUnknown'],
      [{ loaded: false }, 'RulesNotLoaded'],
      [{ rules: 3, evaluated: 0 }, 'RulesNotEvaluatedYet'],
    ];
    for (const [rules, reason] of cases) {
      const s = computeStatus(obs({ ...applied, targets: healthy, ...(rules ? { rules } : {}) }));
      expect(cond(s, 'RulesHealthy')).toMatchObject({ status: 'Unknown', reason });
      expect(cond(s, 'Ready')?.status).toBe('True');
    }
    const dead = computeStatus(obs({ ...applied, targetsUnavailable: { reason: 'PrometheusUnreachable', message: 'Prometheus at http://p does not answer: target health unknown' } }));
    expect(cond(dead, 'RulesHealthy')).toMatchObject({ status: 'Unknown', reason: 'PrometheusUnreachable', message: 'Prometheus at http://p does not answer: rule health unknown' });
    const invalid = computeStatus(obs({ invalidMessage: 'bad', included: false, rules: { rules: 1, evaluated: 1, failures: [{ rule: 'X', error: 'e' }] } }));
    expect(cond(invalid, 'RulesHealthy')).toMatchObject({ status: 'Unknown', reason: 'NotEvaluated' });
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
