// Alertmanager dead, or Alertmanager or Prometheus running a config Vigil did not write (issue #15),
// against the local stack's real programs: the operator polls Alertmanager's /metrics
// (--alertmanager-url) and Prometheus's /api/v1/status/config (--prometheus-url), and ConfigApplied,
// and with it Ready, say so with their own reason instead of the True the sidecar reported when it
// last reloaded. Root is needed for Prometheus's private mount namespace (hack/local-stack).
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_NAME, DEMO_NAMESPACE } from '../../hack/local-stack/demo.js';
import { waitForConditions, type Condition } from './helpers.js';
import { ANY_FREE_PORTS, startStack, type Stack } from '../../hack/local-stack/stack.js';

const TIMEOUT_MS = 300_000;
let stack: Stack | undefined;
let stateDir: string | undefined;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('this test needs root: Prometheus runs in a private mount namespace with its own /etc/hosts');
  stateDir = await mkdtemp(join(tmpdir(), 'vigil-am-status-'));
  stack = await startStack({ stateDir, ports: ANY_FREE_PORTS });
}, TIMEOUT_MS);

afterAll(async () => {
  try {
    await stack?.stop();
  } finally {
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  }
}, 60_000);

const DEMO = { namespace: DEMO_NAMESPACE, name: DEMO_NAME };
const waitFor = (s: Stack, what: string, check: (c: Map<string, Condition>) => boolean) => waitForConditions(s.cluster, DEMO, what, check, { timeoutMs: 60_000, intervalMs: 500 });

test(
  'Alertmanager SIGKILLed: ConfigApplied and Ready Unknown (AlertmanagerUnreachable) within a poll; True again when it is back',
  async () => {
    const s = stack!;
    await waitFor(s, 'the demo service Ready', (c) => c.get('Ready')?.status === 'True');
    const killedAt = Date.now();
    await s.stopComponent('alertmanager', 'SIGKILL');
    const down = await waitFor(s, 'ConfigApplied=Unknown', (c) => c.get('ConfigApplied')?.status === 'Unknown');
    expect(down.get('ConfigApplied')).toMatchObject({ reason: 'AlertmanagerUnreachable' });
    expect(down.get('ConfigApplied')?.message).toContain(`Alertmanager at ${s.alertmanager.url} does not answer since`);
    expect(down.get('Ready')).toMatchObject({ status: 'Unknown', reason: 'AlertmanagerUnreachable' });
    // Target health is Prometheus's business: unchanged.
    expect(down.get('TargetsHealthy')?.status).toBe('True');
    const seenAfter = (Date.now() - killedAt) / 1000;

    await s.startComponent('alertmanager');
    const back = await waitFor(s, 'Ready=True again', (c) => c.get('Ready')?.status === 'True');
    expect(back.get('ConfigApplied')).toMatchObject({ status: 'True', reason: 'ConfigApplied' });
    process.stderr.write(`[alertmanager.int] Alertmanager SIGKILLed: ConfigApplied=Unknown seen after ${seenAfter.toFixed(1)} s\n`);
  },
  TIMEOUT_MS,
);

test(
  'Alertmanager reloaded into a config Vigil did not write: ConfigApplied and Ready False (AlertmanagerConfigMismatch); back when its file is restored',
  async () => {
    const s = stack!;
    await waitFor(s, 'the demo service Ready', (c) => c.get('Ready')?.status === 'True');
    const file = join(s.alertmanager.configDir, 'alertmanager.yml');
    const original = await readFile(file, 'utf8');
    try {
      // Valid, but not Vigil's: what a restart from stale files or a hand reload would load.
      await writeFile(file, 'route:\n  receiver: somebody-else\nreceivers:\n  - name: somebody-else\n');
      const r = await fetch(`${s.alertmanager.url}/-/reload`, { method: 'POST' });
      expect(r.status).toBe(200);
      const wrong = await waitFor(s, 'ConfigApplied=False', (c) => c.get('ConfigApplied')?.status === 'False');
      expect(wrong.get('ConfigApplied')).toMatchObject({ reason: 'AlertmanagerConfigMismatch' });
      expect(wrong.get('ConfigApplied')?.message).toContain('Alertmanager runs a config Vigil did not write');
      expect(wrong.get('Ready')).toMatchObject({ status: 'False', reason: 'AlertmanagerConfigMismatch' });
    } finally {
      await writeFile(file, original);
      await fetch(`${s.alertmanager.url}/-/reload`, { method: 'POST' });
    }
    const back = await waitFor(s, 'Ready=True again', (c) => c.get('Ready')?.status === 'True');
    expect(back.get('ConfigApplied')?.status).toBe('True');
  },
  TIMEOUT_MS,
);

test(
  'Prometheus reloaded into a config Vigil did not write: ConfigApplied and Ready False (PrometheusConfigMismatch) naming the jobs; back when its file is restored',
  async () => {
    const s = stack!;
    await waitFor(s, 'the demo service Ready', (c) => c.get('Ready')?.status === 'True');
    const file = s.prometheus.configFile;
    const original = await readFile(file, 'utf8');
    const reload = async () => expect((await fetch(`${s.prometheus.url}/-/reload`, { method: 'POST' })).status).toBe(200);
    try {
      // Valid, but not Vigil's: what a hand reload (or a restart from stale files) would load.
      await writeFile(file, 'global:\n  scrape_interval: 5s\nscrape_configs:\n  - job_name: somebody-else\n    static_configs:\n      - targets: ["127.0.0.1:9"]\n');
      const reloadedAt = Date.now();
      await reload();
      const wrong = await waitFor(s, 'ConfigApplied=False', (c) => c.get('ConfigApplied')?.status === 'False');
      const seenAfter = (Date.now() - reloadedAt) / 1000;
      expect(wrong.get('ConfigApplied')).toMatchObject({ reason: 'PrometheusConfigMismatch' });
      // The services' jobs are in the partitions' scrape files, which the foreign config does not name.
      expect(wrong.get('ConfigApplied')?.message).toMatch(
        /^Prometheus runs a config Vigil did not write \(its scrape jobs are not those of config \S+, which its sidecar applied: (missing \d+ of Vigil's \d+ scrape jobs \([^)]*\); )?1 scrape job Vigil did not write \(somebody-else\); missing \d+ of Vigil's \d+ scrape config files \(partition-/,
      );
      expect(wrong.get('Ready')).toMatchObject({ status: 'False', reason: 'PrometheusConfigMismatch' });
      process.stderr.write(`[alertmanager.int] Prometheus reloaded into a foreign config: ConfigApplied=False seen after ${seenAfter.toFixed(1)} s\n`);
    } finally {
      await writeFile(file, original);
      await reload();
    }
    const back = await waitFor(s, 'Ready=True again', (c) => c.get('Ready')?.status === 'True');
    expect(back.get('ConfigApplied')).toMatchObject({ status: 'True', reason: 'ConfigApplied' });
  },
  TIMEOUT_MS,
);
