import { describe, expect, it } from '@jest/globals';
import { MAX_SHARDS, ShardAssignment, shardOfNamespace } from './shards.js';

const namespaces = Array.from({ length: 3000 }, (_, i) => `team-${i}`);

describe('shardOfNamespace', () => {
  it('puts everything on shard 0 with one shard', () => {
    expect(new Set(namespaces.map((ns) => shardOfNamespace(ns, 1)))).toEqual(new Set([0]));
  });

  it('is stable: the same namespace and count give the same shard, in any order of asking', () => {
    const forward = namespaces.map((ns) => shardOfNamespace(ns, 5));
    const backward = [...namespaces].reverse().map((ns) => shardOfNamespace(ns, 5));
    expect(backward.reverse()).toEqual(forward);
    // Pinned, computed outside the code with `printf 'payments\0%s' 0 | sha256sum` etc. (highest of the first 16
    // hex digits wins): a change of the hash would move namespaces on every install at upgrade.
    expect(['default', 'payments', 'team-a'].map((ns) => shardOfNamespace(ns, 3))).toEqual([1, 1, 2]);
  });

  it('spreads namespaces evenly over the shards', () => {
    for (const shards of [2, 3, 7]) {
      const counts = new Array<number>(shards).fill(0);
      for (const ns of namespaces) counts[shardOfNamespace(ns, shards)]!++;
      const expected = namespaces.length / shards;
      for (const count of counts) {
        expect(count).toBeGreaterThan(expected * 0.85);
        expect(count).toBeLessThan(expected * 1.15);
      }
    }
  });

  it('moves only about 1/(N+1) of the namespaces from N to N+1 shards, each to the new shard', () => {
    for (const shards of [1, 2, 3, 6]) {
      const moved = namespaces.filter((ns) => shardOfNamespace(ns, shards) !== shardOfNamespace(ns, shards + 1));
      for (const ns of moved) expect(shardOfNamespace(ns, shards + 1)).toBe(shards);
      const share = moved.length / namespaces.length;
      expect(share).toBeGreaterThan((1 / (shards + 1)) * 0.85);
      expect(share).toBeLessThan((1 / (shards + 1)) * 1.15);
    }
  });

  it('moves only the removed shard’s namespaces from N+1 to N shards', () => {
    const moved = namespaces.filter((ns) => shardOfNamespace(ns, 4) !== shardOfNamespace(ns, 3));
    for (const ns of moved) expect(shardOfNamespace(ns, 4)).toBe(3);
  });

  it('refuses a count that is not an integer from 1 to MAX_SHARDS', () => {
    for (const bad of [0, -1, 1.5, MAX_SHARDS + 1, Number.NaN]) expect(() => shardOfNamespace('a', bad)).toThrow(`shards must be an integer from 1 to ${MAX_SHARDS}`);
    expect(() => new ShardAssignment(0)).toThrow(RangeError);
  });
});

describe('ShardAssignment', () => {
  it('gives what shardOfNamespace gives', () => {
    const assignment = new ShardAssignment(3);
    for (const ns of namespaces.slice(0, 200)) expect(assignment.shardOf(ns)).toBe(shardOfNamespace(ns, 3));
    for (const ns of namespaces.slice(0, 200)) expect(assignment.shardOf(ns)).toBe(shardOfNamespace(ns, 3));
  });
});
