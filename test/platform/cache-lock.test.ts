// with_cache_lock (hack/lib.sh) makes two installs of one cache entry take turns, with flock where the
// machine has it and with a lock folder where it has not (macOS), which a crashed owner does not block.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '..', '..');
/** What lib.sh and the critical section below run; a PATH of only these has no flock. */
const TOOLS = ['bash', 'mkdir', 'rm', 'cat', 'sleep', 'basename', 'dirname', 'uname', 'tr'];

let work = '';
let noFlockPath = '';

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'vigil-cache-lock-'));
  noFlockPath = path.join(work, 'no-flock-bin');
  mkdirSync(noFlockPath);
  for (const tool of TOOLS) {
    const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(found, path.join(noFlockPath, tool));
  }
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const hasFlock = spawnSync('bash', ['-c', 'command -v flock'], { encoding: 'utf8' }).status === 0;
const variants = [{ lock: 'lock folder (no flock)', withFlock: false }, ...(hasFlock ? [{ lock: 'flock', withFlock: true }] : [])];

/**
 * Runs `with_cache_lock <entry> section <id>` in its own bash; the section logs start, holds until the
 * file release-<id> exists in the cache, then logs end. `stderr` is what the install has written so far.
 */
function install(id: string, cache: string, withFlock: boolean): { done: Promise<{ code: number | null; stderr: string }>; stderr: () => string } {
  const script = `source "${REPO}/hack/lib.sh"
section() { echo "start $1" >> "$VIGIL_CACHE/order.log"; until [ -e "$VIGIL_CACHE/release-$1" ]; do sleep 0.05; done; echo "end $1" >> "$VIGIL_CACHE/order.log"; }
with_cache_lock tool-v1 section ${id}`;
  const child = spawn('bash', ['-c', script], {
    env: { PATH: withFlock ? (process.env.PATH ?? '') : noFlockPath, HOME: work, VIGIL_CACHE: cache },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return { done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr }))), stderr: () => stderr };
}

/** Waits (polling, up to 60 s) until `check` holds. */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const readOrder = (cache: string) => (existsSync(path.join(cache, 'order.log')) ? readFileSync(path.join(cache, 'order.log'), 'utf8') : '');

describe.each(variants)('with_cache_lock with a $lock', ({ withFlock }) => {
  test('two installs of the same entry take turns', async () => {
    const cache = mkdtempSync(path.join(work, 'cache-'));
    // a holds the lock (its section has started) before b starts; a ends only once b says it waits.
    const first = install('a', cache, withFlock);
    await until('install a to enter its section', () => readOrder(cache) === 'start a\n');
    const second = install('b', cache, withFlock);
    await until('install b to wait for the lock', () => second.stderr().includes('waiting for another install to finish'));
    expect(readOrder(cache)).toBe('start a\n');
    writeFileSync(path.join(cache, 'release-a'), '');
    writeFileSync(path.join(cache, 'release-b'), '');
    const results = await Promise.all([first.done, second.done]);
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    expect(readOrder(cache)).toBe('start a\nend a\nstart b\nend b\n');
    expect(results[0]?.stderr).not.toContain('waiting for another install to finish');
    expect(existsSync(path.join(cache, 'locks', 'tool-v1.lock.d'))).toBe(false);
  });
});

test('a lock folder left by a process that is gone is taken over', async () => {
  const cache = mkdtempSync(path.join(work, 'cache-'));
  const gone = spawnSync('bash', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim();
  mkdirSync(path.join(cache, 'locks', 'tool-v1.lock.d'), { recursive: true });
  writeFileSync(path.join(cache, 'locks', 'tool-v1.lock.d', 'pid'), `${gone}\n`);
  writeFileSync(path.join(cache, 'release-a'), '');
  const r = await install('a', cache, false).done;
  expect(r.code).toBe(0);
  // Taken over at once: a wait for the gone owner would say so on stderr.
  expect(r.stderr).not.toContain('waiting for another install to finish');
  expect(readFileSync(path.join(cache, 'order.log'), 'utf8')).toBe('start a\nend a\n');
  expect(existsSync(path.join(cache, 'locks', 'tool-v1.lock.d'))).toBe(false);
});
