// The real single-node cluster (hack/node/cluster.sh) as the tests and benchmarks see it: start and stop it, run
// kubectl and helm against it, and the addresses of the chart's NodePorts in the node's network namespace.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../hack/local-stack/cluster.js';
import { runKubectl, type KubectlResult } from '../../hack/local-stack/kubectl.js';

/** The node's address in its network namespace (hack/node/cluster.sh NODE_IP); the host reaches it over a veth. */
export const NODE_IP = '192.168.250.2';
export const NODE_DIR = join(REPO_ROOT, '.local', 'node');
export const KUBECONFIG = join(NODE_DIR, 'kubeconfig', 'admin.kubeconfig');
export const BIN = join(REPO_ROOT, 'bin');
/** NodePorts of values-kind.yaml. */
export const PROMETHEUS_URL = `http://${NODE_IP}:30090`;
export const ALERTMANAGER_URL = `http://${NODE_IP}:30093`;
export const MAIL_URL = `http://${NODE_IP}:30025`;

/** Runs a command, its output appended to `logFile`; rejects with the exit code and the log's path. */
export function runLogged(command: string, args: string[], logFile: string, timeoutMs: number): Promise<void> {
  mkdirSync(join(logFile, '..'), { recursive: true });
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG } });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', (err) => reject(new Error(`cannot run ${command}: ${err.message}`)));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      out.end();
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}); output in ${logFile}`));
    });
  });
}

export const clusterUp = (logFile: string, timeoutMs: number) => runLogged(join(REPO_ROOT, 'hack', 'node', 'cluster.sh'), ['up'], logFile, timeoutMs);
export const clusterDown = (logFile: string) => runLogged(join(REPO_ROOT, 'hack', 'node', 'cluster.sh'), ['down'], logFile, 180_000);

/** kubectl against the node; throws with stderr on a non-zero exit. */
export async function kubectl(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await runKubectl(join(BIN, 'kubectl'), KUBECONFIG, args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited with ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** helm against the node; never throws for a non-zero exit. */
export function helm(args: string[], timeoutMs = 300_000): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(BIN, 'helm'), ['--kubeconfig', KUBECONFIG, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '' } });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => stdout.push(b));
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => reject(new Error(`cannot run helm: ${err.message} (run \`make tools\`)`)));
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}
