// Status that does not flap (issue #22): while another team applies changes (new recipients, a new
// rule, a new service: each a new Prometheus and Alertmanager config, written, reloaded by the
// sidecars and confirmed), every other team's services stay ConfigApplied=True and Ready=True, sampled
// every second. Real processes: etcd + kube-apiserver, `vigil operator` polling Prometheus and
// Alertmanager as the chart runs it (--prometheus-url, --alertmanager-url), Prometheus 3.15 and
// Alertmanager 0.35 with their sync sidecars, the demo target.
import { join } from 'node:path';
import { startDemoTarget } from '../../hack/local-stack/components.js';
import { freePorts, pollUntil } from '../../hack/local-stack/net.js';
import type { ManagedProcess } from '../../hack/local-stack/process.js';
import { applyObjects, startHostileStack, type HostileStack } from '../hostile/stack.js';
import { cond, monitoredHostTarget, waitForCondition, type MsStatus } from './helpers.js';

const STABLE_NS = 'team-a';
const BUSY_NS = 'team-b';
const STABLE = ['orders', 'search', 'billing'];
const HOST = 'pod-0.no-flap.vigil.localhost';
let stack: HostileStack | undefined;
let target: ManagedProcess | undefined;
let targetPort = 0;

interface Item {
  metadata: { namespace: string; name: string; generation: number };
  status?: MsStatus;
}

beforeAll(async () => {
  [targetPort] = (await freePorts(1)) as [number];
  stack = await startHostileStack({ namespaces: [STABLE_NS, BUSY_NS], extraHosts: [`127.0.0.1 ${HOST}`], pollAlertmanager: true });
  target = await startDemoTarget({ logFile: join(stack.dir, 'target.log'), port: targetPort });
}, 240_000);

afterAll(async () => {
  await target?.stop(5000);
  await stack?.stop();
}, 60_000);

function s(): HostileStack {
  if (!stack) throw new Error('the stack did not start (see beforeAll)');
  return stack;
}

const apply = (objects: object[]) => applyObjects(s().cluster, objects);

/** A Service over the demo target and its MonitoredService. */
function monitored(namespace: string, name: string, spec: Record<string, unknown> = {}): object[] {
  return monitoredHostTarget({ namespace, name, host: HOST, port: targetPort, managedBy: 'vigil-status-test', spec });
}

async function items(namespace: string): Promise<Item[]> {
  return (JSON.parse(await s().cluster.kubectl(['get', 'monitoredservices', '-n', namespace, '-o', 'json'])) as { items: Item[] }).items;
}

/** Waits until `name` is ConfigApplied=True at its current generation. */
const waitApplied = async (namespace: string, name: string): Promise<void> => {
  const { metadata } = (await items(namespace)).find((i) => i.metadata.name === name)!;
  await waitForCondition(s().cluster, { namespace, name }, 'ConfigApplied', { status: 'True', observedGeneration: metadata.generation }, { timeoutMs: 90_000, logs: () => s().logs(20) });
};

/** The new services of the busy team that are sampled too: one over the demo target, one whose Service has no endpoints. */
const NEWCOMER = 'newcomer';
const EMPTY = 'empty';

