import { ANNOTATIONS } from '../contract.js';
import { shardedConfigHash } from '../assemble/sharded-config.js';
import { combineShardReports, readSyncReport } from './annotations.js';

const plain = (applied: string, at = 'T1') => ({ [ANNOTATIONS.appliedHash]: applied, [ANNOTATIONS.appliedAt]: at });
const reader = (applied: string, at = 'T2') => ({ [ANNOTATIONS.readerAppliedHash]: applied, [ANNOTATIONS.readerAppliedAt]: at });
const offered = (hash: string) => ({ [ANNOTATIONS.configHash]: hash, [ANNOTATIONS.partitionsOffered]: 'true' });

describe('readSyncReport', () => {
  it('reads the plain annotations of an object that does not offer partitions, ignoring reader ones', () => {
    expect(readSyncReport({ [ANNOTATIONS.configHash]: 'h1', ...plain('h0'), ...reader('h1') })).toEqual({ configHash: 'h1', appliedHash: 'h0', appliedAt: 'T1' });
    expect(readSyncReport(undefined)).toEqual({});
  });

  it('reads the reader annotations where partitions are offered and only a reader reports', () => {
    expect(readSyncReport({ ...offered('h1'), ...reader('h1') })).toEqual({ configHash: 'h1', appliedHash: 'h1', appliedAt: 'T2' });
  });

  it('with a reader and a sidecar without partitions: applied only when both run the config', () => {
    expect(readSyncReport({ ...offered('h2'), ...plain('h2'), ...reader('h2') }).appliedHash).toBe('h2');
    expect(readSyncReport({ ...offered('h2'), ...plain('h1'), ...reader('h2') })).toMatchObject({ appliedHash: 'h1', appliedAt: 'T1' });
    expect(readSyncReport({ ...offered('h2'), ...plain('h2'), ...reader('h1') })).toMatchObject({ appliedHash: 'h1', appliedAt: 'T2' });
    expect(readSyncReport({ ...offered('h3'), ...plain('h1'), ...reader('h2') }).appliedHash).not.toBe('h3');
  });

  it("a reader's failure before a plain one; a plain one while no reader failed", () => {
    const failedPlain = { [ANNOTATIONS.failedHash]: 'h2', [ANNOTATIONS.reloadError]: 'plain error' };
    const failedReader = { [ANNOTATIONS.readerFailedHash]: 'h3', [ANNOTATIONS.readerReloadError]: 'reader error' };
    expect(readSyncReport({ ...offered('h3'), ...failedPlain, ...failedReader })).toMatchObject({ failedHash: 'h3', reloadError: 'reader error' });
    expect(readSyncReport({ ...offered('h2'), ...failedPlain, ...reader('h1') })).toMatchObject({ failedHash: 'h2', reloadError: 'plain error', appliedHash: 'h1' });
  });
});

describe('combineShardReports', () => {
  const names = ['vigil-prometheus-config', 'vigil-prometheus-config-shard-1'];
  it('is the hash over every shard’s config-hash and applied-hash once each shard has one', () => {
    const combined = combineShardReports(
      [
        { configHash: 'a1', appliedHash: 'a1', appliedAt: '2026-01-01T00:00:05Z' },
        { configHash: 'b1', appliedHash: 'b0', appliedAt: '2026-01-01T00:00:09Z' },
      ],
      names,
    );
    expect(combined).toEqual({ configHash: shardedConfigHash(['a1', 'b1']), appliedHash: shardedConfigHash(['a1', 'b0']), appliedAt: '2026-01-01T00:00:09Z' });
    expect(combineShardReports([{ configHash: 'a1', appliedHash: 'a1' }, {}], names)).toEqual({});
  });

  it('names the first failing shard, with a failed-hash equal to the rendered hash when it refused its part of it', () => {
    const combined = combineShardReports(
      [
        { configHash: 'a1', appliedHash: 'a1' },
        { configHash: 'b1', appliedHash: 'b0', failedHash: 'b1', reloadError: 'bad rule' },
      ],
      names,
    );
    expect(combined.failedHash).toBe(shardedConfigHash(['a1', 'b1']));
    expect(combined.reloadError).toBe('shard 1 (vigil-prometheus-config-shard-1): bad rule');
  });
});
