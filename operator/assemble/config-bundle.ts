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
import { crc32, deflateRawSync, gunzipSync, constants as zlibConstants } from 'node:zlib';

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
  /** A bundle's plainBytes: the size of the JSON it decompresses to (what the sidecar limits). */
  | { ok: true; form: 'bundle'; bundle: Buffer; bytes: number; plainBytes: number }
  | { ok: false; plainBytes: number; compressedBytes?: number; message: string };

/** What the API server counts against its limit for plain data: keys and UTF-8 values. */
export function plainDataBytes(files: FileSet): number {
  let total = 0;
  for (const [key, value] of Object.entries(files)) total += Buffer.byteLength(key) + Buffer.byteLength(value);
  return total;
}

/**
 * The canonical JSON of a file set (keys sorted in code-unit order) cut into members: a member's
 * JSON text is its parts joined, even-index parts as they are (JSON syntax), odd-index parts
 * JSON-escaped (file text). Joined in order, the members give exactly
 * `JSON.stringify({ format, files })` of the sorted file set.
 *
 * Why members (issue #13): compressing the whole 36 MB of 10,000 services on every change cost
 * ~0.5 s. The bundle is still one gzip stream, but built the way pigz builds it: each member is
 * deflated on its own (raw deflate, ending on a byte boundary with a sync flush) with the 32 KB
 * that precede it as the preset dictionary, so the joined deflate data is one valid stream that
 * compresses as well as deflating the whole at once (back-references reach into the previous
 * member exactly as they would), and the controller can keep each member's deflated bytes and
 * deflate again only the members whose text (or the 32 KB before it) changed
 * (assemble/service-cache.ts MemberCache). The cuts are content-defined so that one change moves
 * no other cut: a member ends before a unit (a whole file, or for a file over SPLIT_FILE_CHARS one
 * top-level list item: a scrape job, a receiver) whose leading text hashes to 0 modulo
 * MEMBER_UNITS, or once it holds MAX_MEMBER_CHARS. A pure function of the file set.
 */
export function bundleMembers(files: FileSet): BundleMember[] {
  const members: BundleMember[] = [];
  let parts: string[] = [];
  let split = false;
  let chars = 0;
  let syntax = `{"format":${JSON.stringify(BUNDLE_FORMAT)},"files":{`;
  const unit = (text: string, fromSplit: boolean) => {
    if (parts.length > 0 && (chars >= MAX_MEMBER_CHARS || boundaryHash(syntax, text) % MEMBER_UNITS === 0)) {
      members.push({ parts, fromSplit: split });
      parts = [];
      split = false;
      chars = 0;
    }
    parts.push(syntax, text);
    split ||= fromSplit;
    chars += syntax.length + text.length;
    syntax = '';
  };
  Object.keys(files)
    .sort()
    .forEach((name, i) => {
      syntax += `${i > 0 ? ',' : ''}${JSON.stringify(name)}:"`;
      const content = files[name] as string;
      const cuts = content.length > SPLIT_FILE_CHARS ? itemStarts(content) : [];
      let from = 0;
      for (const cut of cuts) {
        unit(content.slice(from, cut), true);
        from = cut;
      }
      unit(from === 0 ? content : content.slice(from), cuts.length > 0);
      syntax = '"';
    });
  parts.push(`${syntax}}}`);
  members.push({ parts, fromSplit: split });
  return members;
}

/** Parts of one bundle member (bundleMembers); fromSplit: some text parts are slices of a larger file. */
export interface BundleMember {
  parts: string[];
  fromSplit: boolean;
}

/** Average number of units (files, list items of big files) per member. */
const MEMBER_UNITS = 128;
/** A member is cut after this many characters of parts whatever the content. */
const MAX_MEMBER_CHARS = 1024 * 1024;
/** Files longer than this are cut at their top-level list items (prometheus.yml, alertmanager.yml). */
const SPLIT_FILE_CHARS = 64 * 1024;
/** A block-sequence item under a top-level key, as `yaml` writes it (render/yaml-fragments.ts). */
const ITEM_START = '\n  - ';
/** Deflate's window: what a member may refer back to. */
const WINDOW_BYTES = 32 * 1024;

/** Offsets where a top-level list item starts (after its newline), in order. */
function itemStarts(content: string): number[] {
  const starts: number[] = [];
  for (let at = content.indexOf(ITEM_START); at !== -1; at = content.indexOf(ITEM_START, at + 1)) starts.push(at + 1);
  return starts;
}

