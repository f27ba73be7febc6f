// `make images` / `make push` (hack/build-images.sh): which docker commands they run for the local platform, for
// several platforms with and without buildx, with and without REGISTRY. docker itself is the edge here: a stand-in
// on PATH records its arguments and answers `docker version` and `docker buildx version` like the real CLI.
// (The real docker build of these Dockerfiles runs in the real-node test, hack/node/images.sh.)
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PACKAGE_VERSION } from '../../cdk8s/versions.js';
import { VIGIL_IMAGE_NAMES } from '../../cdk8s/versions.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
const SCRIPT = path.join(REPO_ROOT, 'hack', 'build-images.sh');

interface Run {
  code: number;
  stderr: string;
  /** One docker invocation per entry, its arguments. */
  calls: string[][];
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-build-images-'));
  // Prints the local platform for `docker version`, fails `docker buildx version` unless BUILDX=1.
  writeFileSync(
    path.join(dir, 'docker'),
    [
      '#!/usr/bin/env bash',
      'printf "%s\\0" "$@" >>"$DOCKER_LOG"; printf "\\n" >>"$DOCKER_LOG"',
      'if [[ "$1" == version ]]; then echo linux/amd64; exit 0; fi',
      'if [[ "$1 $2" == "buildx version" ]]; then [[ "${BUILDX:-}" == 1 ]] && { echo "github.com/docker/buildx v0.17.1"; exit 0; }; echo "docker: unknown command: docker buildx" >&2; exit 1; fi',
      'exit 0',
    ].join('\n'),
  );
  chmodSync(path.join(dir, 'docker'), 0o755);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(mode: string, env: Record<string, string>): Run {
  const log = path.join(dir, 'calls');
  writeFileSync(log, '');
  const r = spawnSync(SCRIPT, [mode], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { PATH: `${dir}:${path.dirname(process.execPath)}:${process.env.PATH}`, HOME: process.env.HOME ?? '/root', VIGIL_CACHE: dir, DOCKER_LOG: log, ...env },
  });
  const calls = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\0').filter(Boolean));
  return { code: r.status ?? -1, stderr: r.stderr, calls };
}

// `docker build --help` is the script asking whether the builder has --provenance, not a build.
const builds = (calls: string[][]) => calls.filter((c) => c.includes('build') && !c.includes('--help'));
const tagsOf = (call: string[]) => call.flatMap((a, i) => (call[i - 1] === '-t' ? [a] : []));

describe('make images / make push (hack/build-images.sh)', () => {
  test('make images: each image for this platform, tagged vigil/<name>:<version>, nothing pushed', () => {
    const r = run('build', {});
    expect(r.code).toBe(0);
    expect(builds(r.calls).map(tagsOf)).toEqual(VIGIL_IMAGE_NAMES.map((n) => [`vigil/${n}:${PACKAGE_VERSION}`]));
    expect(builds(r.calls).every((c) => c[0] === 'build' && !c.includes('--platform'))).toBe(true);
    expect(r.calls.some((c) => c[0] === 'push')).toBe(false);
  });

  test('make push REGISTRY=...: also tagged <REGISTRY>/vigil/<name>:<version>, and those are pushed', () => {
    const r = run('push', { REGISTRY: 'registry.example.com:5000/team/' });
    expect(r.code).toBe(0);
    expect(builds(r.calls).map(tagsOf)).toEqual(VIGIL_IMAGE_NAMES.map((n) => [`vigil/${n}:${PACKAGE_VERSION}`, `registry.example.com:5000/team/vigil/${n}:${PACKAGE_VERSION}`]));
    expect(r.calls.filter((c) => c[0] === 'push')).toEqual(VIGIL_IMAGE_NAMES.map((n) => ['push', `registry.example.com:5000/team/vigil/${n}:${PACKAGE_VERSION}`]));
    expect(r.stderr).toContain('global.imageRegistry=registry.example.com:5000/team');
  });

  test('make push without REGISTRY says what to set and builds nothing', () => {
    const r = run('push', {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('make push needs REGISTRY, e.g. make push REGISTRY=registry.example.com');
    expect(builds(r.calls)).toEqual([]);
  });

  test('PLATFORMS = this machine: a plain docker build', () => {
    const r = run('build', { PLATFORMS: 'linux/amd64' });
    expect(r.code).toBe(0);
    expect(builds(r.calls).every((c) => c[0] === 'build')).toBe(true);
  });

  test('other PLATFORMS without buildx: a clear message, nothing built', () => {
    const r = run('push', { PLATFORMS: 'linux/amd64,linux/arm64', REGISTRY: 'registry.example.com' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("PLATFORMS=linux/amd64,linux/arm64: building for other platforms than this machine's (linux/amd64) needs docker buildx");
    expect(builds(r.calls)).toEqual([]);
  });

  test('other PLATFORMS with buildx: one multi-platform build per image, pushed by buildx itself', () => {
    const r = run('push', { PLATFORMS: 'linux/amd64,linux/arm64', REGISTRY: 'registry.example.com', BUILDX: '1' });
    expect(r.code).toBe(0);
    const b = builds(r.calls);
    expect(b.map((c) => [c.slice(0, 2), c[c.indexOf('--platform') + 1], tagsOf(c), c.includes('--push')])).toEqual(
      VIGIL_IMAGE_NAMES.map((n) => [['buildx', 'build'], 'linux/amd64,linux/arm64', [`registry.example.com/vigil/${n}:${PACKAGE_VERSION}`], true]),
    );
    const images = run('build', { PLATFORMS: 'linux/arm64', BUILDX: '1' });
    expect(images.code).toBe(0);
    expect(builds(images.calls).some((c) => c.includes('--push'))).toBe(false);
    expect(images.stderr).toContain("multi-platform images stay in buildx's cache");
  });
});
