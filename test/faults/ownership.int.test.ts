// Issue #14 with the real programs as local processes (hack/local-stack: API server, operator,
// Prometheus 3 + sync sidecar, Alertmanager 0.35 + sync sidecar, stunnel on a free loopback port,
// Mailpit, demo target). Demo timings: scrape, evaluation and `for` are 5 s; group_wait 0s.
//
// 1. Alerts reach only their owners: a firing service that is deleted, renamed or broken by an
//    invalid edit (with an operator restart in between) sends nothing to anyone else, ever; the
//    invalid one keeps its last valid generation running (its alert keeps firing, its route stays).
// 2. Alerts fire only when true: repeated creation of healthy services, Prometheus restarts (with
//    and without its TSDB, i.e. a new pod) and operator restarts give no ServiceDown or
//    ServiceTargetDown at `for: 5s`, not even pending; real outages (failing, vanished, scaled to
//    zero, selector matching nothing) still alert within their bound.
//
// Needs root, like the pipeline test: Prometheus runs in a private mount namespace.
//
// The tests mostly wait (alert timings, observation windows), so they run on two stacks at once
// (test.concurrent): the restarts and the rolling update on one, ownership, creation rounds and
// outages on the other, each stack's tests one after another (they stop its target, restart its
// Prometheus and operator, and empty its mailbox). The ownership stack's Prometheus resends firing
// alerts every 30 s instead of 1 min, so the orphaned alerts of test 1 expire after 2 instead of 4
// minutes (see ALERT_RESEND_DELAY_S).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DEMO_NAMESPACE, DEMO_TARGET_HOST, demoMonitoredService, durationSeconds } from '../../hack/local-stack/demo.js';
import { takeTurns, useStacks } from '../../hack/local-stack/fixture.js';
import { waitForAlertEmail, type MailSummary } from '../../hack/local-stack/mailpit.js';
import { getJson, pollUntil, sleep } from '../../hack/local-stack/net.js';
import { EVALUATION_INTERVAL, type Stack } from '../../hack/local-stack/stack.js';
import { recipientSetReceiver } from '../../operator/render/names.js';
import { addresses, condition, restartStopped, settle, DEMO } from './helpers.js';
import { alwaysFiring, apply, deleteMs, deleteTargets, monitoredService, targetObjects } from './objects.js';

const DEMO_RECIPIENTS = [...(demoMonitoredService().spec.notify?.email?.to ?? [])].sort();

/**
 * Prometheus's --rules.alert.resend-delay on the ownership stack: it sends each firing alert with
 * endsAt = 4 x max(resend delay, evaluation interval) ahead (2 min here), which is how long
 * Alertmanager keeps an orphaned alert active. Still far longer than the operator restart and
 * Alertmanager reload the test waits for before that.
 */
const ALERT_RESEND_DELAY_S = 30;

const stacks = useStacks({
  ownership: { name: 'ownership', prometheusArgs: [`--rules.alert.resend-delay=${ALERT_RESEND_DELAY_S}s`] },
  restarts: { name: 'ownership-restarts' },
});
const onOwnershipStack = takeTurns();
const onRestartsStack = takeTurns();
const logger = (lane: string) => (m: string) => console.log(`[${lane}] ${m}`);
const log = logger('ownership');
const logRestarts = logger('ownership-restarts');

// --- objects -------------------------------------------------------------------------------------

// --- observations --------------------------------------------------------------------------------

interface AmAlert {
  labels: Record<string, string>;
  receivers: { name: string }[];
  status: { state: string };
  endsAt: string;
}

async function amAlertsOf(s: Stack, name: string): Promise<AmAlert[]> {
  const alerts = await getJson<AmAlert[]>(`${s.alertmanager.url}/api/v2/alerts`);
  return alerts.filter((a) => a.labels.vigil_namespace === DEMO_NAMESPACE && a.labels.vigil_monitoredservice === name);
}

/** Every email whose subject names demo/<name> (any state, any recipient). */
async function emailsAbout(s: Stack, name: string): Promise<MailSummary[]> {
  return (await s.mailpit.client.list()).filter((m) => m.Subject.split(' ').includes(`${DEMO_NAMESPACE}/${name}`));
}

interface RangeResult {
  data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
}

