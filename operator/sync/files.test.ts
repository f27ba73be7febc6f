import { contentHash, diffFiles, filesFromConfigMap, filesFromSecret, invalidFileKeyReason, InvalidFileKeysError, isEmptyDiff } from './files.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('decoding objects into files', () => {
  it('takes ConfigMap data as is and decodes binaryData', () => {
    expect(filesFromConfigMap({ data: { 'prometheus.yml': 'a: 1\n' }, binaryData: { 'x.rules.yaml': b64('groups: []\n') } })).toEqual({
      'prometheus.yml': 'a: 1\n',
      'x.rules.yaml': 'groups: []\n',
    });
    expect(filesFromConfigMap({})).toEqual({});
  });

  it('decodes Secret data from base64, including non-ASCII text', () => {
    expect(filesFromSecret({ data: { 'alertmanager.yml': b64('route: {receiver: "ü"}\n') } })).toEqual({ 'alertmanager.yml': 'route: {receiver: "ü"}\n' });
    expect(filesFromSecret({ stringData: { 'a.tmpl': 'x' } })).toEqual({ 'a.tmpl': 'x' });
  });

  it('rejects Secret data that is not base64', () => {
    expect(() => filesFromSecret({ data: { 'alertmanager.yml': 'not base64!' } })).toThrow('key "alertmanager.yml": data is not valid base64');
  });

  it("refuses keys that would collide with the sidecar's own dot-files", () => {
    expect(invalidFileKeyReason('.last-good')).toMatch(/reserved/);
    expect(invalidFileKeyReason('a/b')).toMatch(/may only contain/);
    expect(invalidFileKeyReason('ns__name.rules.yaml')).toBeUndefined();
    expect(() => filesFromConfigMap({ data: { '.last-good': 'x', ok: 'y' } })).toThrow(InvalidFileKeysError);
    expect(() => filesFromConfigMap({ data: { '.last-good': 'x' } })).toThrow('key ".last-good" starts with "."');
  });
});

describe('diffFiles', () => {
  it('writes new and changed files, removes vanished keys, leaves equal ones alone', () => {
    const diff = diffFiles({ a: '1', b: '2-new', c: '3' }, { a: '1', b: '2', d: '4' });
    expect(diff).toEqual({ write: ['b', 'c'], remove: ['d'] });
    expect(isEmptyDiff(diff)).toBe(false);
    expect(isEmptyDiff(diffFiles({ a: '1' }, { a: '1' }))).toBe(true);
  });

  it('treats an empty file as content', () => {
    expect(diffFiles({ a: '' }, {})).toEqual({ write: ['a'], remove: [] });
  });
});

describe('contentHash', () => {
  it('is independent of key order and changes with content and names', () => {
    const h = contentHash({ a: '1', b: '2' });
    expect(h).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(contentHash({ b: '2', a: '1' })).toBe(h);
    expect(contentHash({ a: '1', b: '3' })).not.toBe(h);
    expect(contentHash({ a: '1', c: '2' })).not.toBe(h);
    // Boundaries between name and content are unambiguous.
    expect(contentHash({ ab: 'c' })).not.toBe(contentHash({ a: 'bc' }));
  });
});

describe('bundle decoding', () => {
  it('gives equal, independent file sets for the same bundle, and decodes a new one', async () => {
    const { encodeFileSet, BUNDLE_KEY } = await import('../assemble/config-bundle.js');
    const big = (tag: string) => Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`ns__svc-${i}.rules.yaml`, `${tag} `.repeat(400)]));
    const encode = (files: Record<string, string>) => {
      const e = encodeFileSet(files);
      if (!e.ok || e.form !== 'bundle') throw new Error('expected a bundle');
      return { binaryData: { [BUNDLE_KEY]: e.bundle.toString('base64') } };
    };
    const one = encode(big('one'));
    const first = filesFromConfigMap(one);
    const second = filesFromConfigMap({ binaryData: { ...one.binaryData } });
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    second['ns__svc-0.rules.yaml'] = 'changed';
    expect(filesFromConfigMap(one)['ns__svc-0.rules.yaml']).toBe(first['ns__svc-0.rules.yaml']);
    expect(filesFromConfigMap(encode(big('two')))['ns__svc-0.rules.yaml']).toMatch(/^two /);
  });
});
