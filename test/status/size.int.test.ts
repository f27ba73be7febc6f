// One team's size never holds back another team (issue #15), against real processes: etcd +
// kube-apiserver, `vigil operator`, Prometheus and Alertmanager with their sync sidecars
// (test/hostile/stack.ts). Eight services of 50 rules with incompressible descriptions make the
// gzip'd Prometheus config larger than one Kubernetes object (1 MB): the operator leaves out as
// many as needed (newest, then largest first), says so in their ConfigApplied, and writes the
// rest, so another team's change is applied meanwhile. Sizes are printed, not asserted.
import { pollUntil } from '../../hack/local-stack/net.js';
import { applyObjects, startHostileStack, waitForConfigApplied, type HostileStack } from '../hostile/stack.js';
import { bigRules, cond, monitoredWithRules as monitored, readStatus, type Condition } from './helpers.js';

const BIG_NS = 'team-big';
const SMALL_NS = 'team-small';
const BIG = Array.from({ length: 8 }, (_, i) => `report-${i}`);
let stack: HostileStack | undefined;

beforeAll(async () => {
  // The config in one object (the operator without --config-partitions): what it leaves out when that is too large.
  stack = await startHostileStack({ namespaces: [BIG_NS, SMALL_NS], configPartitions: false });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

function s(): HostileStack {
  if (!stack) throw new Error('the stack did not start (see beforeAll)');
  return stack;
}

const applied = async (namespace: string, name: string) => cond(await readStatus(s().cluster, { namespace, name }), 'ConfigApplied');

async function loadedRuleGroups(): Promise<string[]> {
  const r = (await (await fetch(`${s().prometheus.url}/api/v1/rules`)).json()) as { data: { groups: { name: string }[] } };
  return r.data.groups.map((g) => g.name);
}

test("an unrelated team's change is applied while another team is over the size limit; the left-out services are named and the others say they run", async () => {
  await applyObjects(s().cluster, [monitored(SMALL_NS, 'web', [])]);
  await pollUntil('team-small/web ConfigApplied', 90_000, async () => (await applied(SMALL_NS, 'web'))?.status === 'True', { intervalMs: 500 });

  // create, not apply: kubectl apply would copy each 200 KB spec into an annotation (256 KB limit).
  await s().cluster.kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: BIG.map((n) => monitored(BIG_NS, n, bigRules())) }) });
  const settled = await pollUntil(
    'every big service ConfigApplied=True or ConfigTooLarge, and the config applied',
    180_000,
    async () => {
      const conds = await Promise.all(BIG.map((n) => applied(BIG_NS, n)));
      if (!conds.every((c) => c?.status === 'True' || c?.reason === 'ConfigTooLarge')) return undefined;
      return conds as Condition[];
    },
    { intervalMs: 1000 },
  );
  const leftOut = BIG.filter((_, i) => settled[i]!.reason === 'ConfigTooLarge');
  const kept = BIG.filter((_, i) => settled[i]!.status === 'True');
  expect(leftOut.length).toBeGreaterThan(0);
  expect(kept.length).toBeGreaterThan(0);
  // Each left-out service names itself and every other one left out.
  for (const n of leftOut) {
    const c = settled[BIG.indexOf(n)]!;
    expect(c.message).toMatch(/^left out of the generated config: with every service it does not fit in one Kubernetes object/);
    for (const other of leftOut) expect(c.message).toContain(`${BIG_NS}/${other}`);
  }
  // The conditions tell the truth: Prometheus runs exactly the kept services' rules.
  await waitForConfigApplied(s(), 120_000);
  const groups = await loadedRuleGroups();
  for (const n of kept) expect(groups).toContain(`vigil/${BIG_NS}/${n}`);
  for (const n of leftOut) expect(groups).not.toContain(`vigil/${BIG_NS}/${n}`);

  // The other team changes its service: applied, not held back.
  await applyObjects(s().cluster, [monitored(SMALL_NS, 'web', [{ name: 'SmallTeamRule', expr: 'up == 0' }])]);
  await pollUntil(
    'team-small/web generation 2 ConfigApplied=True',
    120_000,
    async () => {
      const c = await applied(SMALL_NS, 'web');
      return c?.status === 'True' && c.observedGeneration === 2;
    },
    { intervalMs: 500 },
  );
  const r = (await (await fetch(`${s().prometheus.url}/api/v1/rules`)).json()) as { data: { groups: { name: string; rules: { name: string }[] }[] } };
  expect(r.data.groups.find((g) => g.name === `vigil/${SMALL_NS}/web`)?.rules.map((x) => x.name)).toContain('SmallTeamRule');
  // And the left-out ones still say so (not a frozen or a false True).
  for (const n of leftOut) expect((await applied(BIG_NS, n))?.reason).toBe('ConfigTooLarge');
  process.stderr.write(`[size.int] ${BIG.length} services of ~200 KB: ${kept.length} run, ${leftOut.length} left out (${leftOut.join(', ')})\n`);
}, 600_000);
