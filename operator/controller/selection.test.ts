import { describe, expect, it } from '@jest/globals';
import type { MonitoredService } from '../api/schema.js';
import { collidingLabelKeys, describeDuplicates, diagnoseSelection, matchesSelector, serviceInfo, type ServiceInfo } from './selection.js';

function ms(selector: MonitoredService['spec']['selector'], ports: string[]): Pick<MonitoredService, 'metadata' | 'spec'> {
  return {
    metadata: { namespace: 'shop', name: 'checkout' },
    spec: {
      selector,
      endpoints: ports.map((port) => ({ port, path: '/metrics', scheme: 'http', interval: '15s', scrapeTimeout: '10s' })),
      downAlert: { enabled: true, for: '1m', severity: 'critical' },
      rules: [],
    },
  } as Pick<MonitoredService, 'metadata' | 'spec'>;
}

const svc = (name: string, labels: Record<string, string>, ports: { name?: string; port: number }[], podSelector?: Record<string, string>, headless = false): ServiceInfo => ({
  name,
  labels,
  podSelector,
  headless,
  ports,
});

describe('matchesSelector', () => {
  it('follows Kubernetes semantics for matchLabels and each operator', () => {
    const labels = { app: 'checkout', tier: 'web' };
    expect(matchesSelector(labels, { matchLabels: { app: 'checkout' } })).toBe(true);
    expect(matchesSelector(labels, { matchLabels: { app: 'cart' } })).toBe(false);
    expect(matchesSelector(labels, { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] })).toBe(true);
    expect(matchesSelector(labels, { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] })).toBe(false);
    expect(matchesSelector(labels, { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] })).toBe(true);
    expect(matchesSelector(labels, { matchExpressions: [{ key: 'zone', operator: 'Exists' }] })).toBe(false);
    expect(matchesSelector(labels, { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] })).toBe(true);
  });
});

describe('diagnoseSelection', () => {
  it('no Service matches: NoMatchingService, naming the selector and the Services that exist', () => {
    const r = diagnoseSelection(ms({ matchLabels: { app: 'checkout' } }, ['metrics']), [svc('cart', { app: 'cart' }, [{ name: 'metrics', port: 8080 }])]);
    expect(r.problems).toEqual([
      { reason: 'NoMatchingService', message: 'spec.selector: no Service in namespace shop has labels matching "app=checkout", so Prometheus discovers no target (Services in shop: cart)' },
    ]);
  });

  it('a port name the Services do not have: PortNotFound, listing the ports that exist per Service', () => {
    const r = diagnoseSelection(ms({ matchLabels: { app: 'checkout' } }, ['http-metrics']), [
      svc('checkout', { app: 'checkout' }, [
        { name: 'metrics', port: 9090 },
        { name: 'http', port: 80 },
      ]),
    ]);
    expect(r.problems).toEqual([
      { reason: 'PortNotFound', message: 'spec.endpoints[0].port: no selected Service has a port named "http-metrics"; the ports that exist are: checkout (metrics, http)' },
    ]);
  });

  it('a port number written as the name: PortNotFound names the port of that number (a digits-only name is valid in Kubernetes, so not refused)', () => {
    const r = diagnoseSelection(ms({ matchLabels: { app: 'checkout' } }, ['9090']), [
      svc('checkout', { app: 'checkout' }, [
        { name: 'metrics', port: 9090 },
        { name: 'http', port: 80 },
      ]),
    ]);
    expect(r.problems).toEqual([
      {
        reason: 'PortNotFound',
        message:
          'spec.endpoints[0].port: no selected Service has a port named "9090"; the ports that exist are: checkout (metrics, http); 9090 is the number of port metrics: spec.endpoints[0].port takes the port\'s name, e.g. metrics',
      },
    ]);
    // A Service port really named "9090" is found by that name.
    expect(diagnoseSelection(ms({ matchLabels: { app: 'checkout' } }, ['9090']), [svc('checkout', { app: 'checkout' }, [{ name: '9090', port: 9090 }])]).problems).toEqual([]);
  });

  it('only unnamed ports: NoNamedPort, saying to name the port', () => {
    const r = diagnoseSelection(ms({ matchLabels: { app: 'checkout' } }, ['metrics']), [svc('checkout', { app: 'checkout' }, [{ port: 8080 }])]);
    expect(r.problems[0]?.reason).toBe('NoNamedPort');
    expect(r.problems[0]?.message).toContain('checkout (unnamed 8080/TCP)');
    expect(r.problems[0]?.message).toContain('name the Service port (spec.ports[].name)');
  });

  it('a ClusterIP and a headless Service over the same pods: the ClusterIP one is kept, the headless one skipped', () => {
    const sel = { app: 'checkout' };
    const r = diagnoseSelection(ms({ matchLabels: { app: 'checkout' } }, ['metrics']), [
      svc('checkout-headless', { app: 'checkout' }, [{ name: 'metrics', port: 9090 }], sel, true),
      svc('checkout', { app: 'checkout' }, [{ name: 'metrics', port: 9090 }], sel),
      svc('checkout-canary', { app: 'checkout' }, [{ name: 'metrics', port: 9090 }], { app: 'checkout', track: 'canary' }),
    ]);
    expect(r.problems).toEqual([]);
    expect(r.services).toEqual(['checkout', 'checkout-canary', 'checkout-headless']);
    expect(r.duplicates).toEqual([{ port: 'metrics', keep: 'checkout', skip: ['checkout-headless'] }]);
    expect(describeDuplicates(r.duplicates)).toBe('overlapping Services: checkout, checkout-headless select the same pods (identical spec.selector): each pod is scraped once, through checkout');
  });

  it('Services without a selector (hand-made EndpointSlices) are never taken for duplicates', () => {
    const r = diagnoseSelection(ms({ matchLabels: { app: 'x' } }, ['metrics']), [svc('a', { app: 'x' }, [{ name: 'metrics', port: 1 }]), svc('b', { app: 'x' }, [{ name: 'metrics', port: 1 }])]);
    expect(r.duplicates).toEqual([]);
  });

  it('serviceInfo reads name, labels, selector, headlessness and ports of a core/v1 Service', () => {
    expect(serviceInfo({ metadata: { name: 'a', labels: { app: 'a' } }, spec: { selector: { app: 'a' }, clusterIP: 'None', ports: [{ name: 'm', port: 1, protocol: 'TCP' }] } })).toEqual({
      name: 'a',
      labels: { app: 'a' },
      podSelector: { app: 'a' },
      headless: true,
      ports: [{ name: 'm', port: 1, protocol: 'TCP' }],
    });
  });
});