/**
 * Every ServiceDown/ServiceTargetDown state (pending or firing) Prometheus had between `from` and
 * now for services matching `nameRegex`, from the ALERTS series sampled every second: a pending
 * alert is already a false positive in the making.
 */
async function downAlertsBetween(s: Stack, nameRegex: string, from: number): Promise<string[]> {
  const q = `ALERTS{alertname=~"ServiceDown|ServiceTargetDown", vigil_namespace="${DEMO_NAMESPACE}", vigil_monitoredservice=~"${nameRegex}"}`;
  const url = `${s.prometheus.url}/api/v1/query_range?query=${encodeURIComponent(q)}&start=${from / 1000}&end=${Date.now() / 1000}&step=1`;
  const r = await getJson<RangeResult>(url);
  return r.data.result.map((x) => `${x.metric.alertname} ${x.metric.vigil_monitoredservice} ${x.metric.alertstate} x${x.values.length}`);
}

/**
 * The samples of `query` from `from` to now at 1 s steps, as runs of equal values with their
 * start and end (seconds since `from`) and "gap" for steps without a sample: what happened to a
 * series, readable in a failure message or the log.
 */
async function timeline(s: Stack, query: string, from: number): Promise<string> {
  const start = Math.floor(from / 1000);
  const end = Math.floor(Date.now() / 1000);
  const url = `${s.prometheus.url}/api/v1/query_range?query=${encodeURIComponent(query)}&start=${start}&end=${end}&step=1`;
  const r = await getJson<RangeResult>(url);
  const at = new Map<number, string>();
  for (const series of r.data.result) for (const [t, v] of series.values) at.set(Math.round(t), `${at.has(Math.round(t)) ? `${at.get(Math.round(t))}+` : ''}${v}`);
  const runs: string[] = [];
  let runStart = start;
  let current = at.get(start) ?? 'gap';
  for (let t = start + 1; t <= end + 1; t++) {
    const v = t <= end ? (at.get(t) ?? 'gap') : undefined;
    if (v !== current) {
      runs.push(`${runStart - start}-${t - 1 - start}s:${current}`);
      runStart = t;
      current = v ?? '';
    }
  }
  return runs.join(' ');
}

/** The values `label` took in the series of `selector` since `from`. */
async function labelValues(s: Stack, label: string, selector: string, from: number): Promise<string[]> {
  const url = `${s.prometheus.url}/api/v1/label/${label}/values?match[]=${encodeURIComponent(selector)}&start=${from / 1000}&end=${Date.now() / 1000}`;
  return (await getJson<{ data: string[] }>(url)).data;
}

/** How long after the rules load absence of targets alerts: grace (2 x 5 s + 30 s) + for + 2 evaluations + slack. */
const NEW_SERVICE_ABSENT_BOUND_S = 40 + 5 + 2 * durationSeconds(EVALUATION_INTERVAL) + 5;
/** Long enough after a creation/restart to have passed the grace and `for` several times. */
const OBSERVE_MS = 60_000;
/**
 * Creates a healthy service (target objects + MonitoredService) for each of `names`, watches for
 * OBSERVE_MS and returns the down alerts Prometheus had meanwhile for services matching `nameRegex`.
 */
async function createHealthyServices(s: Stack, names: string[], nameRegex: string): Promise<string[]> {
  const at = Date.now();
  await apply(
    s,
    names.flatMap((n) => [...targetObjects(n, s.ports.target), monitoredService(n)]),
  );
  await sleep(OBSERVE_MS);
  return downAlertsBetween(s, nameRegex, at);
}

async function deleteServices(s: Stack, names: string[]): Promise<void> {
  await deleteMs(s, names);
  await deleteTargets(s, names);
}

/** Subjects of the ServiceDown/ServiceTargetDown emails sent since `since` (any service). */
async function downEmailsSince(s: Stack, since: number): Promise<string[]> {
  return (await s.mailpit.client.list()).filter((m) => Date.parse(m.Created) >= since && /ServiceDown|ServiceTargetDown/.test(m.Subject)).map((m) => m.Subject);
}

/** Rounds of new healthy services, and services per round (also the services kept for the restarts). */
const ROUNDS = 3;
const PER_ROUND = 8;

// --- 1. ownership ----------------------------------------------------------------------------------

