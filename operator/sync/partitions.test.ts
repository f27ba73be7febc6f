// The sidecar applies a partitioned config only whole: every partition the main object names, at
// the hash it names; otherwise it waits. Without the annotation, a main object is applied as it is.
import { ANNOTATIONS } from '../contract.js';
import { mergePartitions, parsePartitionManifest, type DecodedObject } from './partitions.js';

const MAIN = 'vigil-prometheus-config';
const main = (manifest: Record<string, string> | undefined, files: DecodedObject['files'] = { 'prometheus.yml': 'main' }): DecodedObject => ({
  annotations: { [ANNOTATIONS.configHash]: 'whole', ...(manifest ? { [ANNOTATIONS.partitions]: JSON.stringify(manifest) } : {}) },
  files,
});
const part = (hash: string, files: DecodedObject['files']): DecodedObject => ({ annotations: { [ANNOTATIONS.configHash]: hash }, files });

describe('mergePartitions', () => {
  it('applies a main object without partitions as it is, whatever partition objects exist', () => {
    const m = main(undefined);
    expect(mergePartitions(MAIN, m, new Map([[`${MAIN}-a`, part('h', { 'x.rules.yaml': 'x' })]]))).toEqual({ ready: true, object: m });
  });

  it('applies a main object with an empty manifest (the operator went back to one object) with its own files only', () => {
    const m = main({});
    const merged = mergePartitions(MAIN, m, new Map([[`${MAIN}-a`, part('h', { 'x.rules.yaml': 'x' })]]));
    expect(merged).toEqual({ ready: true, object: { annotations: m.annotations, files: { 'prometheus.yml': 'main' } } });
  });

  it('joins the main files with every named partition at its hash, and ignores partitions it does not name', () => {
    const partitions = new Map([
      [`${MAIN}-a`, part('ha', { 'partition-a.scrape.yaml': 'A', 'a__one.rules.yaml': '1' })],
      [`${MAIN}-b`, part('hb', { 'partition-b.scrape.yaml': 'B' })],
      [`${MAIN}-gone`, part('hg', { 'partition-gone.scrape.yaml': 'G' })],
    ]);
    const merged = mergePartitions(MAIN, main({ a: 'ha', b: 'hb' }), partitions);
    expect(merged).toEqual({
      ready: true,
      object: {
        annotations: main({ a: 'ha', b: 'hb' }).annotations,
        files: { 'prometheus.yml': 'main', 'partition-a.scrape.yaml': 'A', 'a__one.rules.yaml': '1', 'partition-b.scrape.yaml': 'B' },
      },
    });
  });

  it('waits while a named partition is missing or at another hash', () => {
    const a = part('ha', { 'partition-a.scrape.yaml': 'A' });
    expect(mergePartitions(MAIN, main({ a: 'ha', b: 'hb' }), new Map([[`${MAIN}-a`, a]]))).toEqual({ ready: false, waitingFor: `partition ${MAIN}-b (not there yet)` });
    expect(mergePartitions(MAIN, main({ a: 'ha2' }), new Map([[`${MAIN}-a`, a]]))).toEqual({ ready: false, waitingFor: `partition ${MAIN}-a at config hash ha2 (it has ha)` });
  });

  it('refuses, naming the objects, a file in two objects, a partition that cannot be decoded and a bad annotation', () => {
    const clash = mergePartitions(MAIN, main({ a: 'ha' }), new Map([[`${MAIN}-a`, part('ha', { 'prometheus.yml': 'other' })]]));
    expect(clash).toEqual({ ready: true, object: { annotations: expect.any(Object), files: { error: `file "prometheus.yml" is in both ${MAIN} and ${MAIN}-a` } } });
    const broken = mergePartitions(MAIN, main({ a: 'ha' }), new Map([[`${MAIN}-a`, part('ha', { error: 'key "x": data is not valid base64' })]]));
    expect(broken).toEqual({ ready: true, object: { annotations: expect.any(Object), files: { error: `partition ${MAIN}-a: key "x": data is not valid base64` } } });
    const bad: DecodedObject = { annotations: { [ANNOTATIONS.partitions]: '[1]' }, files: { 'prometheus.yml': 'x' } };
    expect(mergePartitions(MAIN, bad, new Map())).toEqual({ ready: true, object: { annotations: bad.annotations, files: { error: expect.stringContaining(ANNOTATIONS.partitions) } } });
  });

  it('reads the manifest strictly', () => {
    expect(parsePartitionManifest('{"0a1b":"h"}')).toEqual(new Map([['0a1b', 'h']]));
    expect(() => parsePartitionManifest('{"../x":"h"}')).toThrow(/partition id/);
    expect(() => parsePartitionManifest('{"a":1}')).toThrow(/string config hash/);
    expect(() => parsePartitionManifest('nope')).toThrow(/not JSON/);
  });
});
