// The controller's per-object cache of validation results and rendered pieces: reused exactly while
// uid, generation and settings stay, redone when any of them moves, and never the source of a
// different config than rendering from scratch.
import { loadCatalogue, demoSettings, productionSettings } from '../../test/fixtures/catalogue/index.js';
import { renderServicePieces as renderConfigPieces } from '../render/index.js';
import { assembleConfig, renderConfig } from './config.js';
import { decodeBundle, type EncodedFiles } from './config-bundle.js';
import { formatIssue, validateMonitoredService } from '../validate/index.js';
import { lastValidObjects, planReconcile, type RawMonitoredService, type ReconcilePlan } from '../controller/plan.js';
import type { GlobalSettings } from '../render/types.js';
import type { SyncReport } from '../controller/annotations.js';
import { UnchangedStatuses } from '../controller/status-memo.js';
import { ReconcileMemo } from '../controller/plan-memo.js';
import { ServiceCache, objectKey, settingsHash } from './service-cache.js';
import { withStatuses } from '../../test/operator/informer-statuses.js';
import { scrapeJobNames } from '../sync/job-names.js';
import { allFiles } from './partitioned-config.js';

function raw(namespace: string, name: string, generation: number, expr = 'rate(errors_total[5m]) > 1'): RawMonitoredService {
  return {
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace, name, uid: `uid-${namespace}-${name}`, generation },
    spec: {
      selector: { matchLabels: { app: name } },
      endpoints: [{ port: 'metrics' }],
      rules: [{ name: 'Errors', expr, for: '1m' }],
      notify: { email: { to: [`${name}@example.com`] } },
    },
  };
}

const hashOf = settingsHash;