test.concurrent(
  'deleted, renamed and invalid firing services send nothing to anyone but their owners; the invalid one keeps its last valid generation',
  onOwnershipStack(async () => {
    const s = stacks.ownership();
    await settle(s);
    const names = { deleted: 'own-deleted', renamed: 'own-renamed-from', renamedTo: 'own-renamed-to', invalid: 'own-invalid' };
    await apply(s, [
      ...targetObjects('own-target', s.ports.target),
      ...[names.deleted, names.renamed, names.invalid].map((n) => monitoredService(n, { selectorName: 'own-target', rules: [alwaysFiring(n)] })),
    ]);
    try {
      const createdAt = Date.now();
      for (const n of [names.deleted, names.renamed, names.invalid]) {
        const { mail, elapsedS } = await waitForAlertEmail(s.mailpit.client, { state: 'firing', namespace: DEMO_NAMESPACE, name: n, since: createdAt, timeoutMs: 120_000 });
        expect(addresses(mail)).toEqual([`${n}-owners@demo.example`]);
        log(`${n}: firing LeakProbe email to its owners ${elapsedS.toFixed(1)} s after creation`);
      }

      // The three changes, then an operator crash and restart while they are being processed.
      const changedAt = Date.now();
      await deleteMs(s, [names.deleted]);
      await apply(s, [monitoredService(names.renamedTo, { selectorName: 'own-target', rules: [alwaysFiring(names.renamedTo)] })]);
      await deleteMs(s, [names.renamed]);
      await apply(s, [monitoredService(names.invalid, { selectorName: 'own-target', rules: [alwaysFiring(names.invalid), { name: 'Broken', expr: 'rate(x[5m]' }] })]);
      await s.stopComponent('vigil-operator', 'SIGKILL');
      await s.startComponent('vigil-operator');

      // The invalid edit: Valid=False naming the field and the generation that keeps running.
      const valid = await pollUntil(
        'own-invalid to report Valid=False',
        60_000,
        async () => {
          const c = await condition(s, { namespace: DEMO_NAMESPACE, name: names.invalid }, 'Valid');
          return c?.status === 'False' ? c : undefined;
        },
        { intervalMs: 1000 },
      );
      expect(valid.message).toMatch(/spec\.rules\[1\]\.expr: .*the config keeps running generation 1, the last valid one/);
      const status = JSON.parse(await s.kubectl(['get', 'monitoredservice', names.invalid, '-n', DEMO_NAMESPACE, '-o', 'jsonpath={.status}'])) as Record<string, unknown>;
      expect(status).toMatchObject({ observedGeneration: 2, lastValidGeneration: 1 });

      // The deleted and renamed-away services' alerts, still active in Alertmanager until their endsAt,
      // are routed to the receiver without integrations once Alertmanager runs the new config.
      for (const n of [names.deleted, names.renamed]) {
        await pollUntil(
          `Alertmanager to route ${n}'s alerts to vigil-unowned`,
          90_000,
          async () => {
            const alerts = await amAlertsOf(s, n);
            return alerts.length > 0 && alerts.every((a) => a.receivers.map((r) => r.name).join() === 'vigil-unowned');
          },
          { intervalMs: 1000 },
        );
      }
      // The invalid one is still evaluated and routed to its owners.
      const invalidAlerts = await amAlertsOf(s, names.invalid);
      expect(invalidAlerts.length).toBeGreaterThan(0);
      for (const a of invalidAlerts) {
        expect(a.status.state).toBe('active');
        expect(a.receivers.map((r) => r.name)).toEqual([recipientSetReceiver({ to: [`${names.invalid}-owners@demo.example`], sendResolved: true })]);
      }
      const { mail: renamedMail } = await waitForAlertEmail(s.mailpit.client, { state: 'firing', namespace: DEMO_NAMESPACE, name: names.renamedTo, since: changedAt, timeoutMs: 120_000 });
      expect(addresses(renamedMail)).toEqual([`${names.renamedTo}-owners@demo.example`]);

      // Alertmanager resolves the orphaned alerts only at their endsAt (Prometheus sends 4 x the
      // resend delay ahead): wait for that, which is when the old config emailed the default recipients.
      await pollUntil(
        'the orphaned alerts to stop being active',
        360_000,
        async () => {
          const alerts = [...(await amAlertsOf(s, names.deleted)), ...(await amAlertsOf(s, names.renamed))];
          return alerts.every((a) => a.status.state !== 'active');
        },
        { intervalMs: 5000 },
      );
      await sleep(5000);
      // What the invalid service's own scrape did meanwhile (1 = scraped; a gap = no target).
      const invalidJob = `vigil/${DEMO_NAMESPACE}/${names.invalid}/http-metrics`;
      log(`${names.invalid}: up since the change: ${await timeline(s, `up{job="${invalidJob}"}`, changedAt)}`);
      for (const config of await labelValues(s, 'vigil_scrape_config', `vigil:scrape_config_loaded:timestamp_seconds{vigil_monitoredservice="${names.invalid}"}`, createdAt)) {
        const q = `count(vigil:scrape_config_loaded:timestamp_seconds{vigil_monitoredservice="${names.invalid}", vigil_scrape_config="${config}"})`;
        log(`${names.invalid}: rules of scrape config ${config} evaluated since the change: ${await timeline(s, q, changedAt)}`);
      }

      // Nothing about them after the change, to anybody; the invalid service sent nothing new either
      // (its alert kept firing: same set, deduplicated).
      for (const n of [names.deleted, names.renamed, names.invalid]) {
        const after = (await emailsAbout(s, n)).filter((m) => Date.parse(m.Created) >= changedAt);
        expect(after.map((m) => `${m.Subject} -> ${addresses(m).join(',')}`)).toEqual([]);
      }
      // And nothing of theirs ever reached the default recipients.
      const toDefault = (await s.mailpit.client.list()).filter((m) => addresses(m).some((a) => s.settings.defaultRecipients.includes(a)));
      expect(toDefault.map((m) => m.Subject)).toEqual([]);

      // Fixing the edit brings generation 3 in force without a new email.
      await apply(s, [monitoredService(names.invalid, { selectorName: 'own-target', rules: [alwaysFiring(names.invalid)] })]);
      await pollUntil('own-invalid to be Ready again', 60_000, async () => (await condition(s, { namespace: DEMO_NAMESPACE, name: names.invalid }, 'Ready'))?.status === 'True', { intervalMs: 1000 });
      await sleep(10_000);
      expect((await emailsAbout(s, names.invalid)).filter((m) => Date.parse(m.Created) >= changedAt)).toEqual([]);
    } finally {
      await deleteMs(s, [names.deleted, names.renamed, names.renamedTo, names.invalid]);
      await deleteTargets(s, ['own-target']);
      await restartStopped(s);
    }
  }),
  900_000,
);

