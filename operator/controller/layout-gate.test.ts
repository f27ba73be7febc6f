import { ANNOTATIONS } from '../contract.js';
import { chooseLayout, type LayoutObservation } from './layout-gate.js';

const QUIET = 30_000;
const NOW = 1_000_000;
const offered = { [ANNOTATIONS.configHash]: 'h1', [ANNOTATIONS.partitionsOffered]: 'true' };
const at = (annotations: Record<string, string> | undefined, lastCleared?: number): LayoutObservation => ({ annotations, now: NOW, lastCleared, quietMs: QUIET });

describe('chooseLayout (the layout handshake)', () => {
  it('writes one object until the main object offers partitions (no object yet, or written before the offer)', () => {
    expect(chooseLayout(at(undefined))).toMatchObject({ partitioned: false, clear: false });
    expect(chooseLayout(at({ [ANNOTATIONS.configHash]: 'h1', [ANNOTATIONS.readerAppliedHash]: 'h1' }))).toMatchObject({ partitioned: false, clear: false });
  });

  it('writes one object while no sidecar has reported as a partition reader', () => {
    expect(chooseLayout(at(offered))).toEqual({ partitioned: false, clear: false, reason: expect.stringContaining('no Prometheus sidecar') });
  });

  it('partitions at once when a reader reported and no plain report was ever removed (a fresh install, a restarted operator)', () => {
    expect(chooseLayout(at({ ...offered, [ANNOTATIONS.readerAppliedHash]: 'h1' }))).toMatchObject({ partitioned: true, clear: false });
    expect(chooseLayout(at({ ...offered, [ANNOTATIONS.readerFailedHash]: 'h1' }))).toMatchObject({ partitioned: true });
  });

  it('a plain report (a sidecar without --partitions) holds one object and is removed at most once per quiet period', () => {
    for (const key of [ANNOTATIONS.appliedHash, ANNOTATIONS.appliedAt, ANNOTATIONS.failedHash, ANNOTATIONS.reloadError]) {
      const annotations = { ...offered, [ANNOTATIONS.readerAppliedHash]: 'h1', [key]: 'x' };
      expect(chooseLayout(at(annotations))).toEqual({ partitioned: false, clear: true, recheckInMs: QUIET, reason: expect.stringContaining(key) });
      expect(chooseLayout(at(annotations, NOW - 1000))).toEqual({ partitioned: false, clear: false, recheckInMs: QUIET - 1000, reason: expect.stringContaining(key) });
      expect(chooseLayout(at(annotations, NOW - QUIET))).toMatchObject({ partitioned: false, clear: true, recheckInMs: QUIET });
    }
  });

  it("another replica's plain report holds one object too, and another replica's reader report counts as a reader", () => {
    const annotations = { ...offered, [`${ANNOTATIONS.readerAppliedHash}.replica-1`]: 'h1' };
    expect(chooseLayout(at(annotations))).toMatchObject({ partitioned: true });
    expect(chooseLayout(at({ ...annotations, [`${ANNOTATIONS.appliedHash}.replica-2`]: 'h1' }))).toMatchObject({
      partitioned: false,
      clear: true,
      reason: expect.stringContaining('vigil.dev/applied-hash.replica-2'),
    });
  });

  it('after a removal, partitions only once the plain reports stayed away for the quiet period', () => {
    const annotations = { ...offered, [ANNOTATIONS.readerAppliedHash]: 'h1' };
    expect(chooseLayout(at(annotations, NOW - QUIET + 1))).toEqual({ partitioned: false, clear: false, recheckInMs: 1, reason: expect.stringContaining('waiting') });
    expect(chooseLayout(at(annotations, NOW - QUIET))).toMatchObject({ partitioned: true });
  });

  it('goes back to one object when a plain report appears while partitioned (a sidecar without --partitions started again)', () => {
    const partitioned = { ...offered, [ANNOTATIONS.partitions]: '{"0":"p"}', [ANNOTATIONS.readerAppliedHash]: 'h1' };
    expect(chooseLayout(at(partitioned)).partitioned).toBe(true);
    expect(chooseLayout(at({ ...partitioned, [ANNOTATIONS.appliedHash]: 'h1' }))).toMatchObject({ partitioned: false, clear: true });
  });
});
