// `make dev-cluster`: the integration-test control plane (etcd + kube-apiserver, RBAC on, the CRDs
// and Vigil's RBAC installed), in the foreground for a person. Ctrl-C stops it and its processes.
//   node node_modules/tsx/dist/cli.mjs hack/dev-cluster.ts [--install-namespace=vigil-system]
import { mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { REPO_ROOT, startCluster, type Cluster } from './local-stack/cluster.js';
import { installRbac, vigilKubeconfigs } from './local-stack/rbac.js';

const LOCAL_DIR = join(REPO_ROOT, '.local'); // git-ignored
const ADMIN_KUBECONFIG = join(LOCAL_DIR, 'kubeconfig');

function installNamespace(): string {
  const arg = process.argv.slice(2).find((a) => a.startsWith('--install-namespace='));
  return arg ? arg.slice('--install-namespace='.length) : (process.env.VIGIL_INSTALL_NAMESPACE ?? 'vigil-system');
}

const say = (message: string) => process.stderr.write(`[dev-cluster] ${message}\n`);

async function main(): Promise<void> {
  const namespace = installNamespace();
  let cluster: Cluster | undefined;
  let stopping = false;
  const written: string[] = [];

  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping etcd and kube-apiserver ...');
    try {
      await cluster?.stop();
      // The kubeconfigs point at a server that no longer exists; leaving them would mislead.
      await Promise.all(written.map((f) => rm(f, { force: true })));
      say('stopped');
    } finally {
      process.exit(code);
    }
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    cluster = await startCluster({ log: say });
    await installRbac(cluster, namespace);
    const sa = await vigilKubeconfigs(cluster, namespace);

    await mkdir(LOCAL_DIR, { recursive: true });
    const files: [string, string][] = [
      [ADMIN_KUBECONFIG, cluster.kubeconfigPath],
      [join(LOCAL_DIR, 'operator.kubeconfig'), sa.operator],
      [join(LOCAL_DIR, 'prometheus.kubeconfig'), sa.prometheus],
      [join(LOCAL_DIR, 'alertmanager.kubeconfig'), sa.alertmanager],
    ];
    for (const [dest, src] of files) {
      await writeFile(dest, await readFile(src), { mode: 0o600 });
      written.push(dest);
    }
  } catch (err) {
    say(`failed: ${(err as Error).message}`);
    await shutdown(1);
    return;
  }

  const rel = (p: string) => relative(process.cwd(), p) || p;
  say(`API server ${cluster.server}; Vigil's ServiceAccounts and RBAC are in namespace ${namespace}`);
  say(`operator kubeconfig (ServiceAccount ${namespace}/vigil-operator): ${rel(join(LOCAL_DIR, 'operator.kubeconfig'))}`);
  say(`logs: ${cluster.apiServerLog}, ${cluster.etcdLog}`);
  say('no controller-manager and no kubelet: pods never run and deleted namespaces stay Terminating');
  say('press Ctrl-C to stop; point kubectl at it with:');
  process.stdout.write(`export KUBECONFIG=${ADMIN_KUBECONFIG}\n`);

  // Foreground: exit (with the logs) if a process dies under us.
  const c = cluster;
  setInterval(() => {
    if (!stopping && !c.isApiServerRunning()) {
      say(`kube-apiserver exited unexpectedly:\n${c.logs()}`);
      void shutdown(1);
    }
  }, 2000);
}

void main();