// --- 2. no false alerts, real outages still alert -------------------------------------------------------

test.concurrent(
  'repeated creation of healthy services: no ServiceDown/ServiceTargetDown, not even pending',
  onOwnershipStack(async () => {
    const s = stacks.ownership();
    await settle(s);
    const created: string[] = [];
    const startedAt = Date.now();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const names = Array.from({ length: PER_ROUND }, (_, i) => `fresh-${round}-${i}`);
        created.push(...names);
        const seen = await createHealthyServices(s, names, 'fresh-.*');
        log(`round ${round + 1}: ${PER_ROUND} new healthy services, down alerts seen: ${seen.length === 0 ? 'none' : seen.join('; ')}`);
        expect(seen).toEqual([]);
        await deleteServices(s, names);
      }
      // No down email at all for any of them, through all of it.
      expect(await downEmailsSince(s, startedAt)).toEqual([]);
    } finally {
      await deleteServices(s, created);
      await restartStopped(s);
    }
  }),
  // Waits for the ownership test before it.
  1_500_000,
);

test.concurrent(
  'Prometheus restarts (TSDB kept and wiped) and operator restarts: no ServiceDown/ServiceTargetDown, not even pending',
  onRestartsStack(async () => {
    const s = stacks.restarts();
    const log = logRestarts;
    await settle(s);
    const created: string[] = [];
    const startedAt = Date.now();
    try {
      // One round's worth of services for the restarts, created on their own stack first.
      const kept = Array.from({ length: PER_ROUND }, (_, i) => `fresh-kept-${i}`);
      created.push(...kept);
      const seenOnCreation = await createHealthyServices(s, kept, 'fresh-kept-.*');
      log(`${PER_ROUND} new healthy services, down alerts seen: ${seenOnCreation.length === 0 ? 'none' : seenOnCreation.join('; ')}`);
      expect(seenOnCreation).toEqual([]);
      const restarts: { what: string; run: () => Promise<void> }[] = [
        {
          what: 'Prometheus SIGTERM + start (TSDB kept)',
          run: async () => {
            await s.stopComponent('prometheus');
            await s.startComponent('prometheus');
          },
        },
        {
          what: 'Prometheus SIGKILL + start with an empty TSDB (a new pod)',
          run: async () => {
            await s.stopComponent('prometheus', 'SIGKILL');
            await rm(join(s.stateDir, 'prometheus', 'data'), { recursive: true, force: true });
            await s.startComponent('prometheus');
          },
        },
        {
          what: 'Prometheus SIGKILL + start (TSDB kept)',
          run: async () => {
            await s.stopComponent('prometheus', 'SIGKILL');
            await s.startComponent('prometheus');
          },
        },
        {
          what: 'Prometheus reload',
          run: async () => {
            await fetch(`${s.prometheus.url}/-/reload`, { method: 'POST' });
          },
        },
        {
          what: 'operator SIGKILL + start',
          run: async () => {
            await s.stopComponent('vigil-operator', 'SIGKILL');
            await s.startComponent('vigil-operator');
          },
        },
      ];
      for (const r of restarts) {
        const at = Date.now();
        await r.run();
        await sleep(OBSERVE_MS);
        // The Prometheus that answers now may have lost the ALERTS history before its restart: ask it
        // from `at`; with an empty TSDB that is everything since it started.
        const seen = await downAlertsBetween(s, `fresh-kept-.*|${DEMO.name}`, at);
        log(`${r.what}: down alerts seen: ${seen.length === 0 ? 'none' : seen.join('; ')}`);
        expect(seen).toEqual([]);
      }
      // No down email at all for any of them, through all of it.
      expect(await downEmailsSince(s, startedAt)).toEqual([]);
    } finally {
      await deleteServices(s, created);
      await restartStopped(s);
    }
  }),
  1_200_000,
);

