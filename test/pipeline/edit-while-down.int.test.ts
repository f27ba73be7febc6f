// Edits never resolve a real outage (issue 21, kind 6), end to end with the real programs (hack/local-stack):
// the demo service loses its only target (EndpointSlice deleted: the local "scaled to zero"), ServiceDown
// fires, and then its scrape job is rendered anew, once by an edit of the MonitoredService (its interval)
// and once by the operator itself (a changed global setting re-renders every job, as an operator upgrade
// does). Neither may send RESOLVED or a second FIRING while the service stays down; bringing the target
// back still sends RESOLVED within the pipeline bound.
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ANNOTATIONS } from '../../operator/contract.js';
import { discoveryGraceMs } from '../../operator/render/rules.js';
import { MonitoredServiceSchema } from '../../operator/api/schema.js';
import { waitForConfigApplied, generatedAnnotations } from '../../hack/local-stack/config-applied.js';
import { DEMO_NAME, DEMO_NAMESPACE, demoMonitoredService } from '../../hack/local-stack/demo.js';
import { isAlertEmailFor, waitForAlertEmail, type AlertState, type MailSummary } from '../../hack/local-stack/mailpit.js';
import { getJson, pollUntil, sleep } from '../../hack/local-stack/net.js';
import { useStack } from '../../hack/local-stack/fixture.js';
import type { Stack } from '../../hack/local-stack/stack.js';

// Per test: settle + outage + edit + observation window + recovery, on a slow machine.
const TEST_TIMEOUT_MS = 360_000;
const EDITED_INTERVAL = '4s';

const theStack = useStack({ name: 'edit-while-down' });
/** The demo MonitoredService as the stack applies it, defaults filled in. */
const demoService = () => MonitoredServiceSchema.parse(demoMonitoredService());

async function demoEmails(s: Stack, state: AlertState, since: number): Promise<MailSummary[]> {
  return (await s.mailpit.client.list()).filter((m) => isAlertEmailFor(m.Subject, state, DEMO_NAMESPACE, DEMO_NAME) && Date.parse(m.Created) >= since);
}

async function demoAlertsIn(s: Stack, where: 'prometheus' | 'alertmanager'): Promise<{ labels: Record<string, string>; state?: string }[]> {
  const mine = (a: { labels: Record<string, string> }) => a.labels.vigil_namespace === DEMO_NAMESPACE && a.labels.vigil_monitoredservice === DEMO_NAME;
  if (where === 'alertmanager') {
    return (await getJson<{ labels: Record<string, string> }[]>(`${s.alertmanager.url}/api/v2/alerts?active=true&silenced=false&inhibited=false`)).filter(mine);
  }
  return (await getJson<{ data: { alerts: { labels: Record<string, string>; state: string }[] } }>(`${s.prometheus.url}/api/v1/alerts`)).data.alerts.filter(mine);
}

/** Healthy target (with the demo's own spec), nothing pending or firing anywhere, empty mailbox. */
async function settle(s: Stack): Promise<void> {
  // A failed test before may have left the endpoints deleted.
  await s.restoreTargetEndpoints();
  await s.waitForHealthyTarget();
  await pollUntil('no demo alert in Prometheus or Alertmanager', 90_000, async () => (await demoAlertsIn(s, 'prometheus')).length === 0 && (await demoAlertsIn(s, 'alertmanager')).length === 0, {
    intervalMs: 500,
  });
  await s.mailpit.client.deleteAll();
}

/** The demo's endpoints lose their EndpointSlice; resolves once the FIRING email is there. */
async function takeDown(s: Stack): Promise<number> {
  const removedAt = await s.removeTargetEndpoints();
  const { elapsedS } = await waitForAlertEmail(s.mailpit.client, {
    state: 'firing',
    namespace: DEMO_NAMESPACE,
    name: DEMO_NAME,
    since: removedAt,
    // A service the stack has just created may still be within its discovery grace.
    timeoutMs: (s.alertBoundSeconds() + 30) * 1000 + discoveryGraceMs(demoService()),
  });
  console.log(`firing email ${elapsedS.toFixed(1)} s after the endpoints went`);
  return removedAt;
}

/** Runs `change`, then waits until both servers run the config it led to (a new Prometheus config hash). */
async function rerender(s: Stack, change: () => Promise<void>): Promise<void> {
  const before = (await generatedAnnotations(s.cluster, s.installNamespace, 'configmap'))[ANNOTATIONS.configHash];
  await change();
  await pollUntil('the operator to write a new Prometheus config', 60_000, async () => {
    const now = (await generatedAnnotations(s.cluster, s.installNamespace, 'configmap'))[ANNOTATIONS.configHash];
    return now !== undefined && now !== before;
  });
  await waitForConfigApplied(s.cluster, s.installNamespace);
}