test('another team applies 6 changes and 2 new services: every other service stays ConfigApplied, TargetsHealthy, RulesHealthy and Ready True at every 1 s sample; a new service is never TargetsHealthy False before its first scrape, and one without endpoints is NoTargets only after the discovery grace', async () => {
  await apply(STABLE.flatMap((name) => monitored(STABLE_NS, name)));
  await apply(monitored(BUSY_NS, 'churn'));
  await pollUntil(
    'every team-a service Ready',
    120_000,
    async () => {
      const now = await items(STABLE_NS);
      return now.length === STABLE.length && now.every((i) => ['Ready', 'ConfigApplied', 'RulesHealthy'].every((t) => cond(i.status, t)?.status === 'True'));
    },
    { intervalMs: 1000 },
  );
  await waitApplied(BUSY_NS, 'churn');

  const samples: { at: string; name: string; applied: string; ready: string; targets: string; rules: string }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const started = Date.now();
      const at = new Date(started).toISOString();
      const busy = (await items(BUSY_NS)).filter((i) => [NEWCOMER, EMPTY].includes(i.metadata.name));
      for (const i of [...(await items(STABLE_NS)), ...busy]) {
        const applied = cond(i.status, 'ConfigApplied');
        const ready = cond(i.status, 'Ready');
        const targets = cond(i.status, 'TargetsHealthy');
        const rules = cond(i.status, 'RulesHealthy');
        samples.push({
          at,
          name: i.metadata.name,
          applied: `${applied?.status}/${applied?.reason}`,
          ready: `${ready?.status}/${ready?.reason}`,
          targets: `${targets?.status}/${targets?.reason}`,
          rules: `${rules?.status}/${rules?.reason}`,
        });
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
    }
  })();
  try {
    for (let n = 1; n <= 6; n++) {
      // Each change moves both configs: the route's recipients (Alertmanager) and a rule (Prometheus).
      await apply(
        monitored(BUSY_NS, 'churn', {
          notify: { email: { to: [`team-b-${n}@vigil.localhost`] } },
          rules: [{ name: 'Busy', expr: `up{job="vigil/${BUSY_NS}/churn/metrics"} < ${n}`, for: '1h' }],
        }),
      );
      // Its ServiceDown must not fire within the test: an email to the default receiver (which has no
      // SMTP server here) would turn the stable services' EmailDelivered False.
      if (n === 1) await apply(monitored(BUSY_NS, EMPTY, { downAlert: { for: '1h' } }).filter((o) => (o as { kind: string }).kind !== 'EndpointSlice'));
      if (n === 3) await apply(monitored(BUSY_NS, NEWCOMER));
      await waitApplied(BUSY_NS, 'churn');
      // A little more than one poll of each server after the reload.
      await new Promise((r) => setTimeout(r, 3000));
    }
    await new Promise((r) => setTimeout(r, 11_000));
    const ref = (name: string) => ({ namespace: BUSY_NS, name });
    await waitForCondition(s().cluster, ref(NEWCOMER), 'Ready', { status: 'True' }, { timeoutMs: 120_000, logs: () => s().logs(20) });
    // The grace of 2 s scrapes with 1 s timeouts is 34 s after Prometheus first evaluates the rules.
    await waitForCondition(s().cluster, ref(EMPTY), 'TargetsHealthy', { status: 'False', reason: 'NoTargets' }, { timeoutMs: 150_000, logs: () => s().logs(20) });
    // One sample of the final state.
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    sampling = false;
    await sampler;
  }
  const seconds = new Set(samples.map((x) => x.at)).size;
  expect(seconds).toBeGreaterThan(30);
  expect(new Set(samples.map((x) => x.name))).toEqual(new Set([...STABLE, NEWCOMER, EMPTY]));
  // Prometheus keeps an unchanged rule group's state across a reload: rule health does not move either.
  const stable = samples.filter((x) => STABLE.includes(x.name));
  const bad = stable.filter((x) => x.applied !== 'True/ConfigApplied' || x.ready !== 'True/Ready' || x.targets !== 'True/TargetsHealthy' || x.rules !== 'True/RulesHealthy');
  expect(bad).toEqual([]);

  // The newcomer, from its creation to Ready: waiting to be applied, discovered and scraped, never failing.
  const newcomer = samples.filter((x) => x.name === NEWCOMER);
  expect(newcomer.filter((x) => x.targets.startsWith('False/'))).toEqual([]);
  expect(newcomer.filter((x) => x.ready.startsWith('False/') && x.ready !== 'False/ApplyPending')).toEqual([]);
  expect(newcomer.at(-1)).toMatchObject({ ready: 'True/Ready', targets: 'True/TargetsHealthy' });

  // The service without endpoints: not discovered yet (Unknown, not failing) during the grace, then NoTargets.
  const empty = samples.filter((x) => x.name === EMPTY);
  const firstNoTargets = empty.findIndex((x) => x.targets === 'False/NoTargets');
  expect(firstNoTargets).toBeGreaterThan(0);
  const before = empty.slice(0, firstNoTargets);
  expect(before.filter((x) => x.targets.startsWith('False/') || (x.ready.startsWith('False/') && x.ready !== 'False/ApplyPending'))).toEqual([]);
  expect(before.map((x) => x.targets)).toContain('Unknown/NotDiscoveredYet');
  expect(empty.at(-1)).toMatchObject({ targets: 'False/NoTargets', ready: 'False/NoTargets' });
}, 600_000);
