// The long-running local stack's supervisor (issue #15, what `make local-up` runs): a component that
// crashes comes back by itself (compose's `restart: unless-stopped`), a deliberate stop is never
// undone, past the restart limit the whole stack stops with a message naming the component, and
// `make outage` / `make restore` name the dead component when the email does not come. Real
// processes of hack/local-stack on free loopback ports; root for Prometheus's mount namespace.
import { type StackState, startControlServer } from '../../hack/local-stack/control.js';
import { demoAction } from '../../hack/local-stack/demo-action.js';
import { DEMO_NAME, DEMO_NAMESPACE } from '../../hack/local-stack/demo.js';
import { useStack } from '../../hack/local-stack/fixture.js';
import { pollUntil, sleep } from '../../hack/local-stack/net.js';
import { readConditions, type Condition } from './helpers.js';
import type { Stack } from '../../hack/local-stack/stack.js';

const TIMEOUT_MS = 180_000;
const LIMIT = 2;
const BACKOFF_MS = 500;
const events: string[] = [];
const gaveUp: string[] = [];
const stack = useStack({
  name: 'supervisor',
  supervise: { limit: LIMIT, backoffMs: BACKOFF_MS, onEvent: (m) => events.push(m), onGiveUp: (m) => gaveUp.push(m) },
});

const conditions = (s: Stack) => readConditions(s.cluster, { namespace: DEMO_NAMESPACE, name: DEMO_NAME });

const pid = (s: Stack, name: string) => s.processes().find((p) => p.name === name)?.pid;
const kill9 = (s: Stack, name: string) => process.kill(pid(s, name)!, 'SIGKILL');
const waitForEvent = (what: string, re: RegExp, timeoutMs = 60_000) =>
  pollUntil(what, timeoutMs, async () => events.find((e) => re.test(e)), { intervalMs: 100 }).catch((err: Error) => {
    throw new Error(`${err.message}; supervisor events so far:\n${events.join('\n')}`);
  });

test(
  'Prometheus killed with SIGKILL: restarted after the backoff, and the demo service is applied and healthy again',
  async () => {
    const s = stack();
    await pollUntil('the demo service Ready', 60_000, async () => (await conditions(s)).get('Ready')?.status === 'True', { intervalMs: 500 });
    const before = pid(s, 'prometheus')!;
    const killedAt = Date.now();
    kill9(s, 'prometheus');
    const restarting = await waitForEvent('the restart line', /^prometheus exited/);
    expect(restarting).toMatch(new RegExp(`^prometheus exited with code null \\(signal SIGKILL\\); restarting \\(1/${LIMIT}\\) in ${BACKOFF_MS} ms \\(log: .*prometheus\\.log\\)$`));
    await waitForEvent('prometheus restarted', /^prometheus restarted \(pid \d+\)$/);
    const restartedS = (Date.now() - killedAt) / 1000;
    const after = pid(s, 'prometheus')!;
    expect(after).not.toBe(before);
    expect(s.prometheus.process.isRunning()).toBe(true);

    // The restarted Prometheus runs Vigil's config again (the sidecar's files are still in its config dir) and
    // scrapes the demo target: the status follows.
    let last = new Map<string, Condition>();
    await pollUntil(
      'ConfigApplied, TargetsHealthy and Ready True again',
      90_000,
      async () => {
        last = await conditions(s);
        return ['ConfigApplied', 'TargetsHealthy', 'Ready'].every((t) => last.get(t)?.status === 'True');
      },
      { intervalMs: 500 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last conditions: ${JSON.stringify([...last.values()])}`);
    });
    const readyS = (Date.now() - killedAt) / 1000;
    await s.waitForHealthyTarget(30_000);
    expect((await s.componentStatus()).find((c) => c.name === 'prometheus')).toMatchObject({ running: true, pid: after, restarts: 1 });
    process.stderr.write(`[supervisor.int] Prometheus SIGKILLed: answering again after ${restartedS.toFixed(1)} s, demo service Ready=True after ${readyS.toFixed(1)} s\n`);
  },
  TIMEOUT_MS,
);

test(
  'Alertmanager stopped deliberately stays stopped; make outage and make restore time out naming it',
  async () => {
    const s = stack();
    const { server, url } = await startControlServer(s);
    try {
      await s.stopComponent('alertmanager');
      await sleep(BACKOFF_MS * 4);
      expect(s.alertmanager.process.isRunning()).toBe(false);
      expect(events.filter((e) => e.startsWith('alertmanager'))).toEqual([]);

      const state: StackState = {
        pid: process.pid,
        controlUrl: url,
        kubeconfig: s.kubeconfigPath,
        urls: s.urls,
        mailApiUrl: s.mailpit.uiUrl,
        boundSeconds: s.alertBoundSeconds(),
        demo: { namespace: DEMO_NAMESPACE, name: DEMO_NAME },
      };
      const lines: string[] = [];
      const amPid = s.alertmanager.process.pid;
      const dead = new RegExp(`alertmanager is not running: its process \\(pid ${amPid}\\) exited with code (0|null \\(signal SIGTERM\\)) \\(log: .*alertmanager\\.log\\)`);
      for (const action of ['outage', 'restore'] as const) {
        const err = await demoAction(action, state, { timeoutMs: 3000, print: (l) => lines.push(l) }).then(
          () => undefined,
          (e: Error) => e,
        );
        expect(err?.message).toMatch(new RegExp(`^no ${action === 'outage' ? 'firing' : 'resolved'} email about demo/demo-target within 3 s`));
        expect(err?.message).toContain('the local stack is not whole:');
        expect(err?.message).toMatch(dead);
        // Only the dead one is named.
        expect(err?.message.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(1);
      }
      expect(lines).toContain('target stopped; waiting for the firing email (bound S + E + ceil(F/E)*E + 2 s = 17 s)');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      if (!s.alertmanager.process.isRunning()) await s.startComponent('alertmanager');
      if (!s.isTargetRunning()) await s.startTarget();
    }
    // Started again by hand, it is supervised again.
    expect((await s.componentStatus()).find((c) => c.name === 'alertmanager')).toMatchObject({ running: true });
  },
  TIMEOUT_MS,
);

test(
  `stunnel crashing ${LIMIT + 1} times: restarted ${LIMIT} times, then the whole stack stops with a message naming it`,
  async () => {
    const s = stack();
    for (let n = 1; n <= LIMIT; n++) {
      kill9(s, 'stunnel');
      await waitForEvent(`stunnel restart ${n}`, new RegExp(`^stunnel exited with code null \\(signal SIGKILL\\); restarting \\(${n}/${LIMIT}\\)`));
      await pollUntil(`stunnel restarted ${n} times`, 30_000, async () => events.filter((e) => /^stunnel restarted/.test(e)).length === n, { intervalMs: 100 });
    }
    kill9(s, 'stunnel');
    await pollUntil('the supervisor to give up', 60_000, async () => gaveUp.length > 0, { intervalMs: 100 });
    expect(gaveUp).toHaveLength(1);
    expect(gaveUp[0]).toMatch(
      new RegExp(
        `^stunnel exited with code null \\(signal SIGKILL\\) again: ${LIMIT + 1} crashes within 600 s, more than the restart limit of ${LIMIT}; stopping the local stack \\(log: .*stunnel\\.log\\)$`,
      ),
    );
    // onGiveUp comes after the stack stopped: nothing of it runs any more.
    expect(
      s
        .processes()
        .filter((p) => p.isRunning())
        .map((p) => p.name),
    ).toEqual([]);
    expect(s.cluster.isApiServerRunning()).toBe(false);
  },
  TIMEOUT_MS,
);
