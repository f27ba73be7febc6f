import { describe, expect, it } from '@jest/globals';
import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import { filesFromConfigMap, filesFromSecret } from '../sync/files.js';
import {
  BUNDLE_FORMAT,
  BUNDLE_KEY,
  BundleError,
  bundleMembers,
  crc32Combine,
  MAX_OBJECT_DATA_BYTES,
  memberJson,
  PLAIN_LIMIT_BYTES,
  configMapPayload,
  decodeBundle,
  encodeFileSet,
  gzipBundle,
  plainDataBytes,
  secretPayload,
  type EncodedFiles,
} from './config-bundle.js';

/** Rule files shaped like the rendered ones: repetitive YAML, one per service. */
function ruleFiles(count: number): Record<string, string> {
  const files: Record<string, string> = { 'prometheus.yml': 'global:\n  scrape_interval: 15s\nrule_files:\n  - "*.rules.yaml"\n' };
  for (let i = 0; i < count; i++) {
    const name = `svc-${String(i).padStart(4, '0')}`;
    files[`team-${i % 20}__${name}.rules.yaml`] = [
      'groups:',
      `  - name: vigil/team-${i % 20}/${name}`,
      '    rules:',
      '      - alert: ServiceDown',
      `        expr: (count(up{job="vigil/team-${i % 20}/${name}/metrics"} == 1) or vector(0)) == 0`,
      '        for: 1m',
      `        labels: {severity: critical, vigil_namespace: team-${i % 20}, vigil_monitoredservice: ${name}}`,
      `        annotations: {summary: "team-${i % 20}/${name} is down: no healthy scrape target ü"}`,
      '',
    ].join('\n');
  }
  return files;
}

function ok(encoded: EncodedFiles): Extract<EncodedFiles, { ok: true }> {
  if (!encoded.ok) throw new Error(`expected the file set to fit: ${encoded.message}`);
  return encoded;
}

describe('encodeFileSet', () => {
  it('keeps a small file set plain, one key per file, so kubectl get -o yaml stays readable', () => {
    const files = ruleFiles(3);
    const encoded = ok(encodeFileSet(files));
    expect(encoded.form).toBe('plain');
    expect(encoded.bytes).toBe(plainDataBytes(files));
    expect(configMapPayload(encoded)).toEqual({ data: files });
  });

  it('bundles a large file set into one gzip key that decodes to exactly the same files', () => {
    const files = ruleFiles(3000);
    expect(plainDataBytes(files)).toBeGreaterThan(MAX_OBJECT_DATA_BYTES); // would be refused plain
    const encoded = ok(encodeFileSet(files));
    expect(encoded.form).toBe('bundle');
    if (encoded.form !== 'bundle') return;
    expect(encoded.bytes).toBeLessThan(MAX_OBJECT_DATA_BYTES / 4);
    // The size of what the sidecar inflates: the bundle's JSON.
    expect(encoded.plainBytes).toBe(gunzipSync(encoded.bundle).length);
    expect(encoded.plainBytes).toBeGreaterThan(plainDataBytes(files));
    expect(decodeBundle(encoded.bundle)).toEqual(files);
  });

  it('is deterministic: same files in any key order give the same bytes', () => {
    const files = ruleFiles(50);
    const reversed = Object.fromEntries(Object.entries(files).reverse());
    expect(gzipBundle(reversed).equals(gzipBundle(files))).toBe(true);
  });

  it('switches to the bundle just above the plain limit', () => {
    const big = { 'prometheus.yml': 'x'.repeat(PLAIN_LIMIT_BYTES) };
    expect(ok(encodeFileSet({ 'prometheus.yml': 'x'.repeat(PLAIN_LIMIT_BYTES - 'prometheus.yml'.length) })).form).toBe('plain');
    expect(ok(encodeFileSet(big)).form).toBe('bundle');
  });

  it('says why when even the bundle does not fit in one object', () => {
    const files = ruleFiles(400);
    const encoded = encodeFileSet(files, { maxObjectBytes: 5_000 });
    expect(encoded.ok).toBe(false);
    if (encoded.ok) return;
    expect(encoded.compressedBytes).toBeGreaterThan(5_000);
    expect(encoded.message).toMatch(/^\d+ bytes even gzip-compressed \(\d+ uncompressed\), over the 5000-byte limit of one Kubernetes object$/);
  });

  it('refuses to bundle more than the sidecar would inflate', () => {
    const encoded = encodeFileSet(ruleFiles(100), { plainLimitBytes: 1000, maxBundlePlainBytes: 10_000 });
    expect(encoded).toMatchObject({ ok: false, message: expect.stringContaining('over the 10000-byte limit the sync sidecar accepts') });
  });
});

