// Real Prometheus 3.15 and Alertmanager 0.35 processes for the sync sidecar's integration tests,
// plus the sidecar itself as a separate process. Loopback only; stopped by PID (hack/local-stack/process.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../hack/local-stack/cluster.js';
import { freePorts, pollUntil, sleep } from '../../hack/local-stack/net.js';
import { logTail, startProcess, type ManagedProcess } from '../../hack/local-stack/process.js';

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

async function startServer(name: string, binary: string, args: (port: number, dataDir: string) => string[], readyPath: string, fixedPort?: number): Promise<ServerProcess> {
  const port = fixedPort ?? (await freePort());
  const work = await mkdtemp(join(tmpdir(), `vigil-sync-${name}-`));
  // The data dir and log go with the process; a failing start prints the log tail first.
  const stop = async () => {
    await proc.stop();
    await rm(work, { recursive: true, force: true });
  };
  const proc = startProcess(name, join(REPO_ROOT, 'bin', binary), args(port, join(work, 'data')), join(work, `${name}.log`));
  const url = `http://127.0.0.1:${port}`;
  try {
    await pollUntil(`${name} ready`, 30_000, async () => ((await fetch(`${url}${readyPath}`)).ok ? true : undefined), {
      intervalMs: 100,
      // A server that exited will not become ready: stop waiting at once.
      check: () => {
        if (!proc.isRunning()) throw new Error(`${name} exited:\n${logTail(proc.logFile)}`);
      },
    });
  } catch (err) {
    const tail = logTail(proc.logFile);
    await stop();
    throw new Error(`${(err as Error).message}\n${tail}`);
  }
  return { proc, url, stop };
}

/** Prometheus reading <configDir>/prometheus.yml, with the lifecycle API for /-/reload. */
export function startPrometheus(configDir: string, port?: number): Promise<ServerProcess> {
  return startServer(
    'prometheus',
    'prometheus',
    (port, data) => [`--web.listen-address=127.0.0.1:${port}`, '--web.enable-lifecycle', `--storage.tsdb.path=${data}`, `--config.file=${join(configDir, 'prometheus.yml')}`],
    '/-/ready',
    port,
  );
}

export function startAlertmanager(configDir: string, port?: number): Promise<ServerProcess> {
  return startServer(
    'alertmanager',
    'alertmanager',
    (port, data) => [`--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', `--storage.path=${data}`, `--config.file=${join(configDir, 'alertmanager.yml')}`],
    '/-/ready',
    port,
  );
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
