// The controller's per-object cache of validation results and rendered pieces: reused exactly while
// uid, generation and settings stay, redone when any of them moves, and never the source of a
// different config than rendering from scratch.
import { loadCatalogue, demoSettings, productionSettings } from '../../test/fixtures/catalogue/index.js';
import { assembleConfig, renderConfig, renderServicePieces as renderConfigPieces } from '../render/index.js';
import { validateMonitoredService } from '../validate/index.js';
import type { RawMonitoredService } from './plan.js';
import { ServiceCache, objectKey, settingsHash } from './service-cache.js';

function raw(namespace: string, name: string, generation: number, expr = 'rate(errors_total[5m]) > 1'): RawMonitoredService {
  return {
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace, name, uid: `uid-${namespace}-${name}`, generation },
    spec: {
      selector: { matchLabels: { app: name } },
      endpoints: [{ port: 'metrics' }],
      rules: [{ name: 'Errors', expr, for: '1m' }],
      notify: { email: { to: [`${name}@example.com`] } },
    },
  };
}

const hashOf = settingsHash;

describe('ServiceCache', () => {
  it('validates and renders an object once per generation and settings', () => {
    const cache = new ServiceCache();
    const a1 = raw('a', 'one', 1);
    const first = cache.resolve(a1, demoSettings, hashOf(demoSettings));
    expect(first.ok).toBe(true);
    expect(cache.resolve({ ...a1 }, demoSettings, hashOf(demoSettings))).toBe(first);
    expect(cache.misses).toBe(1);
    // A new generation: validated again, with the new spec.
    const a2 = raw('a', 'one', 2, 'rate(errors_total[1m]) > 1');
    const second = cache.resolve(a2, demoSettings, hashOf(demoSettings));
    expect(cache.misses).toBe(2);
    expect(second.ok && cache.piecesOf(second.service, demoSettings).ruleFile).toContain('rate(errors_total{namespace="a"}[1m]) > 1');
    // Other settings: rendered again with them.
    const third = cache.resolve(a2, productionSettings, hashOf(productionSettings));
    expect(cache.misses).toBe(3);
    expect(third.ok && cache.piecesOf(third.service, productionSettings).ruleFile).toContain(`interval: ${productionSettings.evaluationInterval}`);
  });

  it('keeps invalid results too, and drops the entries of deleted objects', () => {
    const cache = new ServiceCache();
    const bad = raw('a', 'bad', 1, 'rate(errors_total[5m] > 1');
    expect(cache.resolve(bad, demoSettings, hashOf(demoSettings)).ok).toBe(false);
    expect(cache.resolve(bad, demoSettings, hashOf(demoSettings)).ok).toBe(false);
    expect(cache.misses).toBe(1);
    cache.resolve(raw('a', 'good', 1), demoSettings, hashOf(demoSettings));
    expect(cache.size).toBe(2);
    cache.prune(new Set([objectKey(raw('a', 'good', 1))]));
    expect(cache.size).toBe(1);
  });

  it('renders each valid service once: the renderability check is the rendering that is kept', () => {
    let renders = 0;
    const cache = new ServiceCache(validateMonitoredService, (service, settings) => {
      renders++;
      return renderConfigPieces(service, settings);
    });
    const result = cache.resolve(raw('a', 'one', 1), demoSettings, hashOf(demoSettings));
    expect(result.ok).toBe(true);
    if (result.ok) cache.piecesOf(result.service, demoSettings);
    expect(renders).toBe(1);
  });

  it('turns a rendering failure with the real settings into Valid=False for that object only', () => {
    const cache = new ServiceCache(validateMonitoredService, () => {
      throw new Error('boom');
    });
    const result = cache.resolve(raw('a', 'one', 1), demoSettings, hashOf(demoSettings));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues[0]!.message).toMatch(/cannot be turned into Prometheus\/Alertmanager configuration: boom/);
  });

  it.each([
    ['demo', demoSettings],
    ['production', productionSettings],
  ])('assembling cached pieces gives exactly renderConfig (catalogue, %s settings)', (_name, settings) => {
    const cache = new ServiceCache();
    const objects = loadCatalogue().map((s, i) => ({ ...s, metadata: { ...s.metadata, uid: `u${i}`, generation: 1 } }) as RawMonitoredService);
    const services = objects
      .map((o) => cache.resolve(o, settings, hashOf(settings)))
      .map((r) => {
        if (!r.ok) throw new Error(JSON.stringify(r.issues));
        return r.service;
      });
    const fromCache = assembleConfig(
      services.map((s) => cache.piecesOf(s, settings)),
      settings,
    );
    expect(fromCache).toEqual(renderConfig(services, settings));
  });

  it('settingsHash changes with any setting, credentials included', () => {
    expect(settingsHash(demoSettings)).not.toBe(settingsHash({ ...demoSettings, smtp: { ...demoSettings.smtp, authPassword: 'x' } }));
    expect(settingsHash(demoSettings)).toBe(settingsHash({ ...demoSettings }));
  });
});