/** FNV-1a over a unit's syntax and first 100 characters: where members are cut. */
function boundaryHash(syntax: string, text: string): number {
  let h = 0x811c9dc5;
  // Over both strings in turn, not their concatenation: 30,000 units per reconcile at 10,000 services.
  for (let i = 0; i < syntax.length; i++) h = Math.imul(h ^ syntax.charCodeAt(i), 0x01000193);
  const end = Math.min(text.length, 100);
  for (let i = 0; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The JSON text of a member: syntax parts as they are, text parts escaped. */
export function memberJson(member: BundleMember): string {
  return member.parts.map((p, i) => (i % 2 === 1 ? JSON.stringify(p).slice(1, -1) : p)).join('');
}

/** One member deflated, with what the next member and the gzip trailer need. */
export interface DeflatedMember {
  /** Raw deflate blocks, not final, ending byte-aligned (sync flush). */
  deflated: Buffer;
  /** CRC-32 and length of the member's plain (UTF-8) bytes. */
  crc: number;
  length: number;
  /** The last WINDOW_BYTES plain bytes of the stream up to and including this member. */
  tail: Buffer;
}

/** Deflates one member after the stream's previous `tail` (its dictionary). The controller memoises it. */
export type MemberCompressor = (member: BundleMember, tail: Buffer) => DeflatedMember;

export const compressMember: MemberCompressor = (member, tail) => {
  const plain = Buffer.from(memberJson(member), 'utf8');
  const deflated = deflateRawSync(plain, {
    level: zlibConstants.Z_BEST_COMPRESSION,
    finishFlush: zlibConstants.Z_SYNC_FLUSH,
    ...(tail.length > 0 ? { dictionary: tail } : {}),
  });
  const joined = plain.length >= WINDOW_BYTES ? plain : Buffer.concat([tail, plain]);
  return { deflated, crc: crc32(plain), length: plain.length, tail: Buffer.from(joined.subarray(Math.max(0, joined.length - WINDOW_BYTES))) };
};

/** gzip header (RFC 1952): deflate, no name, mtime 0, Unix: the same bytes for the same files. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);
/** A final empty fixed-Huffman deflate block: ends the stream. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/** The bundle of a file set: one gzip stream of its members; the same files always give the same bytes. */
export function gzipBundle(files: FileSet, compress: MemberCompressor = compressMember): Buffer {
  return bundleWithLength(files, compress).bundle;
}

/** gzipBundle, with the length of the JSON it decompresses to (from its members: the gzip trailer's ISIZE before the modulo). */
function bundleWithLength(files: FileSet, compress: MemberCompressor): { bundle: Buffer; plainBytes: number } {
  let tail: Buffer = Buffer.alloc(0);
  let crc = 0;
  let length = 0;
  const chunks: Buffer[] = [GZIP_HEADER];
  for (const member of bundleMembers(files)) {
    const d = compress(member, tail);
    chunks.push(d.deflated);
    crc = crc32Combine(crc, d.crc, d.length);
    length += d.length;
    tail = d.tail;
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc, 0);
  trailer.writeUInt32LE(length % 2 ** 32, 4);
  chunks.push(FINAL_BLOCK, trailer);
  return { bundle: Buffer.concat(chunks), plainBytes: length };
}

/** The CRC-32 polynomial, reflected. */
const CRC32_POLY = 0xedb88320;

/** a(x) * b(x) modulo the CRC-32 polynomial, in the reflected bit order CRC-32 uses (zlib's multmodp). */
function multModP(a: number, b: number): number {
  let product = 0;
  let bb = b >>> 0;
  for (let m = 0x80000000; m !== 0; m >>>= 1) {
    if (a & m) {
      product ^= bb;
      if ((a & (m - 1)) === 0) break;
    }
    bb = bb & 1 ? (bb >>> 1) ^ CRC32_POLY : bb >>> 1;
  }
  return product >>> 0;
}

/** X2N[k] = x^(2^k) modulo the polynomial (zlib's x2n_table). */
const X2N = (() => {
  const table = new Uint32Array(32);
  let p = 0x40000000; // x^1
  table[0] = p;
  for (let k = 1; k < 32; k++) table[k] = p = multModP(p, p);
  return table;
})();

/**
 * zlib's crc32_combine (its current form, which multiplies by x^(8n) modulo the polynomial instead
 * of squaring 32x32 bit matrices: about 20 times fewer steps, and 277 members are combined per
 * bundle): the CRC-32 of A followed by B from crc(A), crc(B) and B's length in bytes.
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  // x^(8 * lengthB) modulo the polynomial: the shift of A's CRC past B's bytes.
  let shift = 0x80000000; // x^0
  let k = 3; // 8 = 2^3 bits per byte
  for (let n = lengthB; n > 0; n = Math.floor(n / 2), k++) if (n % 2 === 1) shift = multModP(X2N[k % 32]!, shift);
  return (multModP(shift, crcA >>> 0) ^ crcB) >>> 0;
}

export interface EncodeLimits {
  plainLimitBytes?: number;
  maxObjectBytes?: number;
  maxBundlePlainBytes?: number;
}

/**
 * Chooses the stored form of a file set, or says in words why it cannot be stored at all.
 * `compress` compresses one bundle member (the controller passes a memoising one). A bundle's
 * plainBytes is the size of the JSON it decompresses to: what the sidecar limits (decodeBundle).
 */
export function encodeFileSet(files: FileSet, limits: EncodeLimits = {}, compress: MemberCompressor = compressMember): EncodedFiles {
  const plainLimit = limits.plainLimitBytes ?? PLAIN_LIMIT_BYTES;
  const maxObject = limits.maxObjectBytes ?? MAX_OBJECT_DATA_BYTES;
  const maxPlainInBundle = limits.maxBundlePlainBytes ?? MAX_BUNDLE_PLAIN_BYTES;
  // UTF-8 takes at least one byte per UTF-16 code unit: counting units decides most cases without
  // reading the 38 MB of 10,000 services (Buffer.byteLength of all of it took ~30 ms, issue #13).
  let units = 0;
  for (const name in files) units += name.length + (files[name] as string).length;
  if (units <= Math.min(plainLimit, maxObject)) {
    const plainBytes = plainDataBytes(files);
    if (plainBytes <= plainLimit && plainBytes <= maxObject) return { ok: true, form: 'plain', files, bytes: plainBytes };
  }
  const tooLarge = (plainBytes: number) => ({
    ok: false as const,
    plainBytes,
    message: `${plainBytes} bytes uncompressed, over the ${maxPlainInBundle}-byte limit the sync sidecar accepts for a compressed bundle`,
  });
  // Its JSON takes at least a byte per code unit too: far too large ones are not even compressed.
  if (units > maxPlainInBundle) return tooLarge(plainDataBytes(files));
  const { bundle, plainBytes } = bundleWithLength(files, compress);
  if (plainBytes > maxPlainInBundle) return tooLarge(plainBytes);
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
