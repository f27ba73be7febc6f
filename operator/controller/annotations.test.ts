import { ANNOTATIONS } from '../contract.js';
import { shardedConfigHash } from '../assemble/sharded-config.js';
import { combineReplicaReports, combineShardReports, readReplicaReports, readSyncReport, staleReplicaReportKeys } from './annotations.js';

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

describe('reports per replica', () => {
  const r1 = (key: string) => `${key}.replica-1`;
  const both = {
    [ANNOTATIONS.configHash]: 'h2',
    ...plain('h2', '2026-01-01T00:00:05Z'),
    'vigil.dev/reporter-pod': 'vigil-alertmanager-0',
    [r1(ANNOTATIONS.appliedHash)]: 'h1',
    [r1(ANNOTATIONS.appliedAt)]: '2026-01-01T00:00:01Z',
    [r1(ANNOTATIONS.failedHash)]: 'h2',
    [r1(ANNOTATIONS.reloadError)]: 'alertmanager rejected the new config (HTTP 400): bad receiver',
    'vigil.dev/reporter-pod.replica-1': 'vigil-alertmanager-1',
  };

  it("reads each replica's own keys; replica 0's are the plain ones (a sidecar from before per-replica reports is replica 0)", () => {
    expect(readSyncReport(both, 0)).toEqual({ configHash: 'h2', appliedHash: 'h2', appliedAt: '2026-01-01T00:00:05Z', pod: 'vigil-alertmanager-0' });
    expect(readSyncReport(both, 1)).toMatchObject({ configHash: 'h2', appliedHash: 'h1', failedHash: 'h2', pod: 'vigil-alertmanager-1' });
    expect(readSyncReport(both, 2)).toEqual({ configHash: 'h2' });
  });

  it('is applied only when every replica runs config-hash, else names the first replica that does not and what it reports', () => {
    expect(readReplicaReports(both, 2)).toEqual({
      configHash: 'h2',
      appliedHash: 'h1',
      appliedAt: '2026-01-01T00:00:01Z',
      behind: 'replica 1 (pod vigil-alertmanager-1) runs config h1',
      failedHash: 'h2',
      reloadError: 'alertmanager rejected the new config (HTTP 400): bad receiver',
      failedBy: 'replica 1 (pod vigil-alertmanager-1)',
    });
    // One replica expected: replica 1's report does not count (the last-writer-wins gap without the count).
    expect(readReplicaReports(both, 1)).toMatchObject({ appliedHash: 'h2' });
    expect(readReplicaReports(both, 1)).not.toHaveProperty('failedHash');
    // Three expected, two reported: not applied, replica 2 named.
    const applied: Record<string, string> = { ...both, [r1(ANNOTATIONS.appliedHash)]: 'h2' };
    delete applied[r1(ANNOTATIONS.failedHash)];
    delete applied[r1(ANNOTATIONS.reloadError)];
    expect(readReplicaReports(applied, 2)).toEqual({ configHash: 'h2', appliedHash: 'h2', appliedAt: '2026-01-01T00:00:05Z' });
    expect(readReplicaReports(applied, 3)).toEqual({ configHash: 'h2', behind: 'replica 2 has not reported yet' });
  });

  it('a failure is the first replica whose failed-hash is not what it runs', () => {
    expect(
      combineReplicaReports([
        { configHash: 'h2', appliedHash: 'h2' },
        { configHash: 'h2', appliedHash: 'h2', failedHash: 'h2', reloadError: 'late echo' },
      ]),
    ).toEqual({ configHash: 'h2', appliedHash: 'h2' });
    expect(
      combineReplicaReports([
        { configHash: 'h2', appliedHash: 'h1', failedHash: 'h2', reloadError: 'e0' },
        { configHash: 'h2', appliedHash: 'h1', failedHash: 'h2', reloadError: 'e1' },
      ]),
    ).toMatchObject({
      appliedHash: 'h1',
      failedBy: 'replica 0',
      reloadError: 'e0',
      behind: 'replica 0 runs config h1',
    });
  });

  it("per shard, per replica: a shard's lagging replica is named with its shard", () => {
    const shard0 = readReplicaReports({ [ANNOTATIONS.configHash]: 'a1', ...plain('a1'), [r1(ANNOTATIONS.appliedHash)]: 'a1' }, 2);
    const shard1 = readReplicaReports({ [ANNOTATIONS.configHash]: 'b1', ...plain('b1') }, 2);
    const combined = combineShardReports([shard0, shard1], ['vigil-prometheus-config', 'vigil-prometheus-config-shard-1']);
    expect(combined).toMatchObject({ configHash: shardedConfigHash(['a1', 'b1']), behind: 'shard 1 replica 1 has not reported yet' });
    expect(combined).not.toHaveProperty('appliedHash');
  });

  it('the reports of replicas at or beyond the count are stale, whatever kind; other annotations are not', () => {
    const annotations = { ...both, [`${ANNOTATIONS.readerAppliedHash}.replica-3`]: 'x', 'vigil.dev/applied-hash.replica-x': 'y', 'vigil.dev/partitions.replica-1': 'z' };
    expect(staleReplicaReportKeys(annotations, 2)).toEqual(['vigil.dev/reader-applied-hash.replica-3']);
    expect(staleReplicaReportKeys(annotations, 1)).toEqual([
      'vigil.dev/applied-at.replica-1',
      'vigil.dev/applied-hash.replica-1',
      'vigil.dev/failed-hash.replica-1',
      'vigil.dev/reader-applied-hash.replica-3',
      'vigil.dev/reload-error.replica-1',
      'vigil.dev/reporter-pod.replica-1',
    ]);
    expect(staleReplicaReportKeys(undefined, 1)).toEqual([]);
  });
});