describe('ServiceCache', () => {
  it('setPartitioned switches the layout both ways, each render equal to a fresh cache of that layout; partitionsStale makes a write at the same hash', () => {
    const objects = [raw('a', 'one', 1), raw('b', 'two', 1)];
    const plan = (cache: ServiceCache, over: { prometheus?: { configHash?: string }; partitionsStale?: () => boolean } = {}) =>
      planReconcile({
        objects,
        settings: demoSettings,
        formatIssue,
        prometheus: over.prometheus ?? {},
        alertmanager: {},
        targetsFor: () => undefined,
        now: '2025-01-01T00:00:00Z',
        ...cache.forReconcile(demoSettings),
        ...(over.partitionsStale ? { partitionsStale: over.partitionsStale } : {}),
      });
    const one = plan(new ServiceCache()).rendered;
    const parts = plan(new ServiceCache(undefined, undefined, undefined, true)).rendered;
    expect(one.prometheusHash).not.toBe(parts.prometheusHash);
    const cache = new ServiceCache(undefined, undefined, undefined, true);
    expect(plan(cache).rendered.prometheus).toEqual(parts.prometheus);
    cache.setPartitioned(false);
    const back = plan(cache).rendered;
    expect(back.prometheus).toEqual(one.prometheus);
    expect(back.prometheusPartitions).toBeUndefined();
    cache.setPartitioned(true);
    expect(plan(cache).rendered.prometheusHash).toBe(parts.prometheusHash);
    // The same hash as the object: no write, unless a partition object needs repair.
    expect(plan(cache, { prometheus: { configHash: parts.prometheusHash } }).writeConfigMap).toBe(false);
    const repair = plan(cache, { prometheus: { configHash: parts.prometheusHash }, partitionsStale: () => true });
    expect(repair.writeConfigMap).toBe(true);
    expect(repair.encodedPartitions?.partitions.size).toBe(1);
  });

  it('renders the Prometheus config as partitions when asked: the plan encodes the main object and every partition', () => {
    const cache = new ServiceCache(undefined, undefined, undefined, true);
    const objects = [raw('a', 'one', 1), raw('b', 'two', 1)];
    const plan = planReconcile({
      objects,
      settings: demoSettings,
      formatIssue,
      prometheus: {},
      alertmanager: {},
      targetsFor: () => undefined,
      now: '2025-01-01T00:00:00Z',
      ...cache.forReconcile(demoSettings),
    });
    const partitioned = plan.rendered.prometheusPartitions!;
    // A small install: one partition.
    expect(partitioned.partitions).toHaveLength(1);
    expect(plan.rendered.prometheusHash).toBe(partitioned.hash);
    expect(Object.keys(plan.rendered.prometheus)).toEqual(Object.keys(allFiles(partitioned)));
    expect(plan.rendered.alertmanager).toEqual(
      renderConfig(
        objects.flatMap((o) => {
          const r = validateMonitoredService(o);
          return r.ok ? [r.service] : [];
        }),
        demoSettings,
      ).alertmanager,
    );
    expect(plan.writeConfigMap).toBe(true);
    expect(plan.encodedPartitions?.main.ok).toBe(true);
    expect([...plan.encodedPartitions!.partitions.keys()]).toEqual([partitioned.partitions[0]!.digest]);
    // The main object's prometheus.yml names the partition's scrape file, and has no service jobs.
    expect(scrapeJobNames(plan.rendered.prometheus['prometheus.yml']!)).toEqual(scrapeJobNames(renderConfig([], demoSettings).prometheus['prometheus.yml']!));
  });

  it('validates and renders an object once per generation and settings', () => {
    const cache = new ServiceCache();
    const a1 = raw('a', 'one', 1);
    const first = cache.resolve(a1, demoSettings, hashOf(demoSettings));
    expect(first.ok).toBe(true);
    expect(cache.resolve({ ...a1 }, demoSettings, hashOf(demoSettings))).toBe(first);
    expect(cache.misses).toBe(1);
    // A new generation: validated again, with the new spec.
    const a2 = raw('a', 'one', 2, 'rate(errors_total[1m]) > 1');
    const second = cache.resolve(a2, demoSettings, hashOf(demoSettings));
    expect(cache.misses).toBe(2);
    expect(second.ok && cache.piecesOf(second.service, demoSettings).ruleFile).toContain('rate(errors_total{namespace="a"}[1m]) > 1');
    // Other settings: rendered again with them.
    const third = cache.resolve(a2, productionSettings, hashOf(productionSettings));
    expect(cache.misses).toBe(3);
    expect(third.ok && cache.piecesOf(third.service, productionSettings).ruleFile).toContain(`interval: ${productionSettings.evaluationInterval}`);
  });

  it('a generation an upgrade refuses in part is reduced once: later reconciles take it, and its pieces, from the cache; prune keeps its entries', () => {
    const cache = new ServiceCache();
    const spec = { ...(raw('a', 'one', 3).spec as Record<string, unknown>), rules: [{ name: 'Errors', expr: 'rate(errors_total[5m]) > 1', labels: { namespace: 'x' } }] };
    const object: RawMonitoredService = {
      ...raw('a', 'one', 3),
      spec,
      status: {
        lastValidGeneration: 3,
        lastValidSpec: JSON.stringify(spec),
        conditions: [{ type: 'Valid', status: 'False', reason: 'NoLongerValid', message: '', lastTransitionTime: '2024-01-01T00:00:00Z', observedGeneration: 3 }],
      },
    };
    const reconcile = () =>
      planReconcile({
        objects: [object],
        settings: demoSettings,
        formatIssue,
        prometheus: {},
        alertmanager: {},
        targetsFor: () => undefined,
        now: '2025-01-01T00:00:00Z',
        ...cache.forReconcile(demoSettings),
      });
    const first = reconcile();
    expect(first.rendered.included).toEqual([{ namespace: 'a', name: 'one' }]);
    const misses = cache.misses;
    // What the controller keeps live (controller.ts currentServices).
    cache.prune(new Set([objectKey(object), ...lastValidObjects(object).map(objectKey)]));
    expect(reconcile().rendered.prometheusHash).toBe(first.rendered.prometheusHash);
    expect(cache.misses).toBe(misses);
  });

  it('the same generation with another spec (a CRD upgrade reads a pruned field back) is validated again; a status write is not', () => {
    const cache = new ServiceCache();
    const withRv = (r: RawMonitoredService, resourceVersion: string): RawMonitoredService => ({ ...r, metadata: { ...r.metadata, resourceVersion } });
    // As served through the old CRD: spec.notify pruned.
    const full = raw('a', 'one', 2);
    const pruned = withRv({ ...full, spec: { ...(full.spec as Record<string, unknown>), notify: undefined } }, '10');
    const before = cache.resolve(pruned, demoSettings, hashOf(demoSettings));
    expect(before.ok && before.service.spec.notify).toBeFalsy();
    // A status write: new resourceVersion, same generation and spec: from the cache.
    expect(cache.resolve(withRv(pruned, '11'), demoSettings, hashOf(demoSettings))).toBe(before);
    expect(cache.misses).toBe(1);
    // The same generation read with the new CRD: the field is there, and is rendered.
    const after = cache.resolve(withRv(full, '12'), demoSettings, hashOf(demoSettings));
    expect(cache.misses).toBe(2);
    expect(after.ok && cache.piecesOf(after.service, demoSettings).receiver).toContain('one@example.com');
    expect(cache.resolve(withRv(full, '12'), demoSettings, hashOf(demoSettings))).toBe(after);
    expect(cache.misses).toBe(2);
  });

  it('keeps invalid results too, and drops the entries of deleted objects', () => {
    const cache = new ServiceCache();
    const bad = raw('a', 'bad', 1, 'rate(errors_total[5m] > 1');
    expect(cache.resolve(bad, demoSettings, hashOf(demoSettings)).ok).toBe(false);
    expect(cache.resolve(bad, demoSettings, hashOf(demoSettings)).ok).toBe(false);
    expect(cache.misses).toBe(1);
    cache.resolve(raw('a', 'good', 1), demoSettings, hashOf(demoSettings));
    expect(cache.size).toBe(2);
    cache.prune(new Set([objectKey(raw('a', 'good', 1))]));
    expect(cache.size).toBe(1);
  });

  it('renders each valid service once: the renderability check is the rendering that is kept', () => {
    let renders = 0;
    const cache = new ServiceCache(validateMonitoredService, (service, settings) => {
      renders++;
      return renderConfigPieces(service, settings);
    });
    const result = cache.resolve(raw('a', 'one', 1), demoSettings, hashOf(demoSettings));
    expect(result.ok).toBe(true);
    if (result.ok) cache.piecesOf(result.service, demoSettings);
    expect(renders).toBe(1);
  });

  it('turns a rendering failure with the real settings into Valid=False for that object only', () => {
    const cache = new ServiceCache(validateMonitoredService, () => {
      throw new Error('boom');
    });
    const result = cache.resolve(raw('a', 'one', 1), demoSettings, hashOf(demoSettings));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues[0]!.message).toMatch(/cannot be turned into Prometheus\/Alertmanager configuration: boom/);
  });

  it.each([
    ['demo', demoSettings],
    ['production', productionSettings],
  ])('assembling cached pieces gives exactly renderConfig (catalogue, %s settings)', (_name, settings) => {
    const cache = new ServiceCache();
    const objects = loadCatalogue().map((s, i) => ({ ...s, metadata: { ...s.metadata, uid: `u${i}`, generation: 1 } }) as RawMonitoredService);
    const services = objects
      .map((o) => cache.resolve(o, settings, hashOf(settings)))
      .map((r) => {
        if (!r.ok) throw new Error(JSON.stringify(r.issues));
        return r.service;
      });
    const fromCache = assembleConfig(
      services.map((s) => cache.piecesOf(s, settings)),
      settings,
    );
    expect(fromCache).toEqual(renderConfig(services, settings));
  });

  it('reads the job names of a rendered prometheus.yml once per config hash, as the parser gives them', () => {
    const cache = new ServiceCache();
    const stages = cache.forReconcile(demoSettings);
    const services = loadCatalogue();
    const rendered = renderConfig(services, demoSettings);
    const other = renderConfig(services.slice(1), demoSettings);
    const parsed: string[] = [];
    const parse = (yml: string) => {
      parsed.push(yml);
      return scrapeJobNames(yml);
    };
    const expected = scrapeJobNames(rendered.prometheus['prometheus.yml'] ?? '');
    expect(expected.length).toBeGreaterThan(1);
    expect(stages.expectedJobNames(rendered, parse)).toEqual(expected);
    expect(stages.expectedJobNames(rendered, parse)).toEqual(expected);
    expect(parsed).toHaveLength(1);
    expect(stages.expectedJobNames(other, parse)).toEqual(scrapeJobNames(other.prometheus['prometheus.yml'] ?? ''));
    expect(parsed).toHaveLength(2);
  });

  it('settingsHash changes with any setting, credentials included', () => {
    expect(settingsHash(demoSettings)).not.toBe(settingsHash({ ...demoSettings, smtp: { ...demoSettings.smtp, authPassword: 'x' } }));
    expect(settingsHash(demoSettings)).toBe(settingsHash({ ...demoSettings }));
  });

  it('a sequence of reconciles through the cache writes exactly what a from-scratch reconcile writes (add, edit, delete, settings, sidecars, targets)', () => {
    // Bundled from the first byte (plainLimitBytes 0), and prometheus.yml large enough to be cut
    // into several bundle members (assemble/config-bundle.ts), so the member cache is exercised.
    const limits = { plainLimitBytes: 0 };
    // What the sidecars report and Prometheus's target counts: the same for both reconciles of a step.
    let reports: { prometheus: SyncReport; alertmanager: SyncReport } = { prometheus: {}, alertmanager: {} };
    let targets = new Map<string, { discovered: number; healthy: number }>();
    const plan = (objects: RawMonitoredService[], settings: GlobalSettings, cache?: ServiceCache): ReconcilePlan =>
      planReconcile({
        objects,
        settings,
        ...(cache ? { ...cache.forReconcile(settings), statusMemo: statuses, memo } : { validate: validateMonitoredService, render: renderConfig }),
        formatIssue,
        ...reports,
        targetsFor: (ns, name) => targets.get(`${ns}/${name}`),
        now: '2026-01-01T00:00:00Z',
        limits,
      });
    const bundleOf = (e: EncodedFiles | undefined) => {
      if (!e?.ok || e.form !== 'bundle') throw new Error(`expected a bundle: ${JSON.stringify(e)}`);
      return e.bundle;
    };
    let objects = Array.from({ length: 200 }, (_, i) => raw(`ns-${i % 7}`, `svc-${String(i).padStart(3, '0')}`, 1));
    let last: ReconcilePlan | undefined;
    const cache = new ServiceCache();
    const statuses = new UnchangedStatuses();
    const memo = new ReconcileMemo();
    const steps: Array<[string, () => void, GlobalSettings]> = [
      ['start', () => {}, demoSettings],
      ['statuses written', () => {}, demoSettings],
      ['add', () => objects.push(raw('ns-3', 'svc-150b', 1)), demoSettings],
      ['edit a rule', () => (objects[40] = raw('ns-5', 'svc-040', 2, 'rate(errors_total[1m]) > 3')), demoSettings],
      [
        'edit recipients',
        () => (objects[41] = { ...raw('ns-6', 'svc-041', 2), spec: { ...(raw('ns-6', 'svc-041', 2).spec as object), notify: { email: { to: ['new@example.com'] } } } }),
        demoSettings,
      ],
      ['sidecars applied', () => (reports = { prometheus: { appliedHash: last!.rendered.prometheusHash }, alertmanager: { appliedHash: last!.rendered.alertmanagerHash } }), demoSettings],
      ['targets polled', () => (targets = new Map(objects.slice(0, 50).map((o) => [`${o.metadata!.namespace}/${o.metadata!.name}`, { discovered: 2, healthy: 2 }]))), demoSettings],
      ['one target down', () => (targets = new Map([...targets, ['ns-0/svc-007', { discovered: 2, healthy: 0 }]])), demoSettings],
      ['an invalid edit', () => (objects[60] = raw('ns-4', 'svc-060', 2, 'rate(errors_total[5m] > 1')), demoSettings],
      ['edit while applied', () => (objects[70] = raw('ns-0', 'svc-070', 2, 'rate(errors_total[1m]) > 7')), demoSettings],
      ['reload failed', () => (reports = { ...reports, prometheus: { ...reports.prometheus, failedHash: last!.rendered.prometheusHash, reloadError: 'bad config' } }), demoSettings],
      ['delete', () => (objects = objects.filter((_, i) => i !== 120)), demoSettings],
      ['settings change', () => {}, productionSettings],
      ['nothing changed', () => {}, productionSettings],
    ];
    let membersDeflated = 0;
    let skipped = 0;
    for (const [step, change, settings] of steps) {
      change();
      const cached = plan(objects, settings, cache);
      const scratch = plan(objects, settings);
      expect([step, cached.rendered]).toEqual([step, scratch.rendered]);
      // The statuses and events too: the cache skips objects, never a change.
      expect([step, cached.statusUpdates]).toEqual([step, scratch.statusUpdates]);
      for (const target of ['prometheus', 'alertmanager'] as const) {
        const [a, b] = [bundleOf(cached.encoded[target]), bundleOf(scratch.encoded[target])];
        expect([step, target, a.equals(b)]).toEqual([step, target, true]);
        expect(decodeBundle(a)).toEqual(cached.rendered[target]);
      }
      const deflated = cache.members.misses - membersDeflated;
      membersDeflated = cache.members.misses;
      // After the start, one change deflates a few members again, not all of them: those holding what it
      // changed and the next one of each (a delete: prometheus.yml, its rule file, alertmanager.yml's
      // routes block and receiver list, 6 of the 12 members here).
      if (step !== 'start' && step !== 'settings change') expect([step, deflated <= cache.members.size / 2]).toEqual([step, true]);
      if (step === 'nothing changed') expect(deflated).toBe(0);
      if (step === 'edit a rule') expect(deflated).toBeLessThanOrEqual(4);
      // Objects whose status cannot have changed are skipped once their status was written.
      if (step === 'edit a rule') expect(statuses.hits - skipped).toBeGreaterThan(150);
      skipped = statuses.hits;
      // The statuses reach the objects, as through the informer (new objects for those written).
      last = cached;
      objects = withStatuses(objects, cached);
    }
    // Several members were cached (prometheus.yml's: alertmanager.yml holds one route per recipient set, here few).
    expect(cache.members.size).toBeGreaterThan(2);
  });
  it('partitioned: a random sequence of changes through the cache stores byte for byte what a restarted operator (a fresh cache) stores, encoding only the partitions that changed', () => {
    const limits = { plainLimitBytes: 0 };
    const plan = (objects: RawMonitoredService[], cache: ServiceCache, statuses?: UnchangedStatuses, memo?: ReconcileMemo): ReconcilePlan =>
      planReconcile({
        objects,
        settings: demoSettings,
        ...cache.forReconcile(demoSettings),
        ...(statuses ? { statusMemo: statuses } : {}),
        ...(memo ? { memo } : {}),
        formatIssue,
        prometheus: {},
        alertmanager: {},
        targetsFor: () => undefined,
        now: '2026-01-01T00:00:00Z',
        limits,
      });
    // A seeded generator (mulberry32): the same sequence on every run.
    let seed = 0x5eed;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    const pick = (n: number) => Math.floor(random() * n);
    // 40 namespaces: several of them are partition cut points (assemble/partitions.ts), so there are several partitions.
    let objects = Array.from({ length: 100 }, (_, i) => raw(`ns-${i % 40}`, `svc-${String(i).padStart(3, '0')}`, 1));
    let added = 0;
    const changes: Array<[string, () => void]> = [
      [
        'edit a rule',
        () => {
          const i = pick(objects.length);
          const o = objects[i]!;
          objects[i] = raw(o.metadata!.namespace!, o.metadata!.name!, (o.metadata!.generation ?? 1) + 1, `rate(errors_total[1m]) > ${pick(1000)}`);
        },
      ],
      ['add', () => objects.push(raw(`ns-${pick(45)}`, `new-${added++}`, 1))],
      ['delete', () => objects.splice(pick(objects.length), 1)],
      // The informer lists its objects in another order (a re-list): the plan must not depend on it.
      [
        'another informer order',
        () => {
          const [moved] = objects.splice(pick(objects.length), 1);
          objects.splice(pick(objects.length + 1), 0, moved!);
        },
      ],
      [
        'an invalid edit',
        () => {
          const i = pick(objects.length);
          const o = objects[i]!;
          objects[i] = raw(o.metadata!.namespace!, o.metadata!.name!, (o.metadata!.generation ?? 1) + 1, 'rate(errors_total[5m] > 1');
        },
      ],
    ];
    const cache = new ServiceCache(undefined, undefined, undefined, true);
    const statuses = new UnchangedStatuses();
    const memo = new ReconcileMemo();
    let previous: ReconcilePlan | undefined;
    let partitionsSeen = 0;
    for (let step = 0; step < 40; step++) {
      const [what, change] = step === 0 ? ['start', () => {}] : changes[pick(changes.length)]!;
      change();
      const misses = cache.encodedPartitions.misses;
      const cached = plan(objects, cache, statuses, memo);
      const scratch = plan(objects, new ServiceCache(undefined, undefined, undefined, true));
      const [a, b] = [cached.rendered.prometheusPartitions!, scratch.rendered.prometheusPartitions!];
      const label = `step ${step} (${what})`;
      expect([label, a.hash, a.digest, a.main]).toEqual([label, b.hash, b.digest, b.main]);
      expect([label, a.partitions]).toEqual([label, b.partitions]);
      expect([label, cached.rendered.prometheusHash, cached.rendered.alertmanagerHash, cached.rendered.included]).toEqual([
        label,
        scratch.rendered.prometheusHash,
        scratch.rendered.alertmanagerHash,
        scratch.rendered.included,
      ]);
      expect([label, cached.statusUpdates]).toEqual([label, scratch.statusUpdates]);
      expect([label, cached.valid, cached.invalid, cached.otherInstall]).toEqual([label, scratch.valid, scratch.invalid, scratch.otherInstall]);
      // The stored bytes: the main object and every partition object.
      const stored = (p: ReconcilePlan) => [p.encodedPartitions!.main, ...[...p.encodedPartitions!.partitions].sort(([x], [y]) => (x < y ? -1 : 1)).map(([, e]) => e)];
      const [x, y] = [stored(cached), stored(scratch)];
      expect([label, x.length]).toEqual([label, y.length]);
      x.forEach((e, i) => {
        const f = y[i]!;
        expect([label, i, e.form === 'bundle' && f.form === 'bundle' && e.bundle.equals(f.bundle)]).toEqual([label, i, true]);
      });
      // Only the partitions whose digest moved were encoded.
      const before = previous?.rendered.prometheusPartitions?.partitions ?? [];
      const moved = a.partitions.filter((p) => !before.some((q) => q.id === p.id && q.digest === p.digest)).length;
      expect([label, cache.encodedPartitions.misses - misses]).toEqual([label, moved]);
      if (step > 0) expect([label, moved <= 2]).toEqual([label, true]);
      partitionsSeen = Math.max(partitionsSeen, a.partitions.length);
      previous = cached;
      objects = withStatuses(objects, cached);
    }
    expect(partitionsSeen).toBeGreaterThan(2);
  });
});
