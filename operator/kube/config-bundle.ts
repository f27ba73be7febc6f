// How a generated file set is stored in its ConfigMap/Secret, and read back by the sync sidecar.
//
// kube-apiserver refuses a ConfigMap or Secret whose data (decoded) exceeds 1 MiB. Plain, the
// rendered config of ~370 MonitoredServices already reaches that (about 2.7 KB of rule file and
// scrape job each). The rendered YAML is highly repetitive, so the operator stores a large file set
// as ONE gzip-compressed JSON bundle under a single key: 2,000 services are 5.4 MB plain and about
// 120 KB compressed. The object, its name, its hash annotation, the sidecar's watch of that one
// object and RBAC by resourceNames stay as they were; only the encoding of the data changes, and
// the sidecar decodes it before writing the files, so Prometheus/Alertmanager see the same files.
//
// Small configs stay plain (one key per file) so that `kubectl get cm -o yaml` remains readable
// where reading it is practical; beyond PLAIN_LIMIT_BYTES nobody reads the YAML by eye, while every
// watch event (each sidecar annotation patch echoes the whole object to the operator and the
// sidecar) and every etcd revision carries all of it, so compression pays off from there.
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib';

/** File name -> UTF-8 content, as rendered (RenderedConfig.prometheus / .alertmanager). */
export type FileSet = Record<string, string>;

import { BUNDLE_FORMAT, BUNDLE_KEY } from '../contract.js';

/** Defined in operator/contract.ts (docs/contract.md). */
export { BUNDLE_FORMAT, BUNDLE_KEY };

/** kube-apiserver's limit is 1 MiB of decoded data per ConfigMap/Secret; stay a little below. */
export const MAX_OBJECT_DATA_BYTES = 1_000_000;
/** Plain up to this many bytes of keys + contents; compressed above. */
export const PLAIN_LIMIT_BYTES = 256 * 1024;
/**
 * Upper bound on a bundle's decompressed size: the sidecar refuses to inflate more (a corrupted or
 * hostile object must not exhaust its memory), so the operator refuses to write more. 2,000
 * services are 5.4 MB.
 */
export const MAX_BUNDLE_PLAIN_BYTES = 64 * 1024 * 1024;

export type EncodedFiles =
  | { ok: true; form: 'plain'; files: FileSet; bytes: number }
  | { ok: true; form: 'bundle'; bundle: Buffer; bytes: number; plainBytes: number }
  | { ok: false; plainBytes: number; compressedBytes?: number; message: string };

/** What the API server counts against its limit for plain data: keys and UTF-8 values. */
export function plainDataBytes(files: FileSet): number {
  let total = 0;
  for (const [key, value] of Object.entries(files)) total += Buffer.byteLength(key) + Buffer.byteLength(value);
  return total;
}

/** gzip of the canonical JSON (keys sorted): the same file set always gives the same bytes. */
export function gzipBundle(files: FileSet): Buffer {
  const sorted: FileSet = {};
  for (const key of Object.keys(files).sort()) sorted[key] = files[key] as string;
  const json = JSON.stringify({ format: BUNDLE_FORMAT, files: sorted });
  return gzipSync(Buffer.from(json, 'utf8'), { level: zlibConstants.Z_BEST_COMPRESSION });
}

export interface EncodeLimits {
  plainLimitBytes?: number;
  maxObjectBytes?: number;
  maxBundlePlainBytes?: number;
}

/** Chooses the stored form of a file set, or says in words why it cannot be stored at all. */
export function encodeFileSet(files: FileSet, limits: EncodeLimits = {}): EncodedFiles {
  const plainLimit = limits.plainLimitBytes ?? PLAIN_LIMIT_BYTES;
  const maxObject = limits.maxObjectBytes ?? MAX_OBJECT_DATA_BYTES;
  const maxPlainInBundle = limits.maxBundlePlainBytes ?? MAX_BUNDLE_PLAIN_BYTES;
  const plainBytes = plainDataBytes(files);
  if (plainBytes <= plainLimit && plainBytes <= maxObject) return { ok: true, form: 'plain', files, bytes: plainBytes };
  if (plainBytes > maxPlainInBundle) {
    return {
      ok: false,
      plainBytes,
      message: `${plainBytes} bytes uncompressed, over the ${maxPlainInBundle}-byte limit the sync sidecar accepts for a compressed bundle`,
    };
  }
  const bundle = gzipBundle(files);
  const bytes = Buffer.byteLength(BUNDLE_KEY) + bundle.length;
  if (bytes > maxObject) {
    return {
      ok: false,
      plainBytes,
      compressedBytes: bytes,
      message: `${bytes} bytes even gzip-compressed (${plainBytes} uncompressed), over the ${maxObject}-byte limit of one Kubernetes object`,
    };
  }
  return { ok: true, form: 'bundle', bundle, bytes, plainBytes };
}

export class BundleError extends Error {
  constructor(message: string) {
    super(`key "${BUNDLE_KEY}": ${message}`);
    this.name = 'BundleError';
  }
}

/** The file set inside a bundle; throws BundleError naming what is wrong with it. */
export function decodeBundle(bundle: Buffer, maxPlainBytes = MAX_BUNDLE_PLAIN_BYTES): FileSet {
  let json: string;
  try {
    json = gunzipSync(bundle, { maxOutputLength: maxPlainBytes }).toString('utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE') throw new BundleError(`decompresses to more than ${maxPlainBytes} bytes; refusing it`);
    throw new BundleError(`not valid gzip data (${e.message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new BundleError(`does not hold JSON (${(err as Error).message})`);
  }
  const doc = parsed as { format?: unknown; files?: unknown } | null;
  if (!doc || typeof doc !== 'object' || doc.format !== BUNDLE_FORMAT) {
    throw new BundleError(`format ${JSON.stringify(doc?.format ?? null)} is not ${BUNDLE_FORMAT} (written by a newer operator?)`);
  }
  if (!doc.files || typeof doc.files !== 'object' || Array.isArray(doc.files)) throw new BundleError('has no "files" object');
  const files: FileSet = {};
  for (const [key, value] of Object.entries(doc.files as Record<string, unknown>)) {
    if (typeof value !== 'string') throw new BundleError(`file "${key}" is not a string`);
    files[key] = value;
  }
  return files;
}

/**
 * The stored data of a ConfigMap for an encoded file set: `data` when plain, one `binaryData`
 * key when bundled (the other field absent, so a replace drops the keys of the other form).
 */
export function configMapPayload(encoded: Extract<EncodedFiles, { ok: true }>): { data?: Record<string, string>; binaryData?: Record<string, string> } {
  return encoded.form === 'plain' ? { data: encoded.files } : { binaryData: { [BUNDLE_KEY]: encoded.bundle.toString('base64') } };
}

/** The `data` of a Secret (base64 values, as on the wire) for an encoded file set. */
export function secretPayload(encoded: Extract<EncodedFiles, { ok: true }>): Record<string, string> {
  if (encoded.form === 'bundle') return { [BUNDLE_KEY]: encoded.bundle.toString('base64') };
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(encoded.files)) data[k] = Buffer.from(v, 'utf8').toString('base64');
  return data;
}
