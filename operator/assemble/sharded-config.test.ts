// Shards wrap the partitioned config: each shard's config is exactly the partitioned config of its
// namespaces' services, every service is on the shard of its namespace, and the whole's hash follows
// from the shard hashes alone.
import { parse } from 'yaml';
import { describe, expect, it } from '@jest/globals';
import { demoSettings, loadCatalogue } from '../../test/fixtures/catalogue/index.js';
import type { MonitoredService } from '../api/schema.js';
import { renderServicePieces } from '../render/index.js';
import { assemblePartitionedPrometheus, includedRefs } from './partitioned-config.js';
import { assembleShardedPrometheus, shardedConfigHash } from './sharded-config.js';
import { encodePartitions } from './size-fit.js';
import { encodeFileSet } from './config-bundle.js';
import { renderingShards, ShardAssignment, shardOfNamespace } from './shards.js';

/** The catalogue's services whose rules name no namespace, in `namespaces` namespaces (team-0 ...). */
function servicesIn(namespaces: number): MonitoredService[] {
  // Renamed after their namespace: two catalogue namespaces have services of the same name.
  const movable = loadCatalogue().filter((s) => !JSON.stringify(s.spec).includes('namespace='));
  return Array.from({ length: namespaces }, (_, i) => movable.map((s) => ({ ...s, metadata: { ...s.metadata, namespace: `team-${i}`, name: `${s.metadata.namespace}-${s.metadata.name}` } }))).flat();
}

const settings = demoSettings;
const pieces = servicesIn(9).map((s) => renderServicePieces(s, settings));

describe('assembleShardedPrometheus', () => {
  it('gives each shard the partitioned config of its namespaces’ services, and every service one shard', () => {
    const config = assembleShardedPrometheus(pieces, settings, new ShardAssignment(3), undefined, 20_000);
    expect(config.shards).toHaveLength(3);
    for (const [shard, own] of config.shards!.entries()) {
      const members = pieces.filter((p) => shardOfNamespace(p.ref.namespace, 3) === shard);
      expect(members.length).toBeGreaterThan(0);
      expect(own).toEqual(assemblePartitionedPrometheus(members, settings, undefined, 20_000, shard));
      for (const ref of includedRefs(own)) expect(shardOfNamespace(ref.namespace, 3)).toBe(shard);
    }
    expect(includedRefs(config)).toHaveLength(pieces.length);
    expect(config.partitions.map((p) => p.id)).toEqual(config.shards!.flatMap((s) => s.partitions.map((p) => p.id)).sort());
    expect(new Set(config.partitions.map((p) => p.id)).size).toBe(config.partitions.length);
    expect(config.main).toEqual(config.shards![0]!.main);
    expect(config.hash).toBe(shardedConfigHash(config.shards!.map((s) => s.hash)));
    expect(config.hash).toBe(config.digest.slice(0, 16));
  });

  it('does not depend on the order of the services or on the previous result', () => {
    const assignment = new ShardAssignment(2);
    const first = assembleShardedPrometheus(pieces, settings, assignment);
    const reversed = assembleShardedPrometheus([...pieces].reverse(), settings, assignment, first);
    expect(reversed).toEqual(first);
    // A previous result of another shard count is not reused, and changes nothing either.
    expect(assembleShardedPrometheus(pieces, settings, assignment, assembleShardedPrometheus(pieces, settings, new ShardAssignment(3)))).toEqual(first);
  });

  it('changes only the hash of the shard whose service changed', () => {
    const assignment = new ShardAssignment(3);
    const before = assembleShardedPrometheus(pieces, settings, assignment);
    const changed = servicesIn(9).find((s) => s.metadata.namespace === 'team-4')!;
    const edited = renderServicePieces({ ...changed, spec: { ...changed.spec, rules: [] } }, settings);
    const after = assembleShardedPrometheus(
      pieces.map((p) => (p.ref.namespace === changed.metadata.namespace && p.ref.name === changed.metadata.name ? edited : p)),
      settings,
      assignment,
      before,
    );
    const shard = shardOfNamespace('team-4', 3);
    expect(after.hash).not.toBe(before.hash);
    for (let i = 0; i < 3; i++) {
      if (i === shard) expect(after.shards![i]!.hash).not.toBe(before.shards![i]!.hash);
      else expect(after.shards![i]).toEqual(before.shards![i]);
    }
  });

  it("labels each shard's Watchdog with its shard, so that each is its own heartbeat", () => {
    const config = assembleShardedPrometheus(pieces, settings, new ShardAssignment(3));
    for (const [shard, own] of config.shards!.entries()) {
      const rule = (parse(own.main['vigil-watchdog.rules.yaml']!) as { groups: { rules: { alert: string; labels: Record<string, string> }[] }[] }).groups[0]!.rules[0]!;
      expect(rule.alert).toBe('Watchdog');
      expect(rule.labels).toEqual({ severity: 'none', vigil_watchdog: 'true', vigil_shard: String(shard) });
    }
    // One Prometheus: no shard label, the file as before.
    const single = assemblePartitionedPrometheus(pieces, settings, undefined, 20_000);
    expect(single.main['vigil-watchdog.rules.yaml']).not.toContain('vigil_shard');
  });

  it('gives an empty shard a main object naming no scrape file', () => {
    const config = assembleShardedPrometheus(
      pieces.filter((p) => p.ref.namespace === 'team-0'),
      settings,
      new ShardAssignment(2),
    );
    const empty = config.shards!.find((s) => s.partitions.length === 0)!;
    expect(empty.main['prometheus.yml']).not.toContain('scrape_config_files');
  });

  it('during a handover gives a moving namespace to its new and its old shard, and encodes each shard’s partitions by digest', () => {
    const config = assembleShardedPrometheus(pieces, settings, new ShardAssignment(3, 2), undefined, 20_000);
    const moving = [...new Set(pieces.map((p) => p.ref.namespace))].filter((ns) => shardOfNamespace(ns, 3) !== shardOfNamespace(ns, 2));
    expect(moving.length).toBeGreaterThan(0);
    for (const [shard, own] of config.shards!.entries()) {
      const members = pieces.filter((p) => renderingShards(p.ref.namespace, 3, 2).includes(shard));
      expect(own).toEqual(assemblePartitionedPrometheus(members, settings, undefined, 20_000, shard));
    }
    for (const ns of moving) {
      const holding = config.shards!.map((own, shard) => (includedRefs(own).some((r) => r.namespace === ns) ? shard : -1)).filter((shard) => shard >= 0);
      expect(holding.sort()).toEqual([2, shardOfNamespace(ns, 2)].sort());
    }
    // Every shard's partition is found by its digest among the encodings, with its own files.
    const encoded = encodePartitions(config, (files) => encodeFileSet(files));
    expect(encoded.problem).toBeUndefined();
    for (const own of config.shards!) for (const p of own.partitions) expect(encoded.partitions.get(p.digest)).toEqual(encodeFileSet(p.files));
  });
});