/** A prometheus.yml-like file over the split size: one top-level list item per job, some non-ASCII. */
function bigConfig(jobs: number, changed = -1): string {
  const items = Array.from({ length: jobs }, (_, i) =>
    [`  - job_name: vigil/team-${i % 20}/svc-${i}/metrics`, '    honor_labels: false', `    metrics_path: /${i === changed ? 'changed' : 'metrics'}`, '    # "quoted" \\ ü'].join('\n'),
  );
  return `global:\n  scrape_interval: 15s\nscrape_configs:\n${items.join('\n')}\n`;
}

describe('bundle members (issue #13: one change recompresses one member)', () => {
  it('joined, the members are exactly the canonical JSON of the file set', () => {
    const files: Record<string, string> = { ...ruleFiles(300), 'prometheus.yml': bigConfig(2000), 'empty.rules.yaml': '' };
    const members = bundleMembers(files);
    expect(members.length).toBeGreaterThan(10);
    const sorted = Object.fromEntries(
      Object.keys(files)
        .sort()
        .map((k) => [k, files[k]]),
    );
    expect(members.map(memberJson).join('')).toBe(JSON.stringify({ format: BUNDLE_FORMAT, files: sorted }));
    expect(bundleMembers({}).map(memberJson).join('')).toBe(JSON.stringify({ format: BUNDLE_FORMAT, files: {} }));
  });

  it('a multi-member bundle decodes to the same files, by the sidecar too', () => {
    const files = { ...ruleFiles(300), 'prometheus.yml': bigConfig(2000) };
    const encoded = ok(encodeFileSet(files));
    expect(encoded.form === 'bundle' && decodeBundle(encoded.bundle)).toEqual(files);
    expect(filesFromConfigMap(configMapPayload(encoded))).toEqual(files);
  });

  it('cuts are content-defined: one changed job or one added file changes one or two members', () => {
    const before = { ...ruleFiles(300), 'prometheus.yml': bigConfig(2000) };
    const keys = (files: Record<string, string>) => new Set(bundleMembers(files).map(memberJson));
    const old = keys(before);
    const changedJob = [...keys({ ...before, 'prometheus.yml': bigConfig(2000, 1000) })].filter((m) => !old.has(m));
    expect(changedJob.length).toBe(1);
    const added = [...keys({ ...before, 'team-3__svc-0007b.rules.yaml': 'groups: []\n' })].filter((m) => !old.has(m));
    expect(added.length).toBeGreaterThanOrEqual(1);
    expect(added.length).toBeLessThanOrEqual(2);
  });

  it('compresses within 2% of gzip over the whole JSON, and is valid gzip for zlib', () => {
    const files: Record<string, string> = { ...ruleFiles(3000), 'prometheus.yml': bigConfig(5000) };
    const json = JSON.stringify({
      format: BUNDLE_FORMAT,
      files: Object.fromEntries(
        Object.keys(files)
          .sort()
          .map((k) => [k, files[k]]),
      ),
    });
    const whole = gzipSync(Buffer.from(json), { level: 9 });
    const bundle = gzipBundle(files);
    expect(bundleMembers(files).length).toBeGreaterThan(10);
    expect(bundle.length).toBeLessThan(whole.length * 1.02);
    expect(gunzipSync(bundle).toString('utf8')).toBe(json); // checks the CRC-32 and length trailer too
  });

  it('crc32Combine gives the CRC-32 of the concatenation', () => {
    const a = Buffer.from('groups:\n  - name: ü'.repeat(1000));
    const b = Buffer.from('x'.repeat(70_001));
    expect(crc32Combine(crc32(a), crc32(b), b.length)).toBe(crc32(Buffer.concat([a, b])));
    expect(crc32Combine(crc32(a), crc32(Buffer.alloc(0)), 0)).toBe(crc32(a));
    for (const length of [1, 2, 3, 255, 256, 4097, 1_048_576, 3_000_001]) {
      const c = Buffer.alloc(length, length % 251);
      expect([length, crc32Combine(crc32(a), crc32(c), length)]).toEqual([length, crc32(Buffer.concat([a, c]))]);
    }
  });
});

