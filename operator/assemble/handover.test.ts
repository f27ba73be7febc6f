import { describe, expect, it } from '@jest/globals';
import type { MonitoredService } from '../api/schema.js';
import { defaultSettings } from '../render/index.js';
import { validateMonitoredService } from '../validate/index.js';
import { handoverBoundMs, handoverEndsAt, movingNamespaces, renderingShards } from './handover.js';
import { shardOfNamespace } from './shards.js';

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
