// The per-service fragments must give exactly the text of stringifying the whole document, and the
// memo must never serve stale text.
import { parse, stringify } from 'yaml';
import { MonitoredServiceSchema, type MonitoredService } from '../api/schema.js';
import { demoSettings, loadCatalogue, productionSettings } from '../../test/fixtures/catalogue/index.js';
import { defaultSettings, renderConfig } from './index.js';
import { YAML_OPTIONS } from './prometheus.js';
import { fragmentStats, placeholdersFor, SERVICE_RENDER_MEMO, ServiceRenderMemo, settingsFingerprint, splice, stringifyItems } from './yaml-fragments.js';

/** Strings that make `yaml` quote, escape or use block scalars. */
const AWKWARD_STRINGS = [
  'plain',
  '',
  ' leading space',
  'trailing space ',
  'a: colon',
  '- dash',
  '#hash',
  'x #comment',
  "it's",
  '"double"',
  'line1\nline2',
  'para1\n\npara2\n',
  '  indented\n  block\n',
  '---\ndocument marker',
  '...',
  '%directive',
  'tab\there',
  'true',
  '123',
  'null',
  '~',
  'ünïcödé ✓',
  '{{ template "x" . }}',
  '[flow]',
  'trailing newlines\n\n\n',
  'space before newline \nnext',
  '\u0007bell',
];

function awkwardItem(i: number): Record<string, unknown> {
  const s = (k: number) => AWKWARD_STRINGS[(i + k) % AWKWARD_STRINGS.length]!;
  return {
    name: s(0),
    nested: { list: [s(1), s(2), { deep: s(3), empty: [], none: {} }], flag: i % 2 === 0, n: i },
    text: s(4),
    [s(5) || 'k']: s(6),
    items: [[s(7)], { a: s(8) }],
  };
}

describe('splice', () => {
  it('gives the text of the whole document at every nesting used, for awkward strings', () => {
    const groups = Array.from({ length: AWKWARD_STRINGS.length * 2 }, (_, i) => (i % 5 === 4 ? [] : Array.from({ length: 1 + (i % 3) }, (_, k) => awkwardItem(i + k))));
    const fragments = groups.map((items) => stringifyItems(items, YAML_OPTIONS));
    const half = Math.floor(groups.length / 2);
    const placeholders = placeholdersFor(fragments);
    const firstHalf = placeholders.filter((p) => Number(/\d+/.exec(p)![0]) < half);
    const secondHalf = placeholders.filter((p) => Number(/\d+/.exec(p)![0]) >= half);
    const doc = (a: unknown[], b: unknown[]) => ({ top: 'x', list: ['fixed', ...a], route: { deeper: { routes: b } }, tail: { k: 'v' } });
    const whole = stringify(doc(groups.slice(0, half).flat(), groups.slice(half).flat()), YAML_OPTIONS);
    const spliced = splice(stringify(doc(firstHalf, secondHalf), YAML_OPTIONS), fragments);
    expect(spliced).toBe(whole);
  });

  it('returns undefined when a placeholder is missing or repeated', () => {
    const fragments = [stringifyItems([{ a: 1 }], YAML_OPTIONS), stringifyItems([{ b: 2 }], YAML_OPTIONS)];
    const [p0, p1] = placeholdersFor(fragments) as [string, string];
    expect(splice(stringify({ l: [p0] }, YAML_OPTIONS), fragments)).toBeUndefined();
    expect(splice(stringify({ l: [p0, p0, p1] }, YAML_OPTIONS), fragments)).toBeUndefined();
    expect(splice(stringify({ l: [p0, p1] }, YAML_OPTIONS), fragments)).toBe(stringify({ l: [{ a: 1 }, { b: 2 }] }, YAML_OPTIONS));
  });

  it('renders an empty list as before when every fragment is empty', () => {
    expect(splice(stringify({ l: placeholdersFor(['', '']) }, YAML_OPTIONS), ['', ''])).toBe(stringify({ l: [] }, YAML_OPTIONS));
  });
});

function service(namespace: string, name: string, extra: Record<string, unknown> = {}): MonitoredService {
  return MonitoredServiceSchema.parse({
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace, name },
    spec: {
      selector: { matchLabels: { app: name } },
      endpoints: [{ port: 'metrics' }, { port: 'admin', path: '/admin/metrics' }],
      rules: [{ name: 'HighErrorRate', expr: 'rate(http_requests_total{code=~"5.."}[5m]) > 1', for: '1m', description: 'line one\n\nline three' }],
      notify: { email: { to: [`${name}@example.com`] } },
      ...extra,
    },
  });
}

