// The desired file set of a ConfigMap or Secret, and how it differs from what is on disk.
// Pure functions: the file writer (file-writer.ts) does the I/O.
import { createHash } from 'node:crypto';
import { BUNDLE_KEY, decodeBundle } from '../assemble/config-bundle.js';

/** File name -> content (UTF-8 text: Prometheus and Alertmanager configs are text). */
export type FileSet = Record<string, string>;

export interface ConfigMapLike {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

export interface SecretLike {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/**
 * Why a key cannot become a file in the shared directory, or undefined if it can.
 * Dot-names are reserved for the writer's temp files and the `.last-good/` copy; the API server
 * already limits keys to [-._a-zA-Z0-9], so no `/` can reach here, but the check is cheap.
 */
export function invalidFileKeyReason(key: string): string | undefined {
  if (key === '') return 'is empty';
  if (key.startsWith('.')) return 'starts with "." (reserved for the sync sidecar\'s own files)';
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) return 'may only contain letters, digits, "-", "_" and "."';
  if (key.length > 253) return 'is longer than 253 characters';
  return undefined;
}

export class InvalidFileKeysError extends Error {
  constructor(public readonly problems: string[]) {
    super(`cannot write these keys as files: ${problems.join('; ')}`);
    this.name = 'InvalidFileKeysError';
  }
}

function checkKeys(files: FileSet): FileSet {
  const problems: string[] = [];
  for (const key of Object.keys(files)) {
    const reason = invalidFileKeyReason(key);
    if (reason) problems.push(`key "${key}" ${reason}`);
  }
  if (problems.length > 0) throw new InvalidFileKeysError(problems);
  return files;
}

function checkBase64(key: string, value: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new Error(`key "${key}": data is not valid base64`);
  }
  return Buffer.from(value, 'base64');
}

function decodeBase64Strict(key: string, value: string): string {
  return checkBase64(key, value).toString('utf8');
}

/** The last bundle decoded successfully (the watched object's current one), and its files. */
let lastDecodedBundle: { base64: string; files: FileSet } | undefined;

/**
 * A large config is stored as one gzip bundle under BUNDLE_KEY (operator/assemble/config-bundle.ts).
 * It must then be the only key: a mix would leave it open which of two versions of a file counts.
 */
function filesFromBundle(base64: string, otherKeys: string[]): FileSet {
  if (otherKeys.length > 0) {
    throw new Error(
      `key "${BUNDLE_KEY}" (a compressed bundle of all files) must be the only key, but ${otherKeys.map((k) => `"${k}"`).join(', ')} ${otherKeys.length === 1 ? 'is' : 'are'} present too`,
    );
  }
  // Most watch events of a bundled object only change annotations (the sidecar's own reports, each
  // echoed back): do not inflate and parse the same megabytes again for them.
  if (lastDecodedBundle?.base64 === base64) return { ...lastDecodedBundle.files };
  const files = checkKeys(decodeBundle(checkBase64(BUNDLE_KEY, base64)));
  lastDecodedBundle = { base64, files: { ...files } };
  return files;
}

/**
 * A ConfigMap's files: `data` as is, `binaryData` decoded (both may appear; keys never overlap),
 * or the files inside the compressed bundle when the operator stored one.
 */
export function filesFromConfigMap(cm: ConfigMapLike): FileSet {
  const bundle = cm.binaryData?.[BUNDLE_KEY];
  if (bundle !== undefined) {
    const others = [...Object.keys(cm.data ?? {}), ...Object.keys(cm.binaryData ?? {}).filter((k) => k !== BUNDLE_KEY)];
    return filesFromBundle(bundle, others);
  }
  const files: FileSet = { ...(cm.data ?? {}) };
  for (const [key, value] of Object.entries(cm.binaryData ?? {})) files[key] = decodeBase64Strict(key, value);
  return checkKeys(files);
}

/**
 * A Secret's files: `data` is base64 on the wire. `stringData` is write-only in the API (merged into
 * data by the server) but accepted here too so objects built in tests or by hand decode the same way.
 * A compressed bundle is one `data` key.
 */
export function filesFromSecret(secret: SecretLike): FileSet {
  const bundle = secret.data?.[BUNDLE_KEY];
  if (bundle !== undefined) {
    const others = [...Object.keys(secret.data ?? {}).filter((k) => k !== BUNDLE_KEY), ...Object.keys(secret.stringData ?? {})];
    return filesFromBundle(bundle, others);
  }
  const files: FileSet = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) files[key] = decodeBase64Strict(key, value);
  for (const [key, value] of Object.entries(secret.stringData ?? {})) files[key] = value;
  return checkKeys(files);
}

export interface FileDiff {
  /** Keys to (re)write: new or changed content. Sorted. */
  write: string[];
  /** Files on disk whose keys are gone. Sorted. */
  remove: string[];
}

export function diffFiles(desired: FileSet, current: FileSet): FileDiff {
  const write = Object.keys(desired)
    .filter((key) => current[key] !== desired[key])
    .sort();
  const remove = Object.keys(current)
    .filter((key) => !(key in desired))
    .sort();
  return { write, remove };
}

export function isEmptyDiff(diff: FileDiff): boolean {
  return diff.write.length === 0 && diff.remove.length === 0;
}

/**
 * A deterministic hash of a file set, independent of key order: what the sidecar uses to tell a
 * content change from an annotation-only change, and the hash it reports when the object carries
 * no `vigil.dev/config-hash` from the operator (e.g. written by hand).
 */
export function contentHash(files: FileSet): string {
  const h = createHash('sha256');
  for (const key of Object.keys(files).sort()) {
    const content = files[key] ?? '';
    h.update(`${key}\0${Buffer.byteLength(content)}\0`);
    h.update(content);
  }
  return `sha256:${h.digest('hex').slice(0, 16)}`;
}
