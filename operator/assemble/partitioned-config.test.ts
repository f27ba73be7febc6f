// The partitioned Prometheus config holds exactly what the one-object config holds (the same jobs in
// the same order, the same rule files), a change re-assembles one partition, and the result does not
// depend on order or on the previous result.
import { parse } from 'yaml';
import { demoSettings, loadCatalogue, productionSettings } from '../../test/fixtures/catalogue/index.js';
import type { MonitoredService } from '../api/schema.js';
import { renderServicePieces } from '../render/index.js';
import { PROMETHEUS_CONFIG_FILE, RULE_FILE_SUFFIX, SCRAPE_FILE_SUFFIX } from '../render/names.js';
import { WATCHDOG_RULE_FILE } from '../render/watchdog.js';
import { renderConfig } from './config.js';
import { allFiles, assemblePartitionedPrometheus, includedRefs, partitionWrites } from './partitioned-config.js';
import { parsePartitionManifest } from '../sync/partitions.js';
import { scrapeConfigFiles } from '../sync/job-names.js';

/** The catalogue `copies` times, under other names (enough services for several partitions). */
function manyServices(copies: number): MonitoredService[] {
  const catalogue = loadCatalogue();
  return Array.from({ length: copies }, (_, i) => catalogue.map((s) => ({ ...s, metadata: { ...s.metadata, name: `${s.metadata.name}-${i}` } }))).flat();
}

const jobsOf = (yaml: string): unknown[] => ((parse(yaml) as { scrape_configs?: unknown[] }).scrape_configs ?? []) as unknown[];

