// Reproduces a multi-stage image build of one of Vigil's Dockerfiles in a folder: every stage gets
// its own root folder (container path /src -> <root>/<stage>/src), COPY copies from the build
// context (filtered by .dockerignore) or from an earlier stage, and the few RUN commands the
// Dockerfiles use are run for real, with Node 24 first on PATH. The result is the final stage's
// WORKDIR with exactly what the image would hold there; the base image's Node is replaced by the
// repository's Node 24 (node-<os>-<arch> from npm, the same version as the node:<NODE_VERSION> base image).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { dockerignore, parseCopy, parseDockerfile, runCommands, type Dockerfile, type Stage } from './dockerfile.js';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const NODE24_BIN_DIR = path.join(REPO_ROOT, 'node_modules', `node-${process.platform}-${process.arch}`, 'bin');
export const NODE24 = path.join(NODE24_BIN_DIR, 'node');

export function versionsEnv(): Record<string, string> {
  const text = readFileSync(path.join(REPO_ROOT, 'hack', 'versions.env'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1] as string, m[2] as string]),
  );
}

/** Environment for build commands: this machine's, minus Node flags meant for jest, Node 24 first. */
function buildEnv(stageEnv: Record<string, string>): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _jestFlags, NODE_PATH: _noGlobalModules, ...inherited } = process.env;
  return { ...inherited, ...stageEnv, PATH: `${NODE24_BIN_DIR}:${process.env.PATH ?? '/usr/bin:/bin'}` };
}

export interface ReproducedImage {
  dockerfile: Dockerfile;
  final: Stage;
  /** Host folder standing for the final stage's WORKDIR. */
  appDir: string;
  /** Container WORKDIR of the final stage (e.g. /app). */
  workdir: string;
  env: Record<string, string>;
  user?: string;
  entrypoint: string[];
  cmd: string[];
  /** What each final-stage COPY brought in, as container paths (for the report and assertions). */
  copied: string[];
  /** Each RUN command of the final stage and how it was reproduced. */
  runs: Array<{ command: string; reproduced: 'ran' | 'skipped: cache cleanup' | 'linked: full dev install' }>;
}

interface StageState {
  root: string;
  workdir: string;
  env: Record<string, string>;
}

/** Copy honouring .dockerignore (paths relative to the context) and keeping file modes. */
function copyFromContext(src: string, dest: string, contextRelative: string, isIgnored: (p: string) => boolean): void {
  if (isIgnored(contextRelative)) return;
  const info = lstatSync(src);
  if (info.isDirectory()) {
    mkdirSync(dest, { recursive: true });
    for (const entry of readdirSync(src).sort()) copyFromContext(path.join(src, entry), path.join(dest, entry), `${contextRelative}/${entry}`, isIgnored);
  } else {
    mkdirSync(path.dirname(dest), { recursive: true });
    cpSync(src, dest, { preserveTimestamps: true, verbatimSymlinks: true });
  }
}

/** Docker's COPY destination rules: a folder when it ends in `/` or there are several sources. */
function copyTarget(dest: string, source: string, sourceIsDir: boolean, many: boolean): string {
  if (sourceIsDir) return dest;
  return dest.endsWith('/') || many || (existsSync(dest) && lstatSync(dest).isDirectory()) ? path.join(dest, path.basename(source)) : dest;
}

function hashKey(parts: string[]): string {
  return parts.join('\u0000');
}

/**
 * Runs the build. `reuse` shares identical stages and identical production installs between
 * images (both Dockerfiles have the same build stage and the same `npm ci --omit=dev`): such a
 * stage is reproduced once and hard-linked, which is what Docker's layer cache would do too.
 */
