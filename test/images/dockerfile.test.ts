// The Dockerfile/.dockerignore reader used by the image test, and what the real .dockerignore
// keeps out of (and in) the build context.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dockerignore, parseCopy, parseDockerfile, runCommands } from './dockerfile.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');

describe('parseDockerfile', () => {
  const text = [
    '# comment',
    'ARG NODE_VERSION',
    'ARG DEBIAN=bookworm',
    'FROM node:${NODE_VERSION}-${DEBIAN}-slim AS build',
    'WORKDIR /src',
    'RUN npm ci \\',
    '    # a comment inside a continued line',
    '    --ignore-scripts && npm run build',
    'FROM node:${NODE_VERSION}-bookworm-slim',
    'COPY --from=build /src/dist/a ./dist/a',
    'ENTRYPOINT ["node", "main.js"]',
  ].join('\n');

  test('stages, build args, continuation lines, exec form', () => {
    const parsed = parseDockerfile(text, { NODE_VERSION: '24.21.0' });
    expect(parsed.stages.map((s) => [s.name, s.baseImage])).toEqual([
      ['build', 'node:24.21.0-bookworm-slim'],
      ['1', 'node:24.21.0-bookworm-slim'],
    ]);
    const [build, final] = parsed.stages;
    expect(runCommands(build!.instructions[1]!)).toEqual([
      ['npm', 'ci', '--ignore-scripts'],
      ['npm', 'run', 'build'],
    ]);
    expect(parseCopy(final!.instructions[0]!)).toEqual({ from: 'build', sources: ['/src/dist/a'], dest: './dist/a' });
    expect(final!.instructions[1]!.exec).toEqual(['node', 'main.js']);
  });

  test('refuses what it cannot reproduce instead of guessing', () => {
    expect(() => parseDockerfile(text)).toThrow('build arg NODE_VERSION has no value');
    expect(() => parseCopy({ keyword: 'COPY', rest: '--chown=1:1 a b' })).toThrow('--chown');
    expect(() => parseCopy({ keyword: 'COPY', rest: 'package*.json ./' })).toThrow('globs');
    expect(() => runCommands({ keyword: 'RUN', rest: 'curl x | sh' })).toThrow('shell syntax');
  });
});

describe('dockerignore', () => {
  test('patterns are anchored at the context root, ** spans folders, a folder match covers its content, ! re-includes', () => {
    const ignored = dockerignore('bin\n**/*.test.ts\ndocs/\n!docs/keep.md\n');
    expect(ignored('bin/prometheus')).toBe(true);
    expect(ignored('operator/bin/vigil.js')).toBe(false);
    expect(ignored('a.test.ts')).toBe(true);
    expect(ignored('operator/cli/main.test.ts')).toBe(true);
    expect(ignored('docs/x.md')).toBe(true);
    expect(ignored('docs/keep.md')).toBe(false);
  });

  test('the real .dockerignore keeps local state out of the build context and what the Dockerfiles copy in', () => {
    const ignored = dockerignore(readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8'));
    const out = [
      '.git/HEAD',
      'node_modules/x/index.js',
      'dist/operator/cli/main.js',
      'bin/kubectl',
      '.local/run/kubeconfig',
      '.cache/x',
      'vigil-out/prometheus/prometheus.yml',
      '.local/run/operator.log',
      'operator/cli/render-command.test.ts',
      'target-service/test/main.int.test.ts',
    ];
    const kept = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'operator/bin/vigil.js', 'operator/cli/main.ts', 'target-service/src/main.ts'];
    expect(out.filter((p) => !ignored(p))).toEqual([]);
    expect(kept.filter((p) => ignored(p))).toEqual([]);
  });
});
