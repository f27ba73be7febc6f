import { installGone, leaseRecord, observeLease } from './install-liveness.js';

describe('installGone (is the install holding a claim still there?)', () => {
  const lease = (holder: string, renew: string, rv: string) => ({ spec: { holderIdentity: holder, renewTime: renew as unknown as Date }, metadata: { resourceVersion: rv } });
  const ORPHAN_AFTER = 120_000;

  it('a missing Lease (uninstalled, namespace deleted) means gone at once', () => {
    expect(installGone(observeLease(undefined, leaseRecord(undefined), 1000), 1000, ORPHAN_AFTER)).toBe(true);
  });

  it('a Lease renewed within the bound means alive; unchanged for the bound (on our clock) means gone', () => {
    let seen = observeLease(undefined, leaseRecord(lease('a-0', 't1', '10')), 0);
    expect(installGone(seen, ORPHAN_AFTER - 1, ORPHAN_AFTER)).toBe(false);
    // Renewed: the clock starts again from when we saw the change.
    seen = observeLease(seen, leaseRecord(lease('a-0', 't2', '11')), 100_000);
    expect(installGone(seen, 100_000 + ORPHAN_AFTER - 1, ORPHAN_AFTER)).toBe(false);
    // The same record read again does not reset it.
    seen = observeLease(seen, leaseRecord(lease('a-0', 't2', '11')), 200_000);
    expect(seen.since).toBe(100_000);
    expect(installGone(seen, 100_000 + ORPHAN_AFTER, ORPHAN_AFTER)).toBe(true);
  });

  it('a released Lease (clean shutdown, a rolling update) is alive until it stays released for the bound', () => {
    const released = observeLease(undefined, leaseRecord(lease('', 't3', '12')), 0);
    expect(installGone(released, 60_000, ORPHAN_AFTER)).toBe(false);
    expect(installGone(released, ORPHAN_AFTER, ORPHAN_AFTER)).toBe(true);
    // Taken by the new replica: alive again.
    const taken = observeLease(released, leaseRecord(lease('a-1', 't4', '13')), ORPHAN_AFTER + 1);
    expect(installGone(taken, ORPHAN_AFTER + 2, ORPHAN_AFTER)).toBe(false);
  });

  it('a Lease never read is not gone: claims are only taken over on evidence', () => {
    expect(installGone(undefined, 10 ** 12, ORPHAN_AFTER)).toBe(false);
  });

  it('a Lease deleted and created again counts as changed', () => {
    const missing = observeLease(undefined, 'missing', 0);
    const back = observeLease(missing, leaseRecord(lease('b-0', 't5', '20')), 5000);
    expect(back.since).toBe(5000);
    expect(installGone(back, 6000, ORPHAN_AFTER)).toBe(false);
  });
});
