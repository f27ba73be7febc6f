// The partitioning of services into stored objects: every service in exactly one partition, every
// partition under its budget, the same partitions whatever the order or history, and one change
// touching one partition.
import { NAMESPACES_PER_CUT, partitionServices, startsPartition, type Partition, type PartitionUnit } from './partitions.js';

/** A deterministic pseudo-random sequence (tests must not depend on Math.random). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** `namespaces` namespaces of 1..maxPerNamespace services, each 1..maxBytes bytes. */
function cluster(namespaces: number, maxPerNamespace: number, maxBytes: number, seed = 1): PartitionUnit[] {
  const random = lcg(seed);
  const units: PartitionUnit[] = [];
  for (let n = 0; n < namespaces; n++) {
    const count = 1 + Math.floor(random() * maxPerNamespace);
    for (let s = 0; s < count; s++) units.push({ ref: { namespace: `team-${n}`, name: `svc-${s}` }, bytes: 1 + Math.floor(random() * maxBytes) });
  }
  return units;
}

const key = (p: Partition) => `${p.id}:${p.refs.map((r) => `${r.namespace}/${r.name}`).join(',')}:${p.bytes}`;

/** Ids of the partitions that are not in `before` exactly as they are in `after`, and the ids gone. */
function touched(before: Partition[], after: Partition[]): string[] {
  const was = new Set(before.map(key));
  const now = new Set(after.map(key));
  return [...after.filter((p) => !was.has(key(p))).map((p) => p.id), ...before.filter((p) => !now.has(key(p))).map((p) => p.id)].filter((id, i, all) => all.indexOf(id) === i).sort();
}

