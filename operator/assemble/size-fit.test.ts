// A partitioned config leaves out only a service too large for an object of its own (tooLargeAlone),
// and encodePartitions names the partition that does not fit.
import { randomBytes } from 'node:crypto';
import { demoSettings, loadCatalogue } from '../../test/fixtures/catalogue/index.js';
import type { MonitoredService } from '../api/schema.js';
import { renderServicePieces } from '../render/index.js';
import { encodeFileSet, type FileSet } from './config-bundle.js';
import { assemblePartitionedPrometheus } from './partitioned-config.js';
import { encodePartitions, tooLargeAlone } from './size-fit.js';

const LIMITS = { maxObjectBytes: 40_000, plainLimitBytes: 40_000, maxBundlePlainBytes: 10_000_000 };
const encode = (files: FileSet) => encodeFileSet(files, LIMITS);

/** The catalogue plus one service whose rules carry ~60 KB of random text (gzip cannot bring it under LIMITS). */
function withHuge(): MonitoredService[] {
  const catalogue = loadCatalogue();
  const base = catalogue.find((s) => s.spec.rules.length > 0)!;
  const huge: MonitoredService = {
    ...base,
    metadata: { ...base.metadata, name: 'huge' },
    spec: { ...base.spec, rules: base.spec.rules.map((r, i) => (i === 0 ? { ...r, description: randomBytes(45_000).toString('base64') } : r)) },
  };
  return [...catalogue, huge];
}

describe('a partitioned config and the object limit', () => {
  it('leaves out only the service that does not fit alone; the others fit in their partitions', () => {
    const services = withHuge();
    // A budget under the lowered object limit, as the real budget is under 1 MB.
    const config = assemblePartitionedPrometheus(
      services.map((s) => renderServicePieces(s, demoSettings)),
      demoSettings,
      undefined,
      30_000,
    );
    const huge = config.partitions.find((p) => p.refs.some((r) => r.name === 'huge'))!;
    expect(huge.refs).toHaveLength(1);
    const encoded = encodePartitions(config, encode);
    expect(encoded.problem?.message).toContain(`partition ${huge.id}`);
    const alone = tooLargeAlone(config, encode);
    const key = `${huge.refs[0]!.namespace}/huge`;
    expect([...alone.keys()]).toEqual([key]);
    expect(alone.get(key)).toMatch(/^left out of the generated config: this service's rule file and scrape jobs alone do not fit in one Kubernetes object \(/);

    const without = assemblePartitionedPrometheus(
      services.filter((s) => s.metadata.name !== 'huge').map((s) => renderServicePieces(s, demoSettings)),
      demoSettings,
      config,
      30_000,
    );
    const fits = encodePartitions(without, encode);
    expect(fits.problem).toBeUndefined();
    expect(fits.main.ok).toBe(true);
    expect([...fits.partitions.keys()]).toEqual(without.partitions.map((p) => p.digest));
    expect(tooLargeAlone(without, encode).size).toBe(0);
  });
});
