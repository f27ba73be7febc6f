// `make bench`: how long from "the demo target stops" to "the firing email is in the mail catcher",
// over several outages of the local stack (hack/local-stack), next to the bound Prometheus imposes,
// S + E + ceil(F/E)*E + 2 s. Records numbers; asserts nothing about time.
//
//   BENCH_RUNS=5 (default)          outages to measure
//   BENCH_OUTAGE=process (default)  stop the target process (its scrapes fail: up == 0)
//   BENCH_OUTAGE=endpoints          delete its EndpointSlice (the pod is gone: the target disappears;
//                                   Prometheus applies discovery changes at most every 5 s)
// Uses free loopback ports only (needs root for Prometheus's private mount namespace).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_NAME, DEMO_NAMESPACE, demoMonitoredService } from '../hack/local-stack/demo.js';
import { waitForAlertEmail } from '../hack/local-stack/mailpit.js';
import { getJson, pollUntil } from '../hack/local-stack/net.js';
import { ANY_FREE_PORTS, EVALUATION_INTERVAL, startStack, type Stack } from '../hack/local-stack/stack.js';

const runs = Number(process.env.BENCH_RUNS ?? '5');
if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error(`BENCH_RUNS must be an integer from 1 to 50, got "${process.env.BENCH_RUNS}"`);
const outage = process.env.BENCH_OUTAGE ?? 'process';
if (outage !== 'process' && outage !== 'endpoints') throw new Error(`BENCH_OUTAGE must be process or endpoints, got "${outage}"`);

async function noDemoAlerts(stack: Stack): Promise<boolean> {
  const alerts = await getJson<{ labels: Record<string, string> }[]>(`${stack.alertmanager.url}/api/v2/alerts?active=true`);
  const prom = await getJson<{ data: { alerts: { labels: Record<string, string> }[] } }>(`${stack.prometheus.url}/api/v1/alerts`);
  const isDemo = (l: Record<string, string>) => l.vigil_namespace === DEMO_NAMESPACE && l.vigil_monitoredservice === DEMO_NAME;
  return !alerts.some((a) => isDemo(a.labels)) && !prom.data.alerts.some((a) => isDemo(a.labels));
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function main(): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), 'vigil-bench-'));
  const stack = await startStack({ stateDir, ports: ANY_FREE_PORTS, log: (m) => console.log(m) });
  const ms = demoMonitoredService();
  const bound = stack.alertBoundSeconds();
  const timings: number[] = [];
  try {
    for (let i = 1; i <= runs; i++) {
      await stack.waitForHealthyTarget();
      await pollUntil('the previous alert to resolve', 120_000, () => noDemoAlerts(stack), { intervalMs: 500 });
      // Stop at a random point of the scrape/evaluation cycle, as a real outage would.
      await new Promise((r) => setTimeout(r, Math.random() * 5000));
      const stoppedAt = outage === 'process' ? await stack.stopTarget() : await stack.removeTargetEndpoints();
      const { elapsedS } = await waitForAlertEmail(stack.mailpit.client, {
        state: 'firing',
        namespace: DEMO_NAMESPACE,
        name: DEMO_NAME,
        since: stoppedAt,
        timeoutMs: (bound + 60) * 1000,
      });
      timings.push(elapsedS);
      console.log(`run ${i}/${runs}: firing email ${elapsedS.toFixed(1)} s after the outage began`);
      const restartedAt = Date.now();
      if (outage === 'process') await stack.startTarget();
      else await stack.restoreTargetEndpoints();
      await waitForAlertEmail(stack.mailpit.client, {
        state: 'resolved',
        namespace: DEMO_NAMESPACE,
        name: DEMO_NAME,
        since: restartedAt,
        timeoutMs: (bound + 60) * 1000,
      });
    }
  } finally {
    await stack.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
  const f = (n: number) => `${n.toFixed(1)} s`;
  console.log(`
alert latency, outage (${outage === 'process' ? 'target process stopped' : 'EndpointSlice deleted'}) -> firing email in Mailpit (through stunnel, implicit TLS), ${runs} runs
  S (scrape) = ${ms.spec.endpoints[0]?.interval}, E (evaluation) = ${EVALUATION_INTERVAL}, F (for) = ${ms.spec.downAlert.for}
  min ${f(Math.min(...timings))}   median ${f(median(timings))}   max ${f(Math.max(...timings))}   bound S + E + ceil(F/E)*E + 2 s = ${f(bound)}
  runs: ${timings.map(f).join(', ')}`);
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exit(1);
});
