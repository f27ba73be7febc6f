// Keeps the docs true: every documented Makefile target appears in CONTRIBUTING.md's table, every
// `make <target>` the docs mention exists, every relative link and anchor resolves, and the README's
// MonitoredService passes the operator's validation.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { validateMonitoredService } from '../operator/validate/index.js';

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
const docFiles = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(new URL('docs/', root))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

const withoutCodeBlocks = (text: string) => text.replace(/^```[\s\S]*?^```/gm, '');

// GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered.
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const m of withoutCodeBlocks(markdown).matchAll(/^#{1,6} +(.*)$/gm)) {
    const base = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    result.add(n === 0 ? base : `${base}-${n}`);
  }
  return result;
}

function brokenLinks(file: string): string[] {
  const text = withoutCodeBlocks(read(file));
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((link) => !/^[a-z]+:/.test(link))
    .filter((link) => {
      const [path, anchor] = link.split('#') as [string, string | undefined];
      const target = path === '' ? file : normalize(join(dirname(file), path));
      if (!existsSync(new URL(target, root))) return true;
      return anchor !== undefined && target.endsWith('.md') && !anchors(read(target)).has(anchor);
    })
    .map((link) => `${file}: ${link}`);
}

describe('README and docs', () => {
  it('CONTRIBUTING.md lists every Makefile target that has a help text', () => {
    expect(documentedTargets.length).toBeGreaterThan(10);
    const contributing = read('CONTRIBUTING.md');
    const missing = documentedTargets.filter((t) => !contributing.includes(`| \`make ${t}\` |`));
    expect(missing).toEqual([]);
  });

  it('mention only targets that exist', () => {
    const unknown = docFiles.flatMap((file) => {
      const mentioned = new Set([...read(file).matchAll(/`make ([a-z][a-z0-9-]*)/g)].map((m) => m[1]!));
      return [...mentioned].filter((t) => !documentedTargets.includes(t)).map((t) => `${file}: make ${t}`);
    });
    expect(unknown).toEqual([]);
  });

  it('link only to files and headings that exist', () => {
    expect(anchors('## `make kind-up`: the whole system\n## Side by side (N = 10 / 1,000)\n## A\n## A')).toEqual(new Set(['make-kind-up-the-whole-system', 'side-by-side-n--10--1000', 'a', 'a-1']));
    expect(docFiles.flatMap(brokenLinks)).toEqual([]);
  });

  it("the README's MonitoredService example is valid", () => {
    const examples = [...readme.matchAll(/^```yaml\n([\s\S]*?)^```/gm)]
      .flatMap((m) => parseAllDocuments(m[1]!).map((d) => d.toJS() as unknown))
      .filter((doc) => (doc as { kind?: unknown }).kind === 'MonitoredService');
    expect(examples).toHaveLength(1);
    expect(examples.map((e) => validateMonitoredService(e))).toEqual([expect.objectContaining({ ok: true })]);
  });

  it('the README shows the two set-up commands and .ci/run runs the test one', () => {
    expect(readme).toContain('`make kind-up`');
    expect(readme).toContain('`make test`');
    expect(read('.ci/run')).toMatch(/^make test$/m);
  });
});
