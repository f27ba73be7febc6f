// Writes a file set into the directory the server reads, so that the server never sees a
// half-written file: each file goes to a temp name in the same directory (same filesystem) and is
// renamed over the old one. Only files whose content changed are touched; files of keys that
// disappeared are removed. A copy of the last config the server accepted lives in `.last-good/`
// so that a restarted Prometheus/Alertmanager (which reads the directory at start) still starts.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { diffFiles, type FileDiff, type FileSet } from './files.js';

export const LAST_GOOD_DIR = '.last-good';

/** The server's files in `dir`: regular files not starting with "." (ours are all dot-names). */
export async function readDirFiles(dir: string): Promise<FileSet> {
  const files: FileSet = {};
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return files;
    throw err;
  }
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.startsWith('.')) continue;
    files[entry.name] = await readFile(join(dir, entry.name), 'utf8');
  }
  return files;
}

/**
 * A hidden temp name beside `key`. A file name may have 255 bytes and a ConfigMap key 253 (ASCII):
 * the key is cut to its first 200 characters so that the suffix always fits.
 */
function tempName(key: string): string {
  return `.${key.slice(0, 200)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

async function writeFileDurably(path: string, content: string, mode: number): Promise<void> {
  const handle = await open(path, 'w', mode);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.chmod(mode); // open() applies the umask; the server may run as another user
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeAtomically(dir: string, key: string, content: string, mode: number): Promise<void> {
  const temp = join(dir, tempName(key));
  try {
    await writeFileDurably(temp, content, mode);
    await rename(temp, join(dir, key));
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

export interface WriteOptions {
  /** File permission bits; 0o644 for a ConfigMap, tighter for a Secret. */
  mode?: number;
}

/** Makes `dir` hold exactly `desired` (besides dot-files); returns what changed. */
export async function syncDirectory(dir: string, desired: FileSet, options: WriteOptions = {}): Promise<FileDiff> {
  const mode = options.mode ?? 0o644;
  await mkdir(dir, { recursive: true });
  const diff = diffFiles(desired, await readDirFiles(dir));
  // New and changed files first, removals last: at no point does a file that the current config
  // references go missing while the new one is still incomplete.
  for (const key of diff.write) await writeAtomically(dir, key, desired[key] ?? '', mode);
  for (const key of diff.remove)
    await unlink(join(dir, key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  return diff;
}

/** Replaces `.last-good/` with `files`: built beside it, then swapped in with renames. */
export async function saveLastGood(dir: string, files: FileSet, options: WriteOptions = {}): Promise<void> {
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const building = join(dir, `${LAST_GOOD_DIR}.new-${suffix}`);
  const retired = join(dir, `${LAST_GOOD_DIR}.old-${suffix}`);
  const target = join(dir, LAST_GOOD_DIR);
  try {
    await mkdir(building, { recursive: true, mode: 0o755 });
    await syncDirectory(building, files, options);
    await rename(target, retired).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rename(building, target);
  } finally {
    await rm(building, { recursive: true, force: true });
    await rm(retired, { recursive: true, force: true });
  }
}

/** The saved last good set, or undefined when there is none (first start of the pod). */
export async function loadLastGood(dir: string): Promise<FileSet | undefined> {
  const files = await readDirFiles(join(dir, LAST_GOOD_DIR));
  return Object.keys(files).length > 0 ? files : undefined;
}

/** Leftovers of an earlier process killed mid-write (temp files, half-built `.last-good.new-*`). */
export async function removeStaleTempFiles(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (/^\..+\.tmp-\d+-[0-9a-f]+$/.test(name) || name.startsWith(`${LAST_GOOD_DIR}.new-`) || name.startsWith(`${LAST_GOOD_DIR}.old-`)) {
      await rm(join(dir, name), { recursive: true, force: true });
    }
  }
}
