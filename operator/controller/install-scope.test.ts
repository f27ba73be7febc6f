import { claimedByOtherInstall, describeInstall, installRecord, matchesLabelSelector, parseLabelSelector, scopeSelects } from './install-scope.js';

describe('parseLabelSelector / matchesLabelSelector (Kubernetes label selector semantics)', () => {
  const cases: [string, Record<string, string> | undefined, boolean][] = [
    ['', undefined, true],
    ['vigil.dev/install=a', { 'vigil.dev/install': 'a' }, true],
    ['vigil.dev/install=a', { 'vigil.dev/install': 'b' }, false],
    ['vigil.dev/install=a', undefined, false],
    ['vigil.dev/install==a', { 'vigil.dev/install': 'a' }, true],
    // != and notin also select objects without the label, as the API server does.
    ['vigil.dev/install!=a', {}, true],
    ['vigil.dev/install!=a', { 'vigil.dev/install': 'a' }, false],
    ['team in (a, b),tier notin (x)', { team: 'b' }, true],
    ['team in (a, b),tier notin (x)', { team: 'b', tier: 'x' }, false],
    ['team in (a,b)', { team: 'c' }, false],
    ['team', { team: '' }, true],
    ['!team', { team: 'a' }, false],
    ['!team', {}, true],
    ['a=1, b=2', { a: '1', b: '2' }, true],
    ['a=1, b=2', { a: '1' }, false],
  ];
  it.each(cases)('%s on %j -> %s', (selector, labels, expected) => {
    expect(matchesLabelSelector(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it('refuses what the API server would, saying what is accepted', () => {
    expect(() => parseLabelSelector('a=1,,b=2')).toThrow(/empty requirement in "a=1,,b=2"; accepted: comma-separated requirements/);
    expect(() => parseLabelSelector('a>1')).toThrow(/"a>1": "a>1" is not a valid label key .*; accepted: /);
    expect(() => parseLabelSelector('-a=1')).toThrow(/"-a" is not a valid label key/);
    expect(() => parseLabelSelector('a=b c')).toThrow(/not a label selector requirement/);
    expect(() => parseLabelSelector('a in (x y)')).toThrow(/"x y" is not a valid label value/);
  });
});

describe('install claims', () => {
  const a = installRecord('vigil-a', 'vigil.dev/install=a', []);
  const b = installRecord('vigil-b', 'vigil.dev/install=b', []);
  const all = installRecord('vigil-system', '', []);

  it('records only the parts of the scope that are set', () => {
    expect(all).toEqual({ namespace: 'vigil-system' });
    expect(installRecord('x', ' k=v ', ['n1', 'n2'])).toEqual({ namespace: 'x', selector: 'k=v', watchNamespaces: ['n1', 'n2'] });
    expect(describeInstall(installRecord('x', 'k=v', ['n1']))).toBe('x (selector "k=v", namespaces n1)');
    expect(describeInstall(all)).toBe('vigil-system (every MonitoredService, all namespaces)');
  });

  it('an object another install holds stays with it while that scope still selects it', () => {
    // Unclaimed or claimed by this install (even with an older scope): this install's.
    expect(claimedByOtherInstall(undefined, b, 'shop', { 'vigil.dev/install': 'b' })).toBeUndefined();
    expect(claimedByOtherInstall({ namespace: 'vigil-b', selector: 'old=1' }, b, 'shop', {})).toBeUndefined();
    // Overlapping scopes: install "all" also lists it, but a holds it.
    expect(claimedByOtherInstall(a, all, 'shop', { 'vigil.dev/install': 'a' })).toEqual(a);
    // Relabelled from a to b: a's scope no longer selects it, the claim is stale.
    expect(claimedByOtherInstall(a, b, 'shop', { 'vigil.dev/install': 'b' })).toBeUndefined();
    // Namespace scopes count as well.
    const onlyShop = installRecord('vigil-shop', '', ['shop']);
    expect(claimedByOtherInstall(onlyShop, all, 'shop', {})).toEqual(onlyShop);
    expect(claimedByOtherInstall(onlyShop, all, 'billing', {})).toBeUndefined();
  });

  it('a claim of an install that is gone is free; a live one is held (issue 22)', () => {
    const all = installRecord('vigil-all', '', []);
    const gone = (ns: string) => ns === 'vigil-old';
    expect(claimedByOtherInstall({ namespace: 'vigil-old' }, all, 'shop', {}, gone)).toBeUndefined();
    expect(claimedByOtherInstall({ namespace: 'vigil-live' }, all, 'shop', {}, gone)).toEqual({ namespace: 'vigil-live' });
    // This install's own claim stays its own whatever the verdict says.
    expect(claimedByOtherInstall({ namespace: 'vigil-all' }, all, 'shop', {}, () => true)).toBeUndefined();
  });

  it('a recorded selector that does not parse selects nothing (its claim is stale)', () => {
    expect(scopeSelects({ namespace: 'x', selector: 'a>1' }, 'shop', { a: '2' })).toBe(false);
  });
});
