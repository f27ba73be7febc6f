import { describe, expect, it } from '@jest/globals';
import type { MonitoredService } from '../api/schema.js';
import { defaultSettings } from '../render/index.js';
import { validateMonitoredService } from '../validate/index.js';
import { ANNOTATIONS } from '../contract.js';
import { handoverAnnotations, handoverBoundMs, handoverEndsAt, movingNamespaces, nextHandover, readHandoverState, removedShardObjects, renderingShards } from './handover.js';
import { ShardAssignment, shardOfNamespace } from './shards.js';

const settings = { ...defaultSettings(), evaluationInterval: '15s' };

function service(namespace: string, spec: Record<string, unknown>): MonitoredService {
  const result = validateMonitoredService({
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace, name: 'api', generation: 1 },
    spec: { selector: { matchLabels: { app: 'api' } }, ...spec },
  });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.service;
}

describe('handoverBoundMs', () => {
  it('is the discovery grace plus ServiceDown’s for plus two evaluation intervals for a service without rules', () => {
    // 30 s scrapes: grace 2 x 30 s + 30 s = 90 s (render/rules.ts discoveryGraceMs); for 1m; 2 x 15 s.
    const s = service('a', { endpoints: [{ port: 'metrics', interval: '30s' }], downAlert: { enabled: true, for: '1m' } });
    expect(handoverBoundMs(s, settings)).toBe(90_000 + 60_000 + 30_000);
  });

  it('takes a rule’s longest range, one scrape interval and its for when that is longer', () => {
    const s = service('a', {
      endpoints: [{ port: 'metrics', interval: '30s' }],
      downAlert: { enabled: false },
      rules: [
        { name: 'Slow', expr: 'rate(http_requests_total[10m]) > 1', for: '5m' },
        { name: 'Fast', expr: 'up == 0' },
      ],
    });
    expect(handoverBoundMs(s, settings)).toBe(600_000 + 30_000 + 300_000 + 30_000);
  });
});

describe('renderingShards and movingNamespaces', () => {
  const namespaces = Array.from({ length: 60 }, (_, i) => `team-${i}`);

  it('renders a moving namespace on its new and its old shard, the others on one', () => {
    for (const ns of namespaces) {
      const to = shardOfNamespace(ns, 3);
      const from = shardOfNamespace(ns, 2);
      expect(renderingShards(ns, 3, 2)).toEqual(from === to ? [to] : [to, from]);
      expect(renderingShards(ns, 3, 3)).toEqual([to]);
    }
    // Shrinking: a namespace of a removed shard is rendered on its new shard only (the old one is going away).
    for (const ns of namespaces) expect(renderingShards(ns, 2, 3)).toEqual([shardOfNamespace(ns, 2)]);
  });

  it('lists the moving namespaces with the longest bound of their services', () => {
    const services = namespaces.flatMap((ns) => [
      service(ns, { endpoints: [{ port: 'metrics', interval: '30s' }] }),
      { ...service(ns, { endpoints: [{ port: 'metrics', interval: '30s' }], downAlert: { enabled: true, for: '10m' } }), metadata: { namespace: ns, name: 'slow', generation: 1 } } as MonitoredService,
    ]);
    const moving = movingNamespaces(services, settings, 3, 2);
    expect(moving.map((m) => m.namespace)).toEqual(namespaces.filter((ns) => shardOfNamespace(ns, 3) !== shardOfNamespace(ns, 2)).sort());
    expect(moving.length).toBeGreaterThan(0);
    for (const m of moving) {
      expect(m.to).toBe(2);
      expect(m.boundMs).toBe(90_000 + 600_000 + 30_000);
    }
  });
});

describe('handoverEndsAt', () => {
  const moving = [
    { namespace: 'a', to: 2, boundMs: 100_000 },
    { namespace: 'b', to: 1, boundMs: 300_000 },
  ];
  it('waits until every new shard applied its namespaces, then the longest bound after', () => {
    expect(handoverEndsAt(moving, (shard) => (shard === 2 ? 1_000_000 : undefined))).toBeUndefined();
    expect(handoverEndsAt(moving, (shard) => (shard === 2 ? 1_000_000 : 900_000))).toBe(1_200_000);
    expect(handoverEndsAt([], () => undefined)).toBe(0);
  });
});

describe('ShardAssignment with a settled count', () => {
  it('renders by renderingShards and reports the new shard', () => {
    const assignment = new ShardAssignment(3, 2);
    for (const ns of Array.from({ length: 30 }, (_, i) => `team-${i}`)) {
      expect(assignment.shardsOf(ns)).toEqual(renderingShards(ns, 3, 2));
      expect(assignment.shardOf(ns)).toBe(shardOfNamespace(ns, 3));
    }
    expect(() => new ShardAssignment(3, 0)).toThrow(RangeError);
  });
});

