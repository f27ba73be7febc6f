import { describe, expect, it } from '@jest/globals';
import { defaultSettings, renderServicePieces, withScrapeHints } from '../render/index.js';
import { validateMonitoredService } from '../validate/index.js';
import { handoverSkipped, SKIP_HANDOVER_ENV, testSeamHintRenderer } from './test-seam.js';

function service(ruleName: string) {
  const r = validateMonitoredService({
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace: 'a', name: 'api', generation: 1 },
    spec: { selector: { matchLabels: { app: 'api' } }, endpoints: [{ port: 'metrics' }], rules: [{ name: ruleName, expr: 'up == 0' }], notify: { email: { to: ['a@example.com'] } } },
  });
  if (!r.ok) throw new Error('invalid fixture');
  return r.service;
}

describe('testSeamHintRenderer (test only)', () => {
  const settings = defaultSettings();
  it('is withScrapeHints itself without the variables', () => {
    expect(testSeamHintRenderer({})).toBe(withScrapeHints);
  });

  it('breaks only the pieces of a service with the named rule, after its scrape hints, and their digests follow', () => {
    const withHints = testSeamHintRenderer({ VIGIL_TEST_UNLOADABLE_ALERT: 'Bad', VIGIL_TEST_DUPLICATE_RECEIVER_ALERT: 'Bad' });
    const render = (s: ReturnType<typeof service>, x: typeof settings) => withHints(renderServicePieces(s, x), s, x, undefined);
    const good = service('Good');
    expect(render(good, settings)).toEqual(renderServicePieces(good, settings));
    const bad = render(service('Bad'), settings);
    const plain = renderServicePieces(service('Bad'), settings);
    expect(bad.ruleFile).toBe(`${plain.ruleFile}  - name: vigil-test-unloadable\n    rules:\n      - alert: Bad\n        expr: "up =="\n`);
    // The recipient set's receiver a second time, which Alertmanager refuses as not unique.
    expect(plain.receiver).toMatch(/^  - name: vigil-to:a@example\.com\n/);
    expect(bad.receiver).toBe(`${plain.receiver}  - name: "vigil-to:a@example.com"\n`);
    expect(bad.digests.ruleFile).not.toBe(plain.digests.ruleFile);
    expect(bad.digests.routeAndReceiver).not.toBe(plain.digests.routeAndReceiver);
    // A down reason renders the rule file anew: the breakage comes after it, so it is kept.
    const hinted = withHints(renderServicePieces(service('Bad'), settings), service('Bad'), settings, { 'vigil/a/api/metrics': { skipServices: [], downReason: 'NoMatchingService: none' } });
    expect(hinted.ruleFile).toContain('The operator reports: NoMatchingService: none');
    expect(hinted.ruleFile).toContain('  - name: vigil-test-unloadable\n');
  });
});

describe('handoverSkipped (test only)', () => {
  it('skips the shard handover only when the variable is 1', () => {
    expect(handoverSkipped({})).toBe(false);
    expect(handoverSkipped({ [SKIP_HANDOVER_ENV]: '0' })).toBe(false);
    expect(handoverSkipped({ [SKIP_HANDOVER_ENV]: '1' })).toBe(true);
  });
});