describe('renderers with fragments', () => {
  const cases: Array<[string, MonitoredService[], ReturnType<typeof defaultSettings>]> = [
    ['catalogue, demo settings', loadCatalogue(), demoSettings],
    ['catalogue, production settings', loadCatalogue(), productionSettings],
    ['many services', Array.from({ length: 60 }, (_, i) => service(`ns-${i % 7}`, `svc-${i}`)), defaultSettings({ defaultRecipients: ['ops@example.com'] })],
    ['no services', [], defaultSettings()],
  ];

  it.each(cases)('%s: each big file is what stringifying its parsed form gives, without fallback', (_name, services, settings) => {
    const before = fragmentStats.wholeDocumentFallbacks;
    const rendered = renderConfig(services, settings);
    for (const file of ['prometheus.yml', 'alertmanager.yml']) {
      const text = (rendered.prometheus[file] ?? rendered.alertmanager[file])!;
      expect(stringify(parse(text), YAML_OPTIONS)).toBe(text);
    }
    expect(fragmentStats.wholeDocumentFallbacks).toBe(before);
  });

  it('a second rendering, and one of equal services in new objects, give the same files', () => {
    const services = loadCatalogue();
    const first = renderConfig(services, demoSettings);
    expect(renderConfig(services, demoSettings)).toEqual(first);
    expect(renderConfig(loadCatalogue(), demoSettings)).toEqual(first);
  });

  it('never serves memoised text for a changed service or changed settings', () => {
    const services = [service('a', 'one'), service('b', 'two')];
    const before = renderConfig(services, demoSettings);
    // Mutating in place (not what the controller does, but the memo is keyed by content).
    (services[0]!.spec.endpoints[0] as { port: string }).port = 'web';
    const changed = renderConfig(services, demoSettings);
    expect(changed.prometheus['prometheus.yml']).toContain('vigil/a/one/web');
    expect(changed.prometheus['prometheus.yml']).not.toContain('vigil/a/one/metrics');
    expect(changed.prometheusHash).not.toBe(before.prometheusHash);
    const otherSettings = renderConfig(services, { ...demoSettings, evaluationInterval: '42s' });
    expect(otherSettings.prometheus['a__one.rules.yaml']).toContain('interval: 42s');
  });
});

describe('ServiceRenderMemo', () => {
  it('renders once per content and settings', () => {
    const memo = new ServiceRenderMemo();
    let calls = 0;
    const render = () => `text ${++calls}`;
    const fp = settingsFingerprint({ a: 1 });
    expect(memo.get('p', { x: 1 }, fp, render)).toBe('text 1');
    expect(memo.get('p', { x: 1 }, fp, render)).toBe('text 1');
    expect(memo.get('q', { x: 1 }, fp, render)).toBe('text 2');
    expect(memo.get('p', { x: 2 }, fp, render)).toBe('text 3');
    expect(memo.get('p', { x: 1 }, settingsFingerprint({ a: 2 }), render)).toBe('text 4');
    expect(calls).toBe(4);
  });

  it('keeps what is in use and drops what is not, within two generations of largest rendering + spare', () => {
    const memo = new ServiceRenderMemo();
    memo.noteRendering(10);
    let calls = 0;
    const render = () => `text ${++calls}`;
    const live = Array.from({ length: 10 }, (_, i) => ({ live: i }));
    const renderAll = () => live.forEach((s) => memo.get('p', s, '', render));
    renderAll();
    // Thousands of other services come and go (e.g. changed generations) while the live ones stay in use.
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 700; i++) memo.get('p', { gone: round * 1000 + i }, '', render);
      renderAll();
    }
    expect(calls).toBe(10 + 5 * 700); // the live services were never rendered again
    expect(memo.size).toBeLessThanOrEqual(2 * (10 + 1000));
  });

  it('does not memoise a throw', () => {
    const memo = new ServiceRenderMemo();
    expect(() => memo.get('p', { x: 1 }, '', () => { throw new Error('bad'); })).toThrow('bad');
    expect(memo.get('p', { x: 1 }, '', () => 'ok')).toBe('ok');
  });

  it('is not reset by renderings of single services with other settings (validation renders each new service alone)', () => {
    const services = Array.from({ length: 30 }, (_, i) => service(`ns-${i % 3}`, `svc-${i}`));
    renderConfig(services, demoSettings);
    const fingerprintBefore = (SERVICE_RENDER_MEMO as unknown as { fingerprint: string }).fingerprint;
    renderConfig([services[0]!], defaultSettings());
    expect((SERVICE_RENDER_MEMO as unknown as { fingerprint: string }).fingerprint).toBe(fingerprintBefore);
    expect(SERVICE_RENDER_MEMO.size).toBeGreaterThanOrEqual(30);
  });
});
