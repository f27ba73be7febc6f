// Run-time isolation (issue 22) against real processes: etcd + kube-apiserver, `vigil operator`,
// Prometheus 3 and Alertmanager with their sync sidecars (test/hostile/stack.ts). Validation
// refuses every rule file Prometheus would refuse, so the operator runs with the test-only seam
// VIGIL_TEST_UNLOADABLE_ALERT (operator/controller/test-seam.ts): a service with a rule of that
// name gets a rule file Prometheus cannot load. Prometheus answers such a reload with only "one or
// more errors occurred", naming no file, so the operator finds the culprit by bisection.
import { pollUntil } from '../../hack/local-stack/net.js';
import { applyObjects, startHostileStack, type HostileStack } from '../hostile/stack.js';
import { cond, readStatus, waitForCondition } from './helpers.js';

const TEAM_A = 'team-a';
const TEAM_B = 'team-b';
const UNLOADABLE = 'UnloadableByPrometheus';
const DUPLICATE_RECEIVER = 'RefusedByAlertmanager';
let stack: HostileStack | undefined;

beforeAll(async () => {
  stack = await startHostileStack({ namespaces: [TEAM_A, TEAM_B], operatorEnv: { VIGIL_TEST_UNLOADABLE_ALERT: UNLOADABLE, VIGIL_TEST_DUPLICATE_RECEIVER_ALERT: DUPLICATE_RECEIVER } });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

function s(): HostileStack {
  if (!stack) throw new Error('the stack did not start (see beforeAll)');
  return stack;
}

function monitored(namespace: string, name: string, ruleNames: string[], to?: string): object {
  return {
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace, name },
    spec: {
      selector: { matchLabels: { app: name } },
      endpoints: [{ port: 'metrics' }],
      rules: ruleNames.map((n) => ({ name: n, expr: 'up == 0' })),
      ...(to ? { notify: { email: { to: [to] } } } : {}),
    },
  };
}

const apply = (...objects: object[]) => applyObjects(s().cluster, objects);

const configApplied = async (namespace: string, name: string) => cond(await readStatus(s().cluster, { namespace, name }), 'ConfigApplied');

/** Waits until `name` is ConfigApplied=True at `generation`. */
async function waitApplied(namespace: string, name: string, generation: number, timeoutMs = 90_000): Promise<void> {
  await waitForCondition(s().cluster, { namespace, name }, 'ConfigApplied', { status: 'True', observedGeneration: generation }, { timeoutMs });
}

/** Rule names (alerts and the recording rule Vigil adds) of each rule group Prometheus runs, by group name. */
async function loadedRules(): Promise<Map<string, string[]>> {
  const r = (await (await fetch(`${s().prometheus.url}/api/v1/rules`)).json()) as { data: { groups: { name: string; rules: { name: string }[] }[] } };
  return new Map(r.data.groups.map((g) => [g.name, g.rules.map((x) => x.name)]));
}

test("a service whose rule file Prometheus refuses is quarantined with Prometheus's error; other teams' changes apply meanwhile; fixing it applies it", async () => {
  await apply(monitored(TEAM_A, 'api', ['ApiDown']), monitored(TEAM_B, 'web', []), monitored(TEAM_B, 'other', ['OtherDown']));
  await waitApplied(TEAM_A, 'api', 1);
  await waitApplied(TEAM_B, 'web', 1);
  await waitApplied(TEAM_B, 'other', 1);

  // Team A's refused piece and team B's change in the same moment: one config holds both, Prometheus
  // refuses it, and bisection over the two changed services finds A.
  const started = Date.now();
  await apply(monitored(TEAM_A, 'api', ['ApiDown', UNLOADABLE]), monitored(TEAM_B, 'web', ['WebFirstRule']));
  await waitApplied(TEAM_B, 'web', 2, 120_000);
  const firstSeconds = (Date.now() - started) / 1000;
  const rejected = await pollUntil(
    'team-a/api ConfigApplied=False RejectedByPrometheus',
    60_000,
    async () => {
      const c = await configApplied(TEAM_A, 'api');
      return c?.status === 'False' && c.reason === 'RejectedByPrometheus' ? c : undefined;
    },
    { intervalMs: 500 },
  );
  expect(rejected.observedGeneration).toBe(2);
  // Prometheus's own words, as its sidecar reported them, and what runs instead.
  expect(rejected.message).toContain('one or more errors occurred while applying the new configuration');
  expect(rejected.message).toContain('because of generation 2 of this service');
  expect(rejected.message).toContain('generation 1, the last one it loaded, keeps running');
  let rules = await loadedRules();
  expect(rules.get(`vigil/${TEAM_B}/web`)).toContain('WebFirstRule');
  expect(rules.get(`vigil/${TEAM_A}/api`)).toContain('ApiDown');
  expect(rules.get(`vigil/${TEAM_A}/api`)).not.toContain(UNLOADABLE);
  expect(rules.has('vigil-test-unloadable')).toBe(false);

  // With A's refused generation in place, team B changes again: applied within the usual seconds.
  const second = Date.now();
  await apply(monitored(TEAM_B, 'web', ['WebSecondRule']));
  await waitApplied(TEAM_B, 'web', 3, 60_000);
  const secondSeconds = (Date.now() - second) / 1000;
  rules = await loadedRules();
  expect(rules.get(`vigil/${TEAM_B}/web`)).toContain('WebSecondRule');
  expect(rules.get(`vigil/${TEAM_B}/web`)).not.toContain('WebFirstRule');
  // Every other service says True; A still says why it is held back.
  expect((await configApplied(TEAM_B, 'other'))?.status).toBe('True');
  expect((await configApplied(TEAM_A, 'api'))?.reason).toBe('RejectedByPrometheus');
  const events = JSON.parse(await s().cluster.kubectl(['get', 'events', '-n', TEAM_A, '--field-selector', 'involvedObject.name=api', '-o', 'json'])) as {
    items: { type: string; reason: string; message: string }[];
  };
  const warning = events.items.find((e) => e.reason === 'RejectedByPrometheus');
  expect(warning?.type).toBe('Warning');
  expect(warning?.message).toContain('one or more errors occurred');

  // The operator restarts (SIGTERM): from A's status it knows generation 2 was refused and generation 1 runs
  // (status.lastValidGeneration), so it keeps rendering generation 1 instead of dropping A. B's next
  // change proves the new operator reconciled.
  await s().restartOperator();
  await apply(monitored(TEAM_B, 'web', ['WebThirdRule']));
  await waitApplied(TEAM_B, 'web', 4, 60_000);
  rules = await loadedRules();
  expect(rules.get(`vigil/${TEAM_B}/web`)).toContain('WebThirdRule');
  expect(rules.get(`vigil/${TEAM_A}/api`)).toContain('ApiDown');
  expect(rules.get(`vigil/${TEAM_A}/api`)).not.toContain(UNLOADABLE);
  expect(await configApplied(TEAM_A, 'api')).toMatchObject({ reason: 'RejectedByPrometheus', observedGeneration: 2 });

  // Team A fixes its service: the new generation is tried again and applied.
  await apply(monitored(TEAM_A, 'api', ['ApiDown', 'ApiFixed']));
  await waitApplied(TEAM_A, 'api', 3, 60_000);
  rules = await loadedRules();
  expect(rules.get(`vigil/${TEAM_A}/api`)).toEqual(expect.arrayContaining(['ApiDown', 'ApiFixed']));
  for (const [ns, name] of [
    [TEAM_B, 'web'],
    [TEAM_B, 'other'],
  ] as const) {
    expect((await configApplied(ns, name))?.status).toBe('True');
  }
  process.stderr.write(`[isolation.int] B's change with A's refused piece in the same config: applied after ${firstSeconds.toFixed(1)} s; B's next change: ${secondSeconds.toFixed(1)} s\n`);
}, 600_000);

/** Receiver names in the config Alertmanager runs (its /api/v2/status). */
async function runningReceivers(): Promise<string> {
  const r = (await (await fetch(`${s().alertmanager.url}/api/v2/status`)).json()) as { config: { original: string } };
  return r.config.original;
}

test("a service whose receiver Alertmanager refuses is quarantined by the service its error names; another team's change applies meanwhile; fixing it applies it", async () => {
  await apply(monitored(TEAM_A, 'mail', ['MailDown'], 'a-team@vigil.localhost'), monitored(TEAM_B, 'queue', [], 'b-team@vigil.localhost'));
  await waitApplied(TEAM_A, 'mail', 1);
  await waitApplied(TEAM_B, 'queue', 1);

  await apply(monitored(TEAM_A, 'mail', ['MailDown', DUPLICATE_RECEIVER], 'a-team@vigil.localhost'), monitored(TEAM_B, 'queue', [], 'b-new@vigil.localhost'));
  await waitApplied(TEAM_B, 'queue', 2, 120_000);
  const rejected = await pollUntil(
    'team-a/mail ConfigApplied=False RejectedByAlertmanager',
    60_000,
    async () => {
      const c = await configApplied(TEAM_A, 'mail');
      return c?.status === 'False' && c.reason === 'RejectedByAlertmanager' ? c : undefined;
    },
    { intervalMs: 500 },
  );
  // Alertmanager's own words name the receiver, so no bisection was needed.
  expect(rejected.message).toContain('notification config name "vigil-to:a-team@vigil.localhost" is not unique');
  expect(rejected.message).toContain('its error names this service');
  expect(rejected.message).toContain('generation 1, the last one it loaded, keeps running');
  expect(await runningReceivers()).toContain('b-new@vigil.localhost');
  expect(await runningReceivers()).toContain('a-team@vigil.localhost');

  await apply(monitored(TEAM_A, 'mail', ['MailDown'], 'a-fixed@vigil.localhost'));
  await waitApplied(TEAM_A, 'mail', 3, 60_000);
  expect(await runningReceivers()).toContain('a-fixed@vigil.localhost');
  expect((await configApplied(TEAM_B, 'queue'))?.status).toBe('True');
}, 600_000);
