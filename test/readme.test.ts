// Keeps the README true: every documented Makefile target appears in its table, and every
// `make <target>` the README mentions exists.
import { readdirSync, readFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const makefiles = [
  'Makefile',
  ...readdirSync(new URL('hack/make/', root))
    .filter((f) => f.endsWith('.mk'))
    .map((f) => `hack/make/${f}`),
];
const documentedTargets = makefiles.flatMap((f) => [...read(f).matchAll(/^([a-zA-Z0-9_-]+):.*## /gm)].map((m) => m[1]!));
const readme = read('README.md');

describe('README', () => {
  it('lists every Makefile target that has a help text', () => {
    expect(documentedTargets.length).toBeGreaterThan(10);
    const missing = documentedTargets.filter((t) => !readme.includes(`| \`make ${t}\` |`));
    expect(missing).toEqual([]);
  });

  it('mentions only targets that exist', () => {
    const mentioned = new Set([...readme.matchAll(/`make ([a-z][a-z0-9-]*)/g)].map((m) => m[1]!));
    const unknown = [...mentioned].filter((t) => !documentedTargets.includes(t));
    expect(unknown).toEqual([]);
  });

  it('shows the two set-up commands and .ci/run runs the test one', () => {
    expect(readme).toContain('`make kind-up`');
    expect(readme).toContain('`make test`');
    expect(read('.ci/run')).toMatch(/^make test$/m);
  });
});
