// The import graph of the repository (issue #12): no cycle between modules, and the folders layered
// as a tree: the product (operator/, cdk8s/, target-service/) imports no dev tooling; hack/ (the stack
// module, hack/local-stack/, used by make local-up, the tests and the benchmarks) imports nothing from
// test/ or bench/; test/ imports nothing from bench/. Inside operator/, the folders of the pipeline
// are layered too (issue 23): api -> validate -> render -> assemble -> controller -> sync, a folder
// importing only from folders before it. Type-only imports count too; a *.test.ts file is test code
// wherever it lives.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve('.');
const SOURCE_DIRS = ['operator', 'cdk8s', 'target-service', 'hack', 'test', 'bench'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' ? [] : tsFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** file (repo-relative) -> the repo-relative .ts files it imports (static, dynamic, re-exports). */
function importGraph(): Map<string, string[]> {
  const files = SOURCE_DIRS.flatMap((d) => tsFiles(join(ROOT, d)));
  const known = new Set(files.map((f) => relative(ROOT, f)));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const targets = new Set<string>();
    for (const match of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']+)'/gm)) {
      const target = relative(ROOT, resolve(dirname(file), (match[1] as string).replace(/\.js$/, '.ts')));
      if (known.has(target)) targets.add(target);
    }
    graph.set(relative(ROOT, file), [...targets]);
  }
  return graph;
}

/** Every cycle found by a depth-first search, each as the list of files around it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'visiting') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

const topDir = (file: string) => file.split('/')[0] as string;
/** A file's layer: its top-level folder; tests (*.test.ts) next to the code they test are test code. */
const layer = (file: string) => (file.endsWith('.test.ts') ? 'test' : topDir(file));

/** Which top-level folders each may import from (besides itself). */
const MAY_IMPORT: Record<string, string[]> = {
  operator: [],
  cdk8s: ['operator'],
  'target-service': [],
  hack: ['operator', 'cdk8s', 'target-service'],
  test: ['operator', 'cdk8s', 'target-service', 'hack'],
  bench: ['operator', 'cdk8s', 'target-service', 'hack', 'test'],
};

/**
 * The operator's pipeline folders, in order: a file in one imports nothing from a later one
 * (operator/assemble/ sits between rendering one service and the controller that writes the objects).
 * Other operator/ folders (kube/, observability/, promql/, cli/, ...) are not ranked.
 */
const OPERATOR_ORDER = ['api', 'validate', 'render', 'assemble', 'controller', 'sync'];

/**
 * The imports against that order that predate it, exactly (issue 23 item 5 left them): the duration
 * grammar the CRD schema uses, the validation types and names render/ defines, the renderability
 * check's renderConfig, and the sidecar's confirm/job-name parsers the controller shares. Listed so
 * that a new one fails; moving one of these files removes its line.
 */
const KNOWN_INVERSIONS = [
  'operator/api/schema.ts -> operator/validate/duration.ts',
  'operator/validate/deep-checks.ts -> operator/render/alert-labels.ts',
  'operator/validate/deep-checks.ts -> operator/render/names.ts',
  'operator/validate/deep-checks.ts -> operator/render/scrape-timing.ts',
  'operator/validate/deep-checks.ts -> operator/render/types.ts',
  'operator/validate/index.ts -> operator/assemble/config.ts',
  'operator/validate/index.ts -> operator/render/index.ts',
  'operator/validate/index.ts -> operator/render/scrape-limits.ts',
  'operator/validate/index.ts -> operator/render/restart-gap.ts',
  'operator/validate/index.ts -> operator/render/types.ts',
  'operator/validate/job-matchers.ts -> operator/render/names.ts',
  'operator/validate/unknown-fields.ts -> operator/render/types.ts',
  'operator/validate/zod-issues.ts -> operator/render/types.ts',
  'operator/controller/alertmanager-poller.ts -> operator/sync/confirm.ts',
  'operator/controller/isolation.ts -> operator/sync/confirm.ts',
  'operator/controller/plan.ts -> operator/sync/confirm.ts',
  'operator/controller/plan.ts -> operator/sync/job-names.ts',
  'operator/controller/prometheus-config.ts -> operator/sync/job-names.ts',
];

