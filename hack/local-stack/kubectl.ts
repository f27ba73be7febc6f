// Runs the real kubectl (./bin/kubectl) as the test client.
import { spawn } from 'node:child_process';

export interface KubectlOptions {
  /** Written to kubectl's stdin (for `apply -f -`). */
  input?: string;
  /** Defaults to the cluster's admin kubeconfig. */
  kubeconfig?: string;
  timeoutMs?: number;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class KubectlError extends Error {
  constructor(
    readonly args: string[],
    readonly result: KubectlResult,
  ) {
    super(`kubectl ${args.join(' ')} exited with ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
    this.name = 'KubectlError';
  }
}

/** Runs kubectl and returns whatever happened; never throws for a non-zero exit. */
export function runKubectl(kubectl: string, kubeconfig: string, args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(kubectl, ['--kubeconfig', opts.kubeconfig ?? kubeconfig, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // KUBECONFIG from the developer's shell must never redirect a test to another cluster.
      env: { ...process.env, KUBECONFIG: '' },
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => stdout.push(b));
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kubectl ${args.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${kubectl}: ${err.message} (run \`make tools\`)`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
    child.stdin.on('error', () => {
      // kubectl may exit before reading stdin; the exit code tells what happened.
    });
    child.stdin.end(opts.input ?? '');
  });
}