describe('assemblePartitionedPrometheus', () => {
  for (const [name, settings] of [
    ['demo', demoSettings],
    ['production', productionSettings],
  ] as const) {
    it(`holds the one-object config's jobs and rule files (${name} settings)`, () => {
      const services = manyServices(6);
      const whole = renderConfig(services, settings);
      const config = assemblePartitionedPrometheus(
        services.map((s) => renderServicePieces(s, settings)),
        settings,
        undefined,
        20_000,
      );
      expect(config.partitions.length).toBeGreaterThanOrEqual(3);
      const files = allFiles(config);
      const main = parse(files[PROMETHEUS_CONFIG_FILE]!) as Record<string, unknown>;
      const wholeMain = parse(whole.prometheus[PROMETHEUS_CONFIG_FILE]!) as Record<string, unknown>;
      // Everything but the services' jobs is as before; those are loaded from the partitions' files.
      expect(main.global).toEqual(wholeMain.global);
      expect(main.alerting).toEqual(wholeMain.alerting);
      expect(main.rule_files).toEqual(wholeMain.rule_files);
      // Every partition's scrape file by name, beside the rule files, in the directory the sidecar writes.
      const scrapeFileNames = config.partitions.map((p) => Object.keys(p.files).find((f) => f.endsWith(SCRAPE_FILE_SUFFIX))!);
      expect(main.scrape_config_files).toEqual(scrapeFileNames.map((f) => (wholeMain.rule_files as string[])[0]!.replace(`*${RULE_FILE_SUFFIX}`, f)).sort());
      expect(scrapeConfigFiles(files[PROMETHEUS_CONFIG_FILE]!)).toEqual([...scrapeFileNames].sort());
      const self = jobsOf(files[PROMETHEUS_CONFIG_FILE]!);
      expect(self).toEqual(settings.selfScrapeJobs);
      const partitionJobs = config.partitions.flatMap((p) => jobsOf(p.files[Object.keys(p.files).find((f) => f.endsWith(SCRAPE_FILE_SUFFIX))!]!));
      // Partitions are in id order, the one-object config in service order: Prometheus keeps no order of jobs.
      const byJobName = (jobs: unknown[]) => [...jobs].sort((a, b) => ((a as { job_name: string }).job_name < (b as { job_name: string }).job_name ? -1 : 1));
      expect(byJobName([...self, ...partitionJobs])).toEqual(byJobName(jobsOf(whole.prometheus[PROMETHEUS_CONFIG_FILE]!)));
      // The same rule files with the same text; nothing else besides the scrape files.
      const ruleFiles = (set: Record<string, string>) => Object.fromEntries(Object.entries(set).filter(([f]) => f.endsWith(RULE_FILE_SUFFIX) || f === WATCHDOG_RULE_FILE));
      expect(ruleFiles(files)).toEqual(ruleFiles(whole.prometheus));
      expect(Object.keys(files).filter((f) => !(f in whole.prometheus))).toEqual([...scrapeFileNames].sort());
      for (const [i, p] of config.partitions.entries()) expect(scrapeFileNames[i]).toMatch(new RegExp(`^partition-${p.id}-[0-9a-f]{16}\\${SCRAPE_FILE_SUFFIX}$`));
      expect(includedRefs(config)).toEqual(whole.included);
      for (const p of config.partitions) expect(p.refs.length).toBe(Object.keys(p.files).length - 1);
    });
  }

  it('puts a small install in one partition', () => {
    const services = loadCatalogue();
    const config = assemblePartitionedPrometheus(
      services.map((s) => renderServicePieces(s, demoSettings)),
      demoSettings,
    );
    expect(config.partitions.map((p) => p.refs.length)).toEqual([services.length]);
  });

  it('is the same for any order of the pieces, with or without the previous result', () => {
    const pieces = manyServices(4).map((s) => renderServicePieces(s, demoSettings));
    const first = assemblePartitionedPrometheus(pieces, demoSettings, undefined, 20_000);
    const again = assemblePartitionedPrometheus([...pieces].reverse(), demoSettings, first, 20_000);
    expect(again).toEqual(first);
    expect(assemblePartitionedPrometheus([...pieces].reverse(), demoSettings, undefined, 20_000)).toEqual(first);
  });

  it('re-assembles only the partition of a changed service, and the config hash moves', () => {
    const services = manyServices(6);
    const pieces = services.map((s) => renderServicePieces(s, demoSettings));
    const before = assemblePartitionedPrometheus(pieces, demoSettings, undefined, 20_000);
    const target = services.findIndex((s) => s.spec.rules.length > 0);
    const edited = services.map((s, i) => (i === target ? { ...s, spec: { ...s.spec, rules: s.spec.rules.map((r, j) => (j === 0 ? { ...r, summary: 'edited summary' } : r)) } } : s));
    const after = assemblePartitionedPrometheus(
      edited.map((s, i) => (i === target ? renderServicePieces(s, demoSettings) : pieces[i]!)),
      demoSettings,
      before,
      20_000,
    );
    expect(after.hash).not.toBe(before.hash);
    const changed = after.partitions.filter((p) => !before.partitions.includes(p));
    expect(changed).toHaveLength(1);
    expect(changed[0]!.refs).toContainEqual({ namespace: services[target]!.metadata.namespace, name: services[target]!.metadata.name });
    expect(after.partitions.map((p) => p.id)).toEqual(before.partitions.map((p) => p.id));
    // A rule's text is not in prometheus.yml: the main file stays.
    expect(after.main).toEqual(before.main);
  });

  it('renames the scrape file of a partition whose jobs change, and only that one, in prometheus.yml', () => {
    const services = manyServices(6);
    const pieces = services.map((s) => renderServicePieces(s, demoSettings));
    const before = assemblePartitionedPrometheus(pieces, demoSettings, undefined, 20_000);
    const target = 0;
    const edited = { ...services[target]!, spec: { ...services[target]!.spec, endpoints: services[target]!.spec.endpoints.map((e) => ({ ...e, interval: '17s' })) } };
    const after = assemblePartitionedPrometheus(
      pieces.map((p, i) => (i === target ? renderServicePieces(edited, demoSettings) : p)),
      demoSettings,
      before,
      20_000,
    );
    const names = (c: typeof before) => scrapeConfigFiles(c.main[PROMETHEUS_CONFIG_FILE]!);
    const gone = names(before).filter((f) => !names(after).includes(f));
    const added = names(after).filter((f) => !names(before).includes(f));
    expect(gone).toHaveLength(1);
    expect(added).toHaveLength(1);
    const changed = after.partitions.find((p) => added[0]! in p.files)!;
    expect(changed.refs).toContainEqual({ namespace: services[target]!.metadata.namespace, name: services[target]!.metadata.name });
    expect(gone[0]!.startsWith(`partition-${changed.id}-`)).toBe(true);
  });

  it('writes a missing or changed partition first, names every partition in the main object, and removes the ones gone', () => {
    const services = manyServices(6);
    const config = assemblePartitionedPrometheus(
      services.map((s) => renderServicePieces(s, demoSettings)),
      demoSettings,
      undefined,
      20_000,
    );
    const fresh = partitionWrites(config, 'cm', new Map());
    expect(fresh.partitions.map((w) => w.name)).toEqual(config.partitions.map((p) => `cm-${p.id}`));
    expect(fresh.remove).toEqual([]);
    expect(fresh.mainAnnotations.configHash).toBe(config.hash);
    // The manifest is what the sidecar reads (sync/partitions.ts): every partition at the hash its object carries.
    expect(parsePartitionManifest(fresh.mainAnnotations.partitions)).toEqual(new Map(fresh.partitions.map((w) => [w.partition.id, w.hash])));
    const stored = new Map<string, string | undefined>(fresh.partitions.map((w) => [w.name, w.hash]));
    stored.set('cm-gone', 'h');
    stored.set(`cm-${config.partitions[1]!.id}`, 'older');
    const next = partitionWrites(config, 'cm', stored);
    expect(next.partitions.map((w) => w.name)).toEqual([`cm-${config.partitions[1]!.id}`]);
    expect(next.remove).toEqual(['cm-gone']);
  });
});
