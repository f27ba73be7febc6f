import { describe, expect, it } from '@jest/globals';
import { ReloadCoalescer } from './coalesce.js';

const options = { minQuietMs: 500, maxQuietMs: 5000, maxDeferMs: 30_000 };

describe('ReloadCoalescer', () => {
  it('never holds back before a reload has taken any time (the first one), nor for reloads under minQuietMs', () => {
    const c = new ReloadCoalescer(options);
    c.observed('a', 0);
    c.observed('b', 100);
    expect(c.deferMs(100)).toBe(0);
    c.reloadStarted();
    c.reloadFinished(499);
    c.observed('c', 200);
    c.observed('d', 300);
    expect(c.deferMs(300)).toBe(0);
  });

  it('reloads a version that comes alone at once, however long reloads take', () => {
    const c = new ReloadCoalescer(options);
    c.observed('a', 0);
    c.reloadStarted();
    c.reloadFinished(4000);
    // The next version 60 s later: no burst.
    c.observed('b', 60_000);
    expect(c.deferMs(60_000)).toBe(0);
  });

  it('in a burst, waits until no newer version came for the last reload time', () => {
    const c = new ReloadCoalescer(options);
    c.observed('a', 0);
    c.reloadStarted();
    c.reloadFinished(4000);
    c.observed('b', 2000);
    c.observed('c', 4500); // 2.5 s after b: faster than a 4 s reload
    expect(c.deferMs(4500)).toBe(4000);
    expect(c.deferMs(7000)).toBe(1500);
    c.observed('d', 7000);
    expect(c.deferMs(7000)).toBe(4000);
    expect(c.deferMs(11_000)).toBe(0);
  });

  it('caps the quiet time at maxQuietMs', () => {
    const c = new ReloadCoalescer(options);
    c.observed('a', 0);
    c.reloadStarted();
    c.reloadFinished(60_000);
    c.observed('b', 61_000);
    c.observed('c', 62_000);
    expect(c.deferMs(62_000)).toBe(5000);
  });

  it('holds a steady stream back no longer than maxDeferMs after its first version not reloaded', () => {
    const c = new ReloadCoalescer(options);
    c.observed('v0', 0);
    c.reloadStarted();
    c.reloadFinished(5000);
    // A new version every 2 s from t=1 s: pending since 1 s.
    let t = 1000;
    for (; t <= 29_000; t += 2000) c.observed(`v${t}`, t);
    expect(c.deferMs(29_000)).toBe(2000); // 31 s − 29 s: capped by maxDeferMs
    expect(c.deferMs(31_000)).toBe(0);
    // The reload starts; what comes after it counts anew.
    c.reloadStarted();
    c.observed('next', 31_500);
    c.observed('next2', 32_000);
    expect(c.deferMs(32_000)).toBe(5000);
  });

  it('ignores the same version seen again (the echo of the sidecar’s own annotation patch)', () => {
    const c = new ReloadCoalescer(options);
    c.observed('a', 0);
    c.reloadStarted();
    c.reloadFinished(3000);
    c.observed('b', 10_000);
    c.observed('b', 10_500);
    c.observed(undefined, 10_600);
    expect(c.deferMs(10_600)).toBe(0);
  });
});