describe('collidingLabelKeys (Prometheus gives a.b, a-b and a_b one meta label)', () => {
  const port = [{ name: 'metrics', port: 9 }];
  it('none when no Service has a different key with the same sanitised name', () => {
    expect(collidingLabelKeys({ matchLabels: { 'a.b': 'x' } }, [svc('one', { 'a.b': 'x', app: 'one' }, port), svc('two', { c_d: 'x' }, port)])).toEqual([]);
  });

  it('a Service labelled a_b or a-b collides with a.b in matchLabels or matchExpressions', () => {
    expect(collidingLabelKeys({ matchLabels: { 'a.b': 'x' } }, [svc('one', { a_b: 'x' }, port)])).toEqual(['a.b']);
    expect(collidingLabelKeys({ matchExpressions: [{ key: 'a.b', operator: 'DoesNotExist' }] }, [svc('one', { 'a-b': 'x' }, port)])).toEqual(['a.b']);
    // Both keys on one Service: Prometheus keeps one of the two values, in Go's map order.
    expect(collidingLabelKeys({ matchLabels: { 'a.b': 'x' } }, [svc('one', { 'a.b': 'x', a_b: 'y' }, port)])).toEqual(['a.b']);
  });

  it('two selector keys with one sanitised name collide whatever the Services have', () => {
    expect(collidingLabelKeys({ matchLabels: { 'a.b': 'x', a_b: 'x' } }, [])).toEqual(['a.b', 'a_b']);
  });
});

describe('diagnoseSelection with colliding label keys', () => {
  it('exactServices names what the selector matches, also when that is nothing', () => {
    const port = [{ name: 'metrics', port: 9 }];
    const both = [svc('right', { 'a.b': 'x' }, port), svc('wrong', { a_b: 'x' }, port)];
    expect(diagnoseSelection(ms({ matchLabels: { 'a.b': 'x' } }, ['metrics']), both)).toMatchObject({ services: ['right'], exactServices: ['right'] });
    const onlyWrong = diagnoseSelection(ms({ matchLabels: { 'a.b': 'x' } }, ['metrics']), [svc('wrong', { a_b: 'x' }, port)]);
    expect(onlyWrong).toMatchObject({ services: [], exactServices: [] });
    expect(onlyWrong.problems[0]?.reason).toBe('NoMatchingService');
    expect(diagnoseSelection(ms({ matchLabels: { app: 'x' } }, ['metrics']), [svc('one', { app: 'x' }, port)]).exactServices).toBeUndefined();
  });
});