export function reproduceImage(dockerfileRelative: string, workRoot: string, reuse: Map<string, string> = new Map()): ReproducedImage {
  const dockerfilePath = path.join(REPO_ROOT, dockerfileRelative);
  const versions = versionsEnv();
  const dockerfile = parseDockerfile(readFileSync(dockerfilePath, 'utf8'), versions);
  const ignoreFile = path.join(REPO_ROOT, '.dockerignore');
  const isIgnored = dockerignore(existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8') : '');
  const imageRoot = path.join(workRoot, path.dirname(dockerfileRelative).replace(/\//g, '_'));
  const states = new Map<string, StageState>();
  let last: StageState | undefined;
  let finalCopied: string[] = [];
  let finalRuns: ReproducedImage['runs'] = [];
  let user: string | undefined;
  let entrypoint: string[] = [];
  let cmd: string[] = [];

  dockerfile.stages.forEach((stage, index) => {
    const isFinal = index === dockerfile.stages.length - 1;
    const state: StageState = { root: path.join(imageRoot, `stage-${stage.name}`), workdir: '/', env: {} };
    mkdirSync(state.root, { recursive: true });
    const host = (containerPath: string) => path.join(state.root, path.posix.resolve(state.workdir, containerPath));
    // The stage's instructions so far: identical prefixes (same context files) give identical results.
    const history: string[] = [stage.baseImage];
    const copied: string[] = [];
    const runs: ReproducedImage['runs'] = [];
    // USER, ENTRYPOINT and CMD of earlier stages do not reach the image.
    user = undefined;
    entrypoint = [];
    cmd = [];

    for (const instruction of stage.instructions) {
      history.push(`${instruction.keyword} ${instruction.rest}`);
      switch (instruction.keyword) {
        case 'WORKDIR':
          state.workdir = path.posix.resolve(state.workdir, instruction.rest);
          mkdirSync(host('.'), { recursive: true });
          break;
        case 'ENV': {
          const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=|\s+)(.*)$/.exec(instruction.rest);
          if (!m || /\s/.test((m[2] as string).trim())) throw new Error(`ENV form not supported by the image test: ${instruction.rest}`);
          state.env[m[1] as string] = (m[2] as string).trim();
          break;
        }
        case 'USER':
          user = instruction.rest.trim();
          break;
        case 'ENTRYPOINT':
        case 'CMD': {
          if (!instruction.exec) throw new Error(`${instruction.keyword} must use the exec (JSON) form so signals reach Node: ${instruction.rest}`);
          if (instruction.keyword === 'ENTRYPOINT') entrypoint = instruction.exec;
          else cmd = instruction.exec;
          break;
        }
        case 'EXPOSE':
        case 'LABEL':
        case 'ARG':
          break;
        case 'COPY': {
          const copy = parseCopy(instruction);
          const many = copy.sources.length > 1;
          for (const source of copy.sources) {
            let src: string;
            if (copy.from !== undefined) {
              const from = states.get(copy.from);
              if (!from) throw new Error(`COPY --from=${copy.from}: no such earlier stage`);
              src = path.join(from.root, path.posix.resolve(from.workdir, source));
            } else {
              src = path.join(REPO_ROOT, source);
            }
            if (!existsSync(src)) throw new Error(`${dockerfileRelative}: COPY ${copy.from ? `--from=${copy.from} ` : ''}${source}: not found (${src})`);
            const isDir = lstatSync(src).isDirectory();
            const target = copyTarget(host(copy.dest), src, isDir, many);
            if (copy.from !== undefined) cpSync(src, target, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
            else copyFromContext(src, target, path.posix.normalize(source).replace(/\/$/, ''), isIgnored);
            copied.push(path.posix.join('/', path.relative(state.root, target)));
          }
          // Context files are part of the cache key, as in Docker.
          for (const source of copy.sources) if (copy.from === undefined) history.push(readIfFile(path.join(REPO_ROOT, source)));
          break;
        }
        case 'RUN':
          for (const argv of runCommands(instruction)) runs.push(reproduceRun(argv, state, host('.'), history, reuse));
          break;
        default:
          throw new Error(`${dockerfileRelative}: instruction ${instruction.keyword} is not reproduced by the image test; teach test/images/reproduce.ts`);
      }
    }
    states.set(stage.name, state);
    states.set(String(index), state); // COPY --from=<index> works too
    last = state;
    if (isFinal) {
      finalCopied = copied;
      finalRuns = runs;
    }
  });

  const final = last as StageState;
  const appDir = path.join(final.root, final.workdir);
  // USER 65534 must be able to reach the image's files, as in a container.
  for (let dir = appDir; dir.startsWith(workRoot); dir = path.dirname(dir)) chmodSync(dir, 0o755);
  return {
    dockerfile,
    final: dockerfile.stages[dockerfile.stages.length - 1] as Stage,
    appDir,
    workdir: final.workdir,
    env: final.env,
    ...(user === undefined ? {} : { user }),
    entrypoint,
    cmd,
    copied: finalCopied,
    runs: finalRuns,
  };
}

function readIfFile(p: string): string {
  return existsSync(p) && lstatSync(p).isFile() ? readFileSync(p, 'utf8') : p;
}

const CACHE_CLEANUP = [
  ['npm', 'cache', 'clean', '--force'],
  ['rm', '-rf', '/root/.npm'],
];

function reproduceRun(argv: string[], state: StageState, cwd: string, history: string[], reuse: Map<string, string>): ReproducedImage['runs'][number] {
  const command = argv.join(' ');
  // Image-size cleanups; running them here would wipe this machine's shared npm cache.
  if (CACHE_CLEANUP.some((c) => c.join(' ') === command)) return { command, reproduced: 'skipped: cache cleanup' };

  if (argv[0] === 'npm' && argv[1] === 'ci' && !argv.includes('--omit=dev') && state.env.NODE_ENV !== 'production') {
    // The build stage's full install is the checkout's own node_modules (`make deps` runs npm ci
    // from the same lock file); linking it saves a minute and a second copy of 440 MB.
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(cwd, 'node_modules'));
    return { command, reproduced: 'linked: full dev install' };
  }

  const key = hashKey([...history, cwd.slice(state.root.length)]);
  const earlier = reuse.get(key);
  if (earlier !== undefined && argv[0] === 'npm' && argv[1] === 'ci') {
    execFileSync('cp', ['-al', path.join(earlier, 'node_modules'), path.join(cwd, 'node_modules')]);
    return { command, reproduced: 'ran' };
  }
  if (earlier !== undefined && argv[0] === 'npm' && argv[1] === 'run') {
    execFileSync('cp', ['-al', path.join(earlier, 'dist'), path.join(cwd, 'dist')]);
    return { command, reproduced: 'ran' };
  }
  if (argv[0] !== 'npm' || !['ci', 'run'].includes(argv[1] ?? '')) {
    throw new Error(`RUN ${command}: not reproduced by the image test; teach test/images/reproduce.ts`);
  }
  const result = spawnSync(argv[0], argv.slice(1), { cwd, env: buildEnv(state.env), encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) {
    throw new Error(`RUN ${command} failed (exit ${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
  reuse.set(key, cwd);
  return { command, reproduced: 'ran' };
}