test.concurrent(
  'real outages still alert within their bound: failing, vanished, scaled to zero, and a new service whose selector matches nothing',
  onOwnershipStack(async () => {
    const s = stacks.ownership();
    await settle(s);
    const bound = s.alertBoundSeconds();
    const names = { vanished: 'out-vanished', zero: 'out-zero', nothing: 'out-nothing' };
    await apply(s, [...targetObjects(names.vanished, s.ports.target), ...targetObjects(names.zero, s.ports.target), monitoredService(names.vanished), monitoredService(names.zero)]);
    try {
      await sleep(OBSERVE_MS);
      await s.mailpit.client.deleteAll();
      const outcomes: string[] = [];
      const expectServiceDown = async (name: string, since: number, boundS: number) => {
        const { mail, elapsedS } = await waitForAlertEmail(s.mailpit.client, { state: 'firing', namespace: DEMO_NAMESPACE, name, since, timeoutMs: (boundS + 30) * 1000 });
        expect(mail.Subject).toBe(`[FIRING:1] ServiceDown ${DEMO_NAMESPACE}/${name} (critical)`);
        expect(addresses(mail)).toEqual(name === DEMO.name ? DEMO_RECIPIENTS : [`${name}-owners@demo.example`]);
        outcomes.push(`${name}: ${elapsedS.toFixed(1)} s (bound ${boundS} s)`);
        expect(elapsedS).toBeLessThanOrEqual(boundS);
      };

      // Vanished: the EndpointSlice is deleted (pod gone). Scaled to zero: the slice has no endpoints.
      const vanishedAt = Date.now();
      await s.kubectl(['delete', 'endpointslice', `${names.vanished}-local`, '-n', DEMO_NAMESPACE]);
      const zeroAt = Date.now();
      await apply(s, [targetObjects(names.zero, s.ports.target, 'none')[1]!]);
      // A new service whose selector matches nothing: after the discovery grace.
      const nothingAt = Date.now();
      await apply(s, [monitoredService(names.nothing, { selectorName: 'matches-nothing' })]);
      // Failing: the demo target stops answering.
      const failingAt = await s.stopTarget();

      // A vanished target first passes the scrape manager's fixed 5-second tick for target changes
      // (Prometheus 3.15, docs/benchmarks.md "Alert latency") and a missed evaluation: up to about 10 s above the
      // bound of a failing target.
      await Promise.all([
        expectServiceDown(names.vanished, vanishedAt, bound + 10),
        expectServiceDown(names.zero, zeroAt, bound + 10),
        expectServiceDown(names.nothing, nothingAt, NEW_SERVICE_ABSENT_BOUND_S + 10),
        expectServiceDown(DEMO.name, failingAt, bound),
      ]);
      log(`ServiceDown emails after the outage: ${outcomes.join('; ')}`);
    } finally {
      await deleteMs(s, Object.values(names));
      await deleteTargets(s, [names.vanished, names.zero]);
      await restartStopped(s);
    }
  }),
  // Waits for the two tests before it.
  2_100_000,
);

