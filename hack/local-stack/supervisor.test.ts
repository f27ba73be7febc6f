// The local stack's restart policy and the report of a timed-out `make outage` (issue #15): pure functions.
import { type ComponentStatus, componentProblems, describeExit, LOCAL_UP_RESTART_POLICY, restartDecision, timeoutReport } from './supervisor.js';

const policy = { limit: 3, backoffMs: 1000, maxBackoffMs: 3000, windowMs: 60_000 };

test('restarts back off exponentially up to the cap, then give up on the (limit+1)-th crash in the window', () => {
  const t0 = 1_000_000;
  expect(restartDecision([t0], t0, policy)).toEqual({ restart: true, attempt: 1, delayMs: 1000 });
  expect(restartDecision([t0, t0 + 10], t0 + 10, policy)).toEqual({ restart: true, attempt: 2, delayMs: 2000 });
  expect(restartDecision([t0, t0 + 10, t0 + 20], t0 + 20, policy)).toEqual({ restart: true, attempt: 3, delayMs: 3000 });
  expect(restartDecision([t0, t0 + 10, t0 + 20, t0 + 30], t0 + 30, policy)).toEqual({ restart: false, crashes: 4 });
});

test('crashes older than the window no longer count', () => {
  const t0 = 1_000_000;
  const later = t0 + 60_000 + 30;
  expect(restartDecision([t0, t0 + 10, t0 + 20, later], later, policy)).toEqual({ restart: true, attempt: 1, delayMs: 1000 });
  expect(restartDecision([t0, t0 + 59_999, later], later, policy)).toEqual({ restart: true, attempt: 2, delayMs: 2000 });
});

test("make local-up's policy: 5 restarts 1, 2, 4, 8, 16 s apart, the 6th crash in 10 min stops the stack", () => {
  const crashes: number[] = [];
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    crashes.push(i * 1000);
    const d = restartDecision(crashes, i * 1000, LOCAL_UP_RESTART_POLICY);
    if (!d.restart) throw new Error(`gave up at crash ${i + 1}`);
    delays.push(d.delayMs);
  }
  expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000]);
  crashes.push(9 * 60_000);
  expect(restartDecision(crashes, 9 * 60_000, LOCAL_UP_RESTART_POLICY)).toEqual({ restart: false, crashes: 6 });
});

test('describeExit names the code and, if any, the signal', () => {
  expect(describeExit({ code: 1, signal: null })).toBe('exited with code 1');
  expect(describeExit({ code: null, signal: 'SIGKILL' })).toBe('exited with code null (signal SIGKILL)');
});

const ok = (name: string, pid: number): ComponentStatus => ({ name, pid, running: true, endpoint: `http://127.0.0.1:1/${name}`, logFile: `/x/${name}.log`, restarts: 0 });

test('the timeout report names dead and silent components, or says every one answers', () => {
  const statuses: ComponentStatus[] = [
    { name: 'kube-apiserver', running: true, endpoint: 'https://127.0.0.1:6443', logFile: '/x/apiserver.log', restarts: 0 },
    ok('prometheus', 10),
    { ...ok('alertmanager', 11), running: false, exit: 'exited with code 0' },
    { ...ok('vigil-operator', 12), problem: 'ECONNREFUSED' },
  ];
  expect(componentProblems(statuses)).toEqual([
    'alertmanager is not running: its process (pid 11) exited with code 0 (log: /x/alertmanager.log)',
    'vigil-operator (pid 12) does not answer on http://127.0.0.1:1/vigil-operator: ECONNREFUSED (log: /x/vigil-operator.log)',
  ]);
  expect(timeoutReport('no firing email within 77 s', statuses)).toBe(
    [
      'no firing email within 77 s',
      'the local stack is not whole:',
      '  - alertmanager is not running: its process (pid 11) exited with code 0 (log: /x/alertmanager.log)',
      '  - vigil-operator (pid 12) does not answer on http://127.0.0.1:1/vigil-operator: ECONNREFUSED (log: /x/vigil-operator.log)',
    ].join('\n'),
  );
  expect(componentProblems([{ name: 'kube-apiserver', running: false, endpoint: 'https://127.0.0.1:6443', logFile: '/x/a.log', restarts: 0 }])).toEqual([
    'kube-apiserver is not running: its process exited (log: /x/a.log)',
  ]);
  const fine = timeoutReport('no firing email within 77 s', [ok('prometheus', 1), ok('alertmanager', 2)]);
  expect(fine).toContain('every component of the local stack is running and answering (prometheus, alertmanager)');
});
