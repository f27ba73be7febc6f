// hack/kind-up.sh creates the cluster from the node image pinned in hack/versions.env (or KIND_NODE_IMAGE),
// and with VIGIL_SKIP_IMAGE_BUILD=1 loads the images already in Docker instead of building them. The real
// script runs from a copy of the checkout whose docker, kind, kubectl and helm only record their arguments.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readVersionsEnv } from '../../cdk8s/versions.js';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const VERSIONS = readVersionsEnv(readFileSync(path.join(REPO, 'hack', 'versions.env'), 'utf8'));
const PKG_VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const IMAGES = ['operator', 'target-service', 'stunnel'].map((name) => `vigil/${name}:${PKG_VERSION}`);

// Each stub appends "<name> <args...>" to $STUB_LOG; `docker build --help` prints $STUB_DOCKER_BUILD_HELP and
// `docker image inspect` fails for $STUB_MISSING_IMAGE.
const STUB = `#!/usr/bin/env bash
{ printf '%s' "\${0##*/}"; printf ' %s' "$@"; printf '\\n'; } >> "$STUB_LOG"
case "\${0##*/} $*" in
  "docker build --help") printf '%s\\n' "$STUB_DOCKER_BUILD_HELP" ;;
  "docker image inspect \${STUB_MISSING_IMAGE:-none}") exit 1 ;;
esac
exit 0
`;

let work = '';

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'vigil-kind-up-'));
  const repo = path.join(work, 'repo');
  mkdirSync(path.join(repo, 'hack'), { recursive: true });
  for (const f of readdirSync(path.join(REPO, 'hack'))) {
    const from = path.join(REPO, 'hack', f);
    if (statSync(from).isFile()) copyFileSync(from, path.join(repo, 'hack', f));
  }
  for (const f of ['package.json', 'kind-config.yaml']) copyFileSync(path.join(REPO, f), path.join(repo, f));
  mkdirSync(path.join(repo, 'bin'));
  mkdirSync(path.join(work, 'stubs'));
  for (const [dir, name] of [
    ['repo/bin', 'kind'],
    ['repo/bin', 'kubectl'],
    ['repo/bin', 'helm'],
    ['stubs', 'docker'],
  ] as const) {
    const file = path.join(work, dir, name);
    writeFileSync(file, STUB);
    chmodSync(file, 0o755);
  }
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  calls: string[];
}

function kindUp(env: Record<string, string>): Run {
  const log = path.join(work, `calls-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, '');
  const { KIND_NODE_IMAGE: _a, VIGIL_SKIP_IMAGE_BUILD: _b, KIND_CLUSTER_NAME: _c, VIGIL_NAMESPACE: _d, ...inherited } = process.env;
  const r = spawnSync('bash', [path.join(work, 'repo', 'hack', 'kind-up.sh')], {
    env: {
      ...inherited,
      PATH: `${path.join(work, 'stubs')}:${process.env.PATH ?? ''}`,
      VIGIL_CACHE: path.join(work, 'cache'),
      STUB_LOG: log,
      STUB_DOCKER_BUILD_HELP: '',
      ...env,
    },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, calls: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

describe('the kind node image pin (hack/versions.env)', () => {
  test('is a kindest/node image pinned by digest, at the minor of the pinned Kubernetes', () => {
    const m = /^kindest\/node:v1\.(\d+)\.\d+@sha256:[0-9a-f]{64}$/.exec(VERSIONS.KINDEST_NODE_IMAGE ?? '');
    expect(m).not.toBeNull();
    expect(`v1.${m?.[1]}`).toBe(/^v1\.\d+/.exec(VERSIONS.KUBERNETES_VERSION ?? '')?.[0]);
  });
});

describe('hack/kind-up.sh', () => {
  test('creates the cluster from the pinned image, builds the images (with --provenance=false where docker build has it) and loads them', () => {
    const r = kindUp({ STUB_DOCKER_BUILD_HELP: 'Options:\n      --provenance string   Shorthand for "--attest=type=provenance"' });
    expect(r.stdout).toContain('Vigil is up');
    expect(r.code).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('kind create'))).toEqual([`kind create cluster --name vigil --config kind-config.yaml --image ${VERSIONS.KINDEST_NODE_IMAGE} --wait 120s`]);
    const builds = r.calls.filter((c) => c.startsWith('docker build -f') || c.startsWith('docker build --provenance'));
    expect(builds.map((c) => c.split(' ').find((w) => w.startsWith('vigil/')))).toEqual(IMAGES);
    for (const b of builds) expect(b).toMatch(/^docker build --provenance=false -f /);
    expect(r.calls.filter((c) => c.startsWith('kind load'))).toEqual(IMAGES.map((i) => `kind load docker-image --name vigil ${i}`));
  });

  test('KIND_NODE_IMAGE replaces the pin; VIGIL_SKIP_IMAGE_BUILD=1 loads the images Docker has without building them', () => {
    const r = kindUp({ KIND_NODE_IMAGE: 'vigil-test/node:local', VIGIL_SKIP_IMAGE_BUILD: '1', KIND_CLUSTER_NAME: 'other' });
    expect(r.code).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('kind create'))).toEqual(['kind create cluster --name other --config kind-config.yaml --image vigil-test/node:local --wait 120s']);
    expect(r.calls.filter((c) => c.startsWith('docker build'))).toEqual([]);
    expect(r.calls.filter((c) => c.startsWith('docker image inspect'))).toEqual(IMAGES.map((i) => `docker image inspect ${i}`));
    expect(r.calls.filter((c) => c.startsWith('kind load'))).toEqual(IMAGES.map((i) => `kind load docker-image --name other ${i}`));
  });

  test('VIGIL_SKIP_IMAGE_BUILD=1 stops before loading when an image is not in Docker, naming it', () => {
    const missing = IMAGES[1] as string;
    const r = kindUp({ VIGIL_SKIP_IMAGE_BUILD: '1', STUB_MISSING_IMAGE: missing });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${missing} is not in the Docker engine`);
    expect(r.calls.filter((c) => c.startsWith('kind load') || c.startsWith('helm'))).toEqual([]);
  });

  test('the legacy builder, whose docker build has no --provenance, gets no such flag', () => {
    const r = kindUp({ STUB_DOCKER_BUILD_HELP: 'Usage:  docker build [OPTIONS] PATH | URL | -' });
    expect(r.code).toBe(0);
    const builds = r.calls.filter((c) => c.startsWith('docker build') && !c.endsWith('--help'));
    expect(builds).toHaveLength(3);
    for (const b of builds) expect(b).toMatch(/^docker build -f /);
  });
});