// --- 3. rolling updates ----------------------------------------------------------------------------------

test.concurrent(
  'a rolling update: terminating and not-yet-ready endpoints of a slice are no targets, so they cannot page',
  onRestartsStack(async () => {
    const s = stacks.restarts();
    await settle(s);
    const name = 'rollout';
    const [service, slice] = targetObjects(name, s.ports.target) as [object, { endpoints: object[] }];
    // What the EndpointSlice controller publishes mid-rollout: the new pod ready, the old one
    // terminating (ready=false, serving=false: its app stopped answering on SIGTERM), another new pod
    // not ready yet. Only the first may be scraped. The other two host names do not even resolve.
    slice.endpoints = [
      { addresses: [DEMO_TARGET_HOST], conditions: { ready: true, serving: true, terminating: false } },
      { addresses: ['old-pod.vigil.localhost'], conditions: { ready: false, serving: false, terminating: true } },
      { addresses: ['starting-pod.vigil.localhost'], conditions: { ready: false, serving: false, terminating: false } },
    ];
    const at = Date.now();
    await apply(s, [service, slice, monitoredService(name)]);
    try {
      interface Targets {
        data: { activeTargets: { scrapePool: string; labels: Record<string, string>; health: string }[]; droppedTargets: { discoveredLabels: Record<string, string> }[] };
      }
      const pool = `vigil/${DEMO_NAMESPACE}/${name}/http-metrics`;
      const targets = await pollUntil(
        'Prometheus to scrape the ready endpoint of the rollout service',
        90_000,
        async () => {
          const r = await getJson<Targets>(`${s.prometheus.url}/api/v1/targets`);
          const active = r.data.activeTargets.filter((t) => t.scrapePool === pool);
          return active.length > 0 && active.every((t) => t.health === 'up') ? r : undefined;
        },
        { intervalMs: 1000 },
      );
      const active = targets.data.activeTargets.filter((t) => t.scrapePool === pool);
      expect(active.map((t) => t.labels.instance)).toEqual([`${DEMO_TARGET_HOST}:${s.ports.target}`]);
      // Prometheus saw the other two and dropped them by their conditions. (The job's discovery is
      // the namespace's, shared by its jobs (issue #13): its dropped targets also hold the other
      // Services' endpoints, dropped by the selector; only this Service's are asked about here.)
      const dropped = targets.data.droppedTargets
        .filter((t) => t.discoveredLabels.job === pool && t.discoveredLabels.__meta_kubernetes_service_name === name)
        .map(
          (t) =>
            `${t.discoveredLabels.__address__} ready=${t.discoveredLabels.__meta_kubernetes_endpointslice_endpoint_conditions_ready} terminating=${t.discoveredLabels.__meta_kubernetes_endpointslice_endpoint_conditions_terminating}`,
        )
        .sort();
      expect(dropped).toEqual([`old-pod.vigil.localhost:${s.ports.target} ready=false terminating=true`, `starting-pod.vigil.localhost:${s.ports.target} ready=false terminating=false`]);
      await sleep(30_000);
      expect(await downAlertsBetween(s, name, at)).toEqual([]);
    } finally {
      await deleteMs(s, [name]);
      await deleteTargets(s, [name]);
    }
  }),
  // Waits for the restarts test before it.
  1_500_000,
);