/** A file's place in OPERATOR_ORDER (-1: not in a ranked folder, or test code). */
const operatorRank = (file: string): number => {
  const [top, folder] = file.split('/');
  return top === 'operator' && !file.endsWith('.test.ts') ? OPERATOR_ORDER.indexOf(folder as string) : -1;
};

/** Imports from a ranked operator/ folder into a later one, as `from -> to`, sorted. */
function wrongWayInOperator(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const [file, targets] of graph) {
    const from = operatorRank(file);
    if (from < 0) continue;
    for (const target of targets) if (operatorRank(target) > from) found.push(`${file} -> ${target}`);
  }
  return found.sort();
}

describe('the import graph', () => {
  const graph = importGraph();

  it('reads the whole source tree', () => {
    // Sanity: a broken pattern would find no edges and pass everything below.
    expect(graph.size).toBeGreaterThan(200);
    // Dynamic imports count: main.ts loads each command only when it runs.
    expect(graph.get('operator/cli/main.ts')?.sort()).toEqual([
      'operator/cli/operator-command.ts',
      'operator/cli/render-command.ts',
      'operator/cli/sync-command.ts',
      'operator/cli/test-email-command.ts',
      'operator/cli/uninstall-command.ts',
    ]);
    // Type-only imports count (service.ts imports only the Logger type from observability/).
    expect(graph.get('operator/cli/service.ts')?.sort()).toEqual(['operator/cli/flags.ts', 'operator/observability/index.ts']);
    expect(graph.get('hack/local-stack/cluster.ts')).toEqual(expect.arrayContaining(['hack/local-stack/net.ts', 'hack/local-stack/process.ts']));
  });

  it('has no cycle', () => {
    expect(cycles(graph).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('layers the folders: product <- hack (the stack module) <- test <- bench', () => {
    const offending: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        const from = layer(file);
        const to = layer(target);
        const sameFolder = topDir(file) === topDir(target); // a test next to its code (bench/stats.test.ts -> bench/stats.ts)
        if (from !== to && !sameFolder && !(MAY_IMPORT[from] ?? []).includes(to)) offending.push(`${file} -> ${target}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('layers operator/: api <- validate <- render <- assemble <- controller <- sync', () => {
    // Sanity: every ranked folder exists, and assemble/ holds the stage between render/ and controller/.
    for (const folder of OPERATOR_ORDER) expect([folder, [...graph.keys()].some((f) => f.startsWith(`operator/${folder}/`))]).toEqual([folder, true]);
    expect(graph.get('operator/controller/plan.ts')).toEqual(expect.arrayContaining(['operator/assemble/size-fit.ts', 'operator/assemble/config-bundle.ts']));
    expect(graph.get('operator/assemble/service-cache.ts')).toEqual(expect.arrayContaining(['operator/render/index.ts', 'operator/assemble/config.ts']));
    expect(wrongWayInOperator(graph)).toEqual([...KNOWN_INVERSIONS].sort());
  });

  it('finds a cycle and a wrong-way import when there is one', () => {
    const bad = new Map([
      ['hack/a.ts', ['test/b.ts']],
      ['test/b.ts', ['hack/a.ts']],
    ]);
    expect(cycles(bad)).toEqual([['hack/a.ts', 'test/b.ts', 'hack/a.ts']]);
    expect(MAY_IMPORT.hack).not.toContain('test');
    const operatorBad = new Map([
      ['operator/assemble/a.ts', ['operator/controller/b.ts', 'operator/render/c.ts', 'operator/kube/d.ts']],
      ['operator/render/e.ts', ['operator/assemble/a.ts']],
      ['operator/render/e.test.ts', ['operator/controller/b.ts']],
    ]);
    expect(wrongWayInOperator(operatorBad)).toEqual(['operator/assemble/a.ts -> operator/controller/b.ts', 'operator/render/e.ts -> operator/assemble/a.ts']);
  });
});