describe('the stored objects, as the sync sidecar reads them', () => {
  for (const count of [3, 3000]) {
    it(`ConfigMap and Secret round-trip ${count} files`, () => {
      const files = ruleFiles(count);
      const encoded = ok(encodeFileSet(files));
      const cm = configMapPayload(encoded);
      expect(Object.keys({ ...cm.data, ...cm.binaryData })).toHaveLength(count > 3 ? 1 : count + 1);
      expect(filesFromConfigMap(cm)).toEqual(files);
      expect(filesFromSecret({ data: secretPayload(encoded) })).toEqual(files);
    });
  }

  it('refuses a bundle mixed with other keys', () => {
    const bundle = gzipBundle({ 'prometheus.yml': 'a' }).toString('base64');
    expect(() => filesFromConfigMap({ data: { 'prometheus.yml': 'b' }, binaryData: { [BUNDLE_KEY]: bundle } })).toThrow(
      `key "${BUNDLE_KEY}" (a compressed bundle of all files) must be the only key, but "prometheus.yml" is present too`,
    );
    expect(() => filesFromSecret({ data: { [BUNDLE_KEY]: bundle, x: 'eA==' } })).toThrow(/must be the only key/);
  });

  it('checks the file names inside a bundle like plain keys', () => {
    const bundle = gzipBundle({ '.last-good': 'x' }).toString('base64');
    expect(() => filesFromConfigMap({ binaryData: { [BUNDLE_KEY]: bundle } })).toThrow('key ".last-good" starts with "."');
  });
});

describe('decodeBundle', () => {
  const gz = (value: unknown) => gzipSync(Buffer.from(JSON.stringify(value)));

  it('names the problem of a broken bundle', () => {
    expect(() => decodeBundle(Buffer.from('not gzip'))).toThrow(BundleError);
    expect(() => decodeBundle(Buffer.from('not gzip'))).toThrow(`key "${BUNDLE_KEY}": not valid gzip data`);
    expect(() => decodeBundle(gzipSync('{'))).toThrow(/does not hold JSON/);
    expect(() => decodeBundle(gz({ format: 'vigil.dev/files.v9', files: {} }))).toThrow(/format "vigil.dev\/files.v9" is not vigil.dev\/files.v1/);
    expect(() => decodeBundle(gz({ format: BUNDLE_FORMAT }))).toThrow(/has no "files" object/);
    expect(() => decodeBundle(gz({ format: BUNDLE_FORMAT, files: { a: 1 } }))).toThrow(/file "a" is not a string/);
  });

  it('refuses to inflate past its limit (a gzip bomb stays small in memory)', () => {
    const bomb = gzipBundle({ 'prometheus.yml': '0'.repeat(2_000_000) });
    expect(bomb.length).toBeLessThan(10_000);
    expect(() => decodeBundle(bomb, 1_000_000)).toThrow('decompresses to more than 1000000 bytes; refusing it');
  });
});
