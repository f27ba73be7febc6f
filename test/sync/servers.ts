// Real Prometheus 3.15 and Alertmanager 0.35 processes for the sync sidecar's integration tests
// (started by hack/local-stack/components, reading the config dir the test's sidecar writes), plus
// the sidecar itself as a separate process. Loopback only; stopped by PID (hack/local-stack/process.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../hack/local-stack/cluster.js';
import { startAlertmanager as startAlertmanagerIn, startPrometheus as startPrometheusIn } from '../../hack/local-stack/components.js';
import { freePorts, pollUntil, sleep } from '../../hack/local-stack/net.js';
import { startProcess, type ManagedProcess } from '../../hack/local-stack/process.js';

export { sleep };

/** One free loopback port (net.ts freePorts). */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0] as number;
}

/** net.ts pollUntil with the sidecar tests' fast default interval (50 ms). */
export function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 50): Promise<T> {
  return pollUntil(what, timeoutMs, probe, { intervalMs });
}

export interface ServerProcess {
  proc: ManagedProcess;
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a server through hack/local-stack/components with its data and log in a temp dir that
 * goes with the process (a failed start removes it too; the error has the log tail).
 */
async function startServer(name: string, start: (work: string) => Promise<{ process: ManagedProcess; url: string }>): Promise<ServerProcess> {
  const work = await mkdtemp(join(tmpdir(), `vigil-sync-${name}-`));
  try {
    const server = await start(work);
    return {
      proc: server.process,
      url: server.url,
      stop: async () => {
        await server.process.stop();
        await rm(work, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  }
}

/** Prometheus reading <configDir>/prometheus.yml, with the lifecycle API for /-/reload. */
export function startPrometheus(configDir: string, port?: number): Promise<ServerProcess> {
  return startServer('prometheus', async (dir) => startPrometheusIn({ dir, configDir, port: port ?? (await freePort()), extraHosts: [] }));
}

export function startAlertmanager(configDir: string, port?: number): Promise<ServerProcess> {
  return startServer('alertmanager', async (dir) => startAlertmanagerIn({ dir, configDir, port: port ?? (await freePort()) }));
}

/** The job names Prometheus runs right now (its own view: GET /api/v1/status/config). */
export async function loadedPrometheusJobs(prometheusUrl: string): Promise<string[]> {
  const r = await fetch(`${prometheusUrl}/api/v1/status/config`);
  const body = (await r.json()) as { data: { yaml: string } };
  return [...body.data.yaml.matchAll(/^- job_name: (.+)$/gm)].map((m) => m[1]!.replace(/^"|"$/g, ''));
}

/** The `vigil sync` sidecar as its own process, started through the real CLI as in the pod. */
export async function startSyncSidecar(args: string[], logFile: string): Promise<ManagedProcess> {
  return startProcess('vigil-sync', process.execPath, [join(REPO_ROOT, 'operator/bin/vigil.js'), 'sync', ...args], logFile, {
    ...process.env,
    NODE_OPTIONS: '',
  });
}