describe('partitionServices', () => {
  it('puts a small install in one partition', () => {
    const units = cluster(5, 10, 4000);
    const partitions = partitionServices(units);
    // Several partitions only when a namespace name is a cut point; the first is one anyway.
    expect(partitions.reduce((n, p) => n + p.refs.length, 0)).toBe(units.length);
    expect(partitionServices([{ ref: { namespace: 'shop', name: 'checkout' }, bytes: 3000 }])).toEqual([
      { id: expect.stringMatching(/^[0-9a-f]{12}$/), refs: [{ namespace: 'shop', name: 'checkout' }], units: [{ ref: { namespace: 'shop', name: 'checkout' }, bytes: 3000 }], bytes: 3000 },
    ]);
    expect(partitionServices([])).toEqual([]);
  });

  it('places every service exactly once, keeps each partition under its budget and in ref order', () => {
    const budget = 50_000;
    const units = cluster(300, 60, 4000, 7);
    const partitions = partitionServices(units, budget);
    const placed = partitions.flatMap((p) => p.refs.map((r) => `${r.namespace}/${r.name}`));
    expect(placed).toHaveLength(units.length);
    expect(new Set(placed).size).toBe(units.length);
    expect([...placed].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(placed);
    const bytesOf = new Map(units.map((u) => [`${u.ref.namespace}/${u.ref.name}`, u.bytes]));
    for (const p of partitions) {
      expect(p.bytes).toBe(p.refs.reduce((n, r) => n + bytesOf.get(`${r.namespace}/${r.name}`)!, 0));
      expect(p.bytes).toBeLessThanOrEqual(budget);
    }
    expect(new Set(partitions.map((p) => p.id)).size).toBe(partitions.length);
    // Bin packing, not one partition per service: most partitions are at least a quarter full.
    expect(partitions.filter((p) => p.bytes >= budget / 4).length).toBeGreaterThan(partitions.length / 2);
  });

  it('gives a single service larger than the budget a partition of its own, and nothing else is over', () => {
    const units: PartitionUnit[] = [
      { ref: { namespace: 'a', name: 'x' }, bytes: 100 },
      { ref: { namespace: 'a', name: 'y' }, bytes: 5000 },
      { ref: { namespace: 'a', name: 'z' }, bytes: 100 },
    ];
    const partitions = partitionServices(units, 1000);
    expect(partitions.map((p) => p.refs.map((r) => r.name))).toEqual([['x'], ['y'], ['z']]);
  });

  it('is a function of the services only: any order gives the same partitions (a restarted operator computes the same)', () => {
    const units = cluster(200, 40, 4000, 3);
    const first = partitionServices(units, 60_000);
    const random = lcg(99);
    const shuffled = [...units].sort(() => random() - 0.5);
    expect(partitionServices(shuffled, 60_000)).toEqual(first);
    expect(
      partitionServices(
        units.map((u) => ({ ref: { ...u.ref }, bytes: u.bytes })),
        60_000,
      ),
    ).toEqual(first);
  });

  it('splits a namespace only when it does not fit', () => {
    const budget = 100_000;
    const big = Array.from({ length: 100 }, (_, i): PartitionUnit => ({ ref: { namespace: 'big', name: `s${String(i).padStart(3, '0')}` }, bytes: 3000 }));
    const small = Array.from({ length: 10 }, (_, i): PartitionUnit => ({ ref: { namespace: 'small', name: `s${i}` }, bytes: 3000 }));
    const partitions = partitionServices([...big, ...small], budget);
    const holding = (ns: string) => partitions.filter((p) => p.refs.some((r) => r.namespace === ns));
    expect(holding('big').length).toBeGreaterThanOrEqual(3);
    expect(holding('small')).toHaveLength(1);
  });

  describe('one change touches one partition', () => {
    // The proportions of a real cluster, scaled down 10 times: a 900 KB budget, services of 2-6 KB,
    // namespaces of 1-40 services.
    const budget = 90_000;
    const units = cluster(300, 40, 600, 11).map((u) => ({ ...u, bytes: u.bytes + 200 }));
    const before = partitionServices(units, budget);
    const namespaces = [...new Set(units.map((u) => u.ref.namespace))].sort();
    /** The namespaces from the cut at or before `namespace` to the next cut: where a change in it may reach. */
    const stretchOf = (namespace: string) => {
      let from = namespaces.indexOf(namespace);
      while (from > 0 && !startsPartition(namespaces[from]!)) from--;
      let to = namespaces.indexOf(namespace) + 1;
      while (to < namespaces.length && !startsPartition(namespaces[to]!)) to++;
      return new Set(namespaces.slice(from, to));
    };
    const partitionOf = new Map(before.flatMap((p) => p.refs.map((r) => [`${r.namespace}/${r.name}`, p])));

    it('holds for nearly every size change of a service (an edit of its rules), and every change stays between the namespace cuts around it', () => {
      let one = 0;
      let total = 0;
      const escaped: string[] = [];
      for (let i = 0; i < units.length; i += 16) {
        const unit = units[i]!;
        const home = partitionOf.get(`${unit.ref.namespace}/${unit.ref.name}`)!;
        const stretch = stretchOf(unit.ref.namespace);
        for (const delta of [-150, 300]) {
          const changed = units.map((u, j) => (j === i ? { ...u, bytes: u.bytes + delta } : u));
          const after = partitionServices(changed, budget);
          const ids = touched(before, after);
          if (!ids.includes(home.id)) escaped.push(`${unit.ref.namespace}/${unit.ref.name} ${delta}: its partition ${home.id} unchanged`);
          for (const p of [...before, ...after].filter((q) => ids.includes(q.id))) {
            if (p.refs.some((r) => !stretch.has(r.namespace))) escaped.push(`${unit.ref.namespace}/${unit.ref.name} ${delta}: partition ${p.id} outside its stretch`);
          }
          total++;
          if (ids.length === 1) one++;
        }
      }
      process.stdout.write(`one partition touched by ${one} of ${total} size changes\n`);
      expect(escaped).toEqual([]);
      expect(total).toBeGreaterThan(300);
      expect(one / total).toBeGreaterThan(0.9);
    });

    it('holds for a new service of an existing namespace that fits in its partition', () => {
      let checked = 0;
      for (const namespace of namespaces.filter((_, i) => i % 5 === 0)) {
        const added: PartitionUnit = { ref: { namespace, name: 'svc-new' }, bytes: 300 };
        const after = partitionServices([...units, added], budget);
        const home = after.find((p) => p.refs.some((r) => r.namespace === namespace && r.name === 'svc-new'))!;
        const was = before.find((p) => p.id === home.id);
        if (!was || was.bytes + 300 > budget) continue;
        const ids = touched(before, after);
        expect(ids).toContain(home.id);
        if (ids.length === 1) checked++;
      }
      expect(checked).toBeGreaterThan(40);
    });

    it('keeps the partitions outside a deleted namespace, and one holding only that namespace goes away', () => {
      // Namespaces of more than half a budget each (split in two by their size): every one has partitions of its own.
      const wide = Array.from({ length: 8 }, (_, n) =>
        Array.from({ length: 30 }, (_, s): PartitionUnit => ({ ref: { namespace: `wide-${n}`, name: `s${String(s).padStart(2, '0')}` }, bytes: 1500 })),
      ).flat();
      const all = partitionServices(wide, 50_000);
      const gone = all.filter((p) => p.refs.every((r) => r.namespace === 'wide-3'));
      expect(gone.length).toBeGreaterThan(0);
      const after = partitionServices(
        wide.filter((u) => u.ref.namespace !== 'wide-3'),
        50_000,
      );
      const ids = new Set(after.map((p) => p.id));
      for (const p of gone) expect(ids.has(p.id)).toBe(false);
      // A namespace of more than half a budget has partitions of its own: no other partition changes.
      expect(touched(all, after)).toEqual(gone.map((p) => p.id).sort());
      expect(after.flatMap((p) => p.refs)).toHaveLength(wide.length - 30);
    });
  });

  it('cuts at namespaces by name alone: about one namespace in NAMESPACES_PER_CUT starts a partition', () => {
    const units = Array.from({ length: 1600 }, (_, n): PartitionUnit => ({ ref: { namespace: `ns-${n}`, name: 'svc' }, bytes: 10 }));
    const count = partitionServices(units).length;
    expect(count).toBeGreaterThan(1600 / NAMESPACES_PER_CUT / 2);
    expect(count).toBeLessThan((1600 / NAMESPACES_PER_CUT) * 2);
  });
});
