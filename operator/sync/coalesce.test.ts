import { describe, expect, it } from '@jest/globals';
import { ReloadCoalescer } from './coalesce.js';

const options = { minQuietMs: 250, maxQuietMs: 10_000, maxDeferMs: 30_000 };

describe('ReloadCoalescer', () => {
  it('never holds back before a reload has taken any time (the first one), nor after reloads under 2 × minQuietMs', () => {
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
    // One more 5 s later: slower than a 4 s reload, no burst either.
    c.observed('c', 65_000);
    expect(c.deferMs(65_000)).toBe(0);
  });

  it('in a burst (versions faster than reloads), waits until no newer version came for half the last reload time', () => {
    const c = new ReloadCoalescer(options);
    c.observed('a', 0);
    c.reloadStarted();
    c.reloadFinished(8000);
    c.observed('b', 2000);
    c.observed('c', 5000); // 3 s after b: faster than an 8 s reload
    expect(c.deferMs(5000)).toBe(4000);
    expect(c.deferMs(7000)).toBe(2000);
    c.observed('d', 8000);
    expect(c.deferMs(8000)).toBe(4000);
    expect(c.deferMs(12_000)).toBe(0);
  });

  it('caps the quiet time at maxQuietMs', () => {
    const c = new ReloadCoalescer(options);
    c.observed('a', 0);
    c.reloadStarted();
    c.reloadFinished(60_000);
    c.observed('b', 61_000);
    c.observed('c', 70_000);
    expect(c.deferMs(70_000)).toBe(10_000);
  });

  it('holds a steady stream back no longer than maxDeferMs after its first version not reloaded', () => {
    const c = new ReloadCoalescer(options);
    c.observed('v0', 0);
    c.reloadStarted();
    c.reloadFinished(10_000);
    // A new version every 2 s from t=1 s: pending since 1 s.
    for (let t = 1000; t <= 29_000; t += 2000) c.observed(`v${t}`, t);
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
