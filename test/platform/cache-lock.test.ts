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

/** Runs `with_cache_lock <entry> section <id>` in its own bash; the section logs start/end around a short sleep. */
function install(id: string, cache: string, withFlock: boolean): Promise<{ code: number | null; stderr: string }> {
  const script = `source "${REPO}/hack/lib.sh"
section() { echo "start $1" >> "$VIGIL_CACHE/order.log"; sleep 0.4; echo "end $1" >> "$VIGIL_CACHE/order.log"; }
with_cache_lock tool-v1 section ${id}`;
  const child = spawn('bash', ['-c', script], {
    env: { PATH: withFlock ? (process.env.PATH ?? '') : noFlockPath, HOME: work, VIGIL_CACHE: cache },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

describe.each(variants)('with_cache_lock with a $lock', ({ withFlock }) => {
  test('two installs of the same entry take turns', async () => {
    const cache = mkdtempSync(path.join(work, 'cache-'));
    const first = install('a', cache, withFlock);
    await new Promise((r) => setTimeout(r, 100));
    const second = install('b', cache, withFlock);
    const results = await Promise.all([first, second]);
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    const order = readFileSync(path.join(cache, 'order.log'), 'utf8').trim().split('\n');
    // Whichever got the lock first ran its section whole before the other started.
    const [x, y] = [order[0]?.slice('start '.length), order[2]?.slice('start '.length)];
    expect(order).toEqual([`start ${x}`, `end ${x}`, `start ${y}`, `end ${y}`]);
    expect([x, y].sort()).toEqual(['a', 'b']);
    expect(results.filter((r) => r.stderr.includes('waiting for another install to finish'))).toHaveLength(1);
    expect(existsSync(path.join(cache, 'locks', 'tool-v1.lock.d'))).toBe(false);
  });
});

test('a lock folder left by a process that is gone is taken over', async () => {
  const cache = mkdtempSync(path.join(work, 'cache-'));
  const gone = spawnSync('bash', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim();
  mkdirSync(path.join(cache, 'locks', 'tool-v1.lock.d'), { recursive: true });
  writeFileSync(path.join(cache, 'locks', 'tool-v1.lock.d', 'pid'), `${gone}\n`);
  const started = Date.now();
  const r = await install('a', cache, false);
  expect(r.code).toBe(0);
  expect(Date.now() - started).toBeLessThan(5000);
  expect(readFileSync(path.join(cache, 'order.log'), 'utf8')).toBe('start a\nend a\n');
  expect(existsSync(path.join(cache, 'locks', 'tool-v1.lock.d'))).toBe(false);
});
