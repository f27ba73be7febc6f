import { describe, expect, it } from '@jest/globals';
import type { MonitoredService } from '../api/schema.js';
import type { RawMonitoredService } from '../api/raw.js';
import { compareRefs } from '../render/names.js';
import { ReconcileMemo } from './plan-memo.js';

const svc = (namespace: string, name: string): MonitoredService => ({ metadata: { namespace, name } }) as MonitoredService;

describe('ReconcileMemo', () => {
  it('sortedByRef gives the order a sort gives, for any sequence of inputs, reusing the last permutation only for the same keys', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const memo = new ReconcileMemo();
    let services = Array.from({ length: 60 }, (_, i) => svc(`ns-${i % 5}`, `s-${(i * 37) % 60}`));
    let sorts = 0;
    for (let step = 0; step < 200; step++) {
      const kind = Math.floor(random() * 4);
      const i = Math.floor(random() * services.length);
      services = services.slice();
      // A new generation (a new object, same ref), a move, an add, or nothing.
      if (kind === 0) services[i] = svc(services[i]!.metadata.namespace, services[i]!.metadata.name);
      if (kind === 1) services.splice(Math.floor(random() * services.length), 0, ...services.splice(i, 1));
      if (kind === 2) services.push(svc(`ns-${Math.floor(random() * 7)}`, `new-${step}`));
      const expected = services.slice().sort((a, b) => compareRefs(a.metadata, b.metadata));
      const got = memo.sortedByRef(services);
      // The same objects, in the same order (not only equal refs).
      expect([step, got.length, got.every((s, k) => s === expected[k])]).toEqual([step, expected.length, true]);
      if (kind === 0 || kind === 3) expect([step, memo.sorts]).toEqual([step, sorts]);
      sorts = memo.sorts;
    }
  });

  it('an object keeps its identity facts; another object, even with the same ref, gets its own', () => {
    const memo = new ReconcileMemo();
    const a: RawMonitoredService = { metadata: { namespace: 'team', name: 'api', generation: 1 } };
    const b: RawMonitoredService = { metadata: { namespace: 'team', name: 'api', generation: 2 } };
    expect(memo.identityOf(a)).toEqual({ ref: { namespace: 'team', name: 'api' }, key: 'team/api' });
    expect(memo.identityOf(a)).toBe(memo.identityOf(a));
    expect(memo.identityOf(b)).not.toBe(memo.identityOf(a));
    const included = [
      { namespace: 'team', name: 'api' },
      { namespace: 'x', name: 'y' },
    ];
    expect([...memo.includedKeys(included)]).toEqual(['team/api', 'x/y']);
    expect(memo.includedKeys(included)).toBe(memo.includedKeys(included));
    expect([...memo.includedKeys([...included, { namespace: 'z', name: 'w' }])]).toEqual(['team/api', 'x/y', 'z/w']);
  });

  it('receiverOf is the route receiver of the service', () => {
    const memo = new ReconcileMemo();
    const s = { ...svc('team', 'api'), spec: { notify: { email: { to: ['a@example.com'], sendResolved: true } } } } as unknown as MonitoredService;
    expect(memo.receiverOf(s)).toBe('vigil-to:a@example.com');
    expect(memo.receiverOf({ ...svc('team', 'y'), spec: {} } as unknown as MonitoredService)).toBe('vigil-default');
  });
});