describe('readHandoverState and handoverAnnotations', () => {
  it('settles a new install at its count and an object without the annotation at one shard', () => {
    expect(readHandoverState(undefined, 3)).toEqual({ settled: 3 });
    expect(readHandoverState({}, 3)).toEqual({ settled: 1 });
    expect(readHandoverState({ [ANNOTATIONS.shardsSettled]: '0' }, 3)).toEqual({ settled: 1 });
    expect(readHandoverState({ [ANNOTATIONS.shardsSettled]: '65' }, 3)).toEqual({ settled: 1 });
  });

  it('reads back what it writes, and drops an unreadable handover record', () => {
    const state = { settled: 2, handover: { to: 3, appliedAt: { 2: Date.parse('2026-12-07T21:00:00Z') } } };
    const annotations = handoverAnnotations(state);
    expect(annotations).toEqual({ [ANNOTATIONS.shardsSettled]: '2', [ANNOTATIONS.shardsHandover]: '{"to":3,"appliedAt":{"2":"2026-12-07T21:00:00.000Z"}}' });
    expect(readHandoverState(annotations as Record<string, string>, 3)).toEqual(state);
    expect(handoverAnnotations({ settled: 3 })).toEqual({ [ANNOTATIONS.shardsSettled]: '3', [ANNOTATIONS.shardsHandover]: null });
    for (const bad of ['{', '{"to":"x"}', '[]', 'null']) expect(readHandoverState({ [ANNOTATIONS.shardsSettled]: '2', [ANNOTATIONS.shardsHandover]: bad }, 3)).toEqual({ settled: 2 });
    // A time that does not parse, or of a shard beyond the count, is not a record.
    expect(readHandoverState({ [ANNOTATIONS.shardsSettled]: '2', [ANNOTATIONS.shardsHandover]: '{"to":3,"appliedAt":{"1":"soon","7":"2026-12-07T21:00:00Z"}}' }, 3)).toEqual({
      settled: 2,
      handover: { to: 3, appliedAt: {} },
    });
  });
});

describe('nextHandover', () => {
  const moving = [
    { namespace: 'a', to: 2, boundMs: 100_000 },
    { namespace: 'b', to: 2, boundMs: 300_000 },
  ];
  const t0 = 1_000_000;

  it('records the first apply of each new shard, ends once the longest bound has passed since, and then settles', () => {
    const waiting = nextHandover({ settled: 2 }, 3, moving, () => undefined, t0);
    expect(waiting).toEqual({ state: { settled: 2, handover: { to: 3, appliedAt: {} } }, ended: false });
    const applied = nextHandover(waiting.state, 3, moving, () => t0 + 5_000, t0 + 6_000);
    expect(applied).toEqual({ state: { settled: 2, handover: { to: 3, appliedAt: { 2: t0 + 5_000 } } }, ended: false, endsAt: t0 + 305_000 });
    // A later apply (another change) does not move the recorded time.
    expect(nextHandover(applied.state, 3, moving, () => t0 + 200_000, t0 + 304_999)).toEqual({ ...applied, state: applied.state });
    expect(nextHandover(applied.state, 3, moving, () => undefined, t0 + 305_000)).toEqual({ state: { settled: 3 }, ended: true });
    expect(nextHandover({ settled: 3 }, 3, [], () => undefined, t0)).toEqual({ state: { settled: 3 }, ended: false });
  });

  it('ends at once when nothing moves, and starts again when the count changes during a handover', () => {
    expect(nextHandover({ settled: 2 }, 3, [], () => undefined, t0)).toEqual({ state: { settled: 3 }, ended: true });
    const toFour = nextHandover({ settled: 2, handover: { to: 3, appliedAt: { 2: t0 } } }, 4, [{ namespace: 'a', to: 3, boundMs: 1000 }], () => undefined, t0 + 10_000);
    expect(toFour).toEqual({ state: { settled: 2, handover: { to: 4, appliedAt: {} } }, ended: false });
  });
});

describe('removedShardObjects', () => {
  it('lists the main objects of shards at or beyond the count and their partitions, partitions first, and nothing else', () => {
    const main = 'vigil-prometheus-config';
    const objects = [
      { name: main },
      { name: `${main}-abc`, partitionOf: main },
      { name: `${main}-shard-1` },
      { name: `${main}-shard-1-def`, partitionOf: `${main}-shard-1` },
      { name: `${main}-shard-2` },
      { name: `${main}-shard-2-123`, partitionOf: `${main}-shard-2` },
      { name: `${main}-shard-10` },
      { name: `${main}-shard-02` },
      { name: `${main}-shard-3-x` },
      { name: 'vigil-prometheus-scrape-credentials' },
    ];
    expect(removedShardObjects(objects, main, 2)).toEqual([`${main}-shard-2-123`, `${main}-shard-10`, `${main}-shard-2`]);
    expect(removedShardObjects(objects, main, 11)).toEqual([]);
    expect(removedShardObjects(objects, main, 1)).toEqual([`${main}-shard-1-def`, `${main}-shard-2-123`, `${main}-shard-1`, `${main}-shard-10`, `${main}-shard-2`]);
  });
});