/**
 * Over a window longer than the discovery grace plus `for` plus the email path (the time a restarted grace
 * would take to resolve the alert and fire it again), the alert stays firing in Prometheus and active in
 * Alertmanager, and no email about it is sent at all.
 */
async function expectStillFiringWithoutEmail(s: Stack, since: number, graceMs: number): Promise<void> {
  const windowMs = graceMs + (s.alertBoundSeconds() + 20) * 1000;
  const end = Date.now() + windowMs;
  // Every poll's view, checked at the end, so that a failure shows the whole story (when it resolved, when it came back).
  const seen: string[] = [];
  while (Date.now() < end) {
    const prometheus = (await demoAlertsIn(s, 'prometheus')).filter((a) => a.labels.alertname === 'ServiceDown').map((a) => a.state);
    const alertmanager = (await demoAlertsIn(s, 'alertmanager')).filter((a) => a.labels.alertname === 'ServiceDown').length;
    const view = `prometheus ${JSON.stringify(prometheus)}, alertmanager ${alertmanager}`;
    if (seen.at(-1)?.endsWith(view) !== true) seen.push(`${((Date.now() - since) / 1000).toFixed(1)} s: ${view}`);
    await sleep(2000);
  }
  const emails = [...(await demoEmails(s, 'resolved', since)), ...(await demoEmails(s, 'firing', since))].map((m) => `${((Date.parse(m.Created) - since) / 1000).toFixed(1)} s: ${m.Subject}`);
  console.log(`after the change, over ${(windowMs / 1000).toFixed(0)} s:\n${[...seen, ...emails].join('\n')}`);
  expect(seen).toEqual([expect.stringMatching(/: prometheus \["firing"\], alertmanager 1$/)]);
  expect(emails).toEqual([]);
}

async function bringBackAndExpectResolved(s: Stack): Promise<void> {
  const restoredAt = Date.now();
  await s.restoreTargetEndpoints();
  const { elapsedS } = await waitForAlertEmail(s.mailpit.client, {
    state: 'resolved',
    namespace: DEMO_NAMESPACE,
    name: DEMO_NAME,
    since: restoredAt,
    timeoutMs: (s.alertBoundSeconds() + 30) * 1000,
  });
  console.log(`resolved email ${elapsedS.toFixed(1)} s after the endpoints came back (bound ${s.alertBoundSeconds()} s)`);
  expect(elapsedS).toBeLessThanOrEqual(s.alertBoundSeconds() + 30);
}

test(
  'editing the interval of a service that is down keeps its ServiceDown firing; recovery still resolves it',
  async () => {
    const s = theStack();
    await settle(s);
    await takeDown(s);
    const editedAt = Date.now();
    await rerender(s, async () => {
      await s.kubectl([
        'patch',
        'monitoredservice',
        DEMO_NAME,
        '-n',
        DEMO_NAMESPACE,
        '--type=json',
        '-p',
        JSON.stringify([{ op: 'replace', path: '/spec/endpoints/0/interval', value: EDITED_INTERVAL }]),
      ]);
    });
    const edited = demoService();
    edited.spec.endpoints[0]!.interval = EDITED_INTERVAL;
    await expectStillFiringWithoutEmail(s, editedAt, Math.max(discoveryGraceMs(edited), discoveryGraceMs(demoService())));
    await bringBackAndExpectResolved(s);
  },
  TEST_TIMEOUT_MS,
);

test(
  'an operator re-rendering every job (a changed global setting) keeps a firing ServiceDown firing; recovery still resolves it',
  async () => {
    const s = theStack();
    await settle(s);
    await takeDown(s);
    const changedAt = Date.now();
    await rerender(s, async () => {
      // Every job's kubernetes_sd_configs names this file: a copy at a new path changes every rendered
      // job (and Prometheus restarts their discovery) without changing what is discovered.
      const kubeconfig = s.settings.kubernetesSd?.kubeconfigFile;
      if (!kubeconfig) throw new Error('the local stack has no kubeconfig file for Prometheus discovery');
      const moved = join(s.stateDir, 'prometheus-discovery-upgraded.kubeconfig');
      await copyFile(kubeconfig, moved);
      const settings = { ...s.settings, kubernetesSd: { ...s.settings.kubernetesSd, kubeconfigFile: moved } };
      await s.stopComponent('vigil-operator');
      await writeFile(join(s.stateDir, 'operator-settings.yaml'), `# changed by test/pipeline/edit-while-down.int.test.ts\n${stringify(settings)}`);
      await s.startComponent('vigil-operator');
    });
    await expectStillFiringWithoutEmail(s, changedAt, discoveryGraceMs(demoService()));
    await bringBackAndExpectResolved(s);
  },
  TEST_TIMEOUT_MS,
);
