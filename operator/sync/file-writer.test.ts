import { mkdtemp, readdir, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAST_GOOD_DIR, loadLastGood, readDirFiles, removeStaleTempFiles, saveLastGood, syncDirectory } from './file-writer.js';

describe('file writer (real filesystem)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-sync-fw-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes all files, then only changed ones, and removes vanished keys', async () => {
    expect(await syncDirectory(dir, { 'prometheus.yml': 'a', 'x.rules.yaml': 'b' })).toEqual({ write: ['prometheus.yml', 'x.rules.yaml'], remove: [] });
    const before = await stat(join(dir, 'prometheus.yml'));
    expect(await syncDirectory(dir, { 'prometheus.yml': 'a', 'y.rules.yaml': 'c' })).toEqual({ write: ['y.rules.yaml'], remove: ['x.rules.yaml'] });
    // Unchanged file untouched (same inode: not rewritten).
    expect((await stat(join(dir, 'prometheus.yml'))).ino).toBe(before.ino);
    expect(await readDirFiles(dir)).toEqual({ 'prometheus.yml': 'a', 'y.rules.yaml': 'c' });
    // No temp files left behind.
    expect((await readdir(dir)).sort()).toEqual(['prometheus.yml', 'y.rules.yaml']);
  });

  it('writes and replaces a file whose name is the longest ConfigMap key (253 characters)', async () => {
    // The longest rule file name Vigil renders: a 63-character namespace, "__", a 177-character name, ".rules.yaml".
    const key = `${'n'.repeat(63)}__${'a'.repeat(177)}.rules.yaml`;
    expect(key).toHaveLength(253);
    await syncDirectory(dir, { [key]: 'v1' });
    await syncDirectory(dir, { [key]: 'v2' });
    await saveLastGood(dir, { [key]: 'v2' });
    expect(await readDirFiles(dir)).toEqual({ [key]: 'v2' });
    expect(await loadLastGood(dir)).toEqual({ [key]: 'v2' });
  });

  it('replaces a changed file by rename (new inode), never truncating in place', async () => {
    await syncDirectory(dir, { 'prometheus.yml': 'old' });
    const before = await stat(join(dir, 'prometheus.yml'));
    await syncDirectory(dir, { 'prometheus.yml': 'new' });
    const after = await stat(join(dir, 'prometheus.yml'));
    expect(after.ino).not.toBe(before.ino);
    expect(await readFile(join(dir, 'prometheus.yml'), 'utf8')).toBe('new');
  });

  it('applies the requested file mode regardless of umask', async () => {
    await syncDirectory(dir, { 'alertmanager.yml': 'x' }, { mode: 0o640 });
    expect((await stat(join(dir, 'alertmanager.yml'))).mode & 0o777).toBe(0o640);
  });

  it('creates a missing directory and ignores dot-files and subdirectories when reading', async () => {
    const nested = join(dir, 'nested');
    await syncDirectory(nested, { a: '1' });
    await writeFile(join(nested, '.hidden'), 'h');
    await mkdir(join(nested, 'sub'));
    expect(await readDirFiles(nested)).toEqual({ a: '1' });
    expect(await readDirFiles(join(dir, 'missing'))).toEqual({});
  });

  it('keeps a last good copy in .last-good/ that does not disturb the served files', async () => {
    expect(await loadLastGood(dir)).toBeUndefined();
    await syncDirectory(dir, { 'prometheus.yml': 'good' });
    await saveLastGood(dir, { 'prometheus.yml': 'good', 'r.rules.yaml': 'rules' });
    expect(await loadLastGood(dir)).toEqual({ 'prometheus.yml': 'good', 'r.rules.yaml': 'rules' });
    await saveLastGood(dir, { 'prometheus.yml': 'good2' });
    expect(await loadLastGood(dir)).toEqual({ 'prometheus.yml': 'good2' });
    expect((await readdir(dir)).sort()).toEqual([LAST_GOOD_DIR, 'prometheus.yml']);
    expect(await readDirFiles(dir)).toEqual({ 'prometheus.yml': 'good' });
  });

  it('removes leftovers of a process killed mid-write', async () => {
    await writeFile(join(dir, '.prometheus.yml.tmp-123-abcd0123'), 'partial');
    await mkdir(join(dir, `${LAST_GOOD_DIR}.new-123-abcd0123`));
    await writeFile(join(dir, 'prometheus.yml'), 'keep');
    await removeStaleTempFiles(dir);
    expect(await readdir(dir)).toEqual(['prometheus.yml']);
  });
});
