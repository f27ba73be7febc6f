// The per-service fragments must give exactly the text of stringifying the whole document.
import { parse, stringify } from 'yaml';
import { MonitoredServiceSchema, type MonitoredService } from '../api/schema.js';
import { demoSettings, loadCatalogue, productionSettings } from '../../test/fixtures/catalogue/index.js';
import { defaultSettings, renderServicePieces } from './index.js';
import { assembleConfig, renderConfig } from '../assemble/config.js';
import { YAML_OPTIONS } from './prometheus.js';
import { placeholder, placeholdersFor, splice, splicedOrThrow, stringifyItems } from './yaml-fragments.js';

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

  it('splicedOrThrow names the file when the placeholders are not where they should be', () => {
    const fragments = [stringifyItems([{ a: 1 }], YAML_OPTIONS)];
    expect(() => splicedOrThrow(stringify({ l: [] }, YAML_OPTIONS), fragments, 'x.yml')).toThrow(/x\.yml: .*renderer bug/);
  });

  it("one fragment holding many services' items gives the same text as one fragment per service", () => {
    const groups = Array.from({ length: 12 }, (_, i) => [awkwardItem(i), awkwardItem(i + 5)]);
    const texts = groups.map((items) => stringifyItems(items, YAML_OPTIONS));
    const doc = (routes: unknown[]) => ({ route: { routes }, after: 1 });
    const joined = [texts.join('')];
    expect(splice(stringify(doc(placeholdersFor(joined)), YAML_OPTIONS), joined)).toBe(stringify(doc(groups.flat()), YAML_OPTIONS));
  });

  it("a fragment given as its services' texts (empty ones among them) gives the same text as the joined fragment, at every nesting", () => {
    const groups = Array.from({ length: 20 }, (_, i) => (i % 4 === 3 ? [] : [awkwardItem(i)]));
    const texts = groups.map((items) => stringifyItems(items, YAML_OPTIONS));
    const [top, nested] = [texts.slice(0, 10), [...texts.slice(10), '', '']];
    const skeleton = stringify({ list: [placeholder(0)], route: { routes: [placeholder(1)] } }, YAML_OPTIONS);
    const whole = stringify({ list: groups.slice(0, 10).flat(), route: { routes: groups.slice(10).flat() } }, YAML_OPTIONS);
    expect(splice(skeleton, [top, nested])).toBe(whole);
    expect(splice(skeleton, [top.join(''), nested.join('')])).toBe(whole);
    // Lists of only empty texts are empty fragments: no placeholder may stand for them.
    expect(splice(skeleton, [top, ['', '']])).toBeUndefined();
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

  it.each(cases)('%s: each big file is what stringifying its parsed form gives', (_name, services, settings) => {
    const rendered = renderConfig(services, settings);
    for (const file of ['prometheus.yml', 'alertmanager.yml']) {
      const text = (rendered.prometheus[file] ?? rendered.alertmanager[file])!;
      expect(stringify(parse(text), YAML_OPTIONS)).toBe(text);
    }
  });

  it.each(cases)('%s: assembling pieces rendered one by one, in any order, gives the same config', (_name, services, settings) => {
    const reference = renderConfig(services, settings);
    const pieces = services.map((s) => renderServicePieces(s, settings));
    expect(assembleConfig(pieces, settings)).toEqual(reference);
    expect(assembleConfig([...pieces].reverse(), settings)).toEqual(reference);
  });

  it('a second rendering, and one of equal services in new objects, give the same files', () => {
    const services = loadCatalogue();
    const first = renderConfig(services, demoSettings);
    expect(renderConfig(services, demoSettings)).toEqual(first);
    expect(renderConfig(loadCatalogue(), demoSettings)).toEqual(first);
  });
});
