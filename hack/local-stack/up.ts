// `make local-up`: the whole alert pipeline on this machine, in the foreground, until Ctrl-C.
// Writes the admin kubeconfig to .local/kubeconfig and the control address to .local/stack.json
// (read by `make outage` / `make restore`).
import { chmod, copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './cluster.js';
import { LOCAL_DIR, STATE_FILE, startControlServer, type StackState } from './control.js';
import { DEMO_NAME, DEMO_NAMESPACE } from './demo.js';
import { DEFAULT_PORTS, startStack } from './stack.js';
import { LOCAL_UP_RESTART_POLICY } from './supervisor.js';
import { urlTable } from './url-table.js';

const started = Date.now();
const progress = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('make local-up needs root: Prometheus resolves the demo target in a private mount namespace (unshare + a bind-mounted /etc/hosts).');
    process.exit(1);
  }
  const stateDir = join(LOCAL_DIR, 'run');
  progress(`starting the Vigil local stack; logs and state in ${relative(REPO_ROOT, stateDir)}/`);
  // Like the compose stack's `restart: unless-stopped`, but limited: a component that keeps crashing stops
  // the stack with a message naming it (issue #15).
  let gaveUp: ((message: string) => void) | undefined;
  const stack = await startStack({
    stateDir,
    ports: DEFAULT_PORTS,
    log: progress,
    supervise: { ...LOCAL_UP_RESTART_POLICY, onGiveUp: (message) => gaveUp?.(message) },
  });
  const kubeconfig = join(LOCAL_DIR, 'kubeconfig');
  await copyFile(stack.kubeconfigPath, kubeconfig);
  await chmod(kubeconfig, 0o600);
  const { server, url } = await startControlServer(stack);
  const state: StackState = {
    pid: process.pid,
    controlUrl: url,
    kubeconfig,
    urls: stack.urls,
    mailApiUrl: stack.mailpit.uiUrl,
    boundSeconds: stack.alertBoundSeconds(),
    demo: { namespace: DEMO_NAMESPACE, name: DEMO_NAME },
  };
  await writeFile(STATE_FILE, JSON.stringify(state, null, 2));

  let stopping = false;
  const shutdown = async (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping every process of the stack ...`);
    server.close();
    await rm(STATE_FILE, { force: true });
    // The kubeconfig points at a server about to disappear; remove it unless someone replaced it
    // since (`make dev-cluster` writes the same path).
    const current = await readFile(kubeconfig, 'utf8').catch(() => '');
    if (current === (await readFile(stack.kubeconfigPath, 'utf8').catch(() => ''))) await rm(kubeconfig, { force: true });
    await stack.stop();
    console.log('stopped.');
    process.exit(exitCode);
  };
  gaveUp = (message) => {
    console.error(`\nlocal-up: ${message}`);
    void shutdown('giving up', 1);
  };
  process.on('SIGINT', () => void shutdown('Ctrl-C'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  progress('the stack is up');
  console.log(`
${urlTable(stack)}

To use kubectl against it:
  export KUBECONFIG=${kubeconfig}
  kubectl get monitoredservices -A

Demo: ${DEMO_NAMESPACE}/${DEMO_NAME} (examples/demo-monitoredservice.yaml): scrape 5 s, evaluation 5 s, for 5 s;
the email must arrive within ${state.boundSeconds} s of the target going down.
  make outage    # stops the demo target and waits for the firing email
  make restore   # starts it again and waits for the resolved email

A component that crashes is restarted (at most ${LOCAL_UP_RESTART_POLICY.limit} times within 10 min; then the stack stops).
Press Ctrl-C to stop everything.`);
  // Crashed components are restarted by the stack's supervisor, which logs each restart through `progress`.
}

main().catch((err: unknown) => {
  console.error(`local-up failed: ${(err as Error).message}`);
  process.exit(1);
});
