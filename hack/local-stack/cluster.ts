// A real, throwaway Kubernetes control plane for integration tests and `make dev-cluster`:
// etcd + kube-apiserver on loopback, RBAC on, the CRDs from crds/ installed. No controller-manager
// and no kubelet: nothing runs pods, nothing garbage-collects, namespaces never finish deleting.
// What the API server itself does (validation, CEL, admission incl. PodSecurity, RBAC, watches,
// TokenRequest, server-side apply and dry-run) is all real.
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { freePorts, sleep } from './net.js';
import { generatePki, type ClusterPki } from './pki.js';
import { logTail, startProcess, type ManagedProcess } from './process.js';
import { KubectlError, runKubectl, type KubectlOptions, type KubectlResult } from './kubectl.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface ClusterOptions {
  /** Where etcd, kube-apiserver and kubectl live; default ./bin (filled by `make tools`). */
  binDir?: string;
  /** Directory of CRD manifests applied after start (at least one CRD required); null skips. Default $VIGIL_CRD_DIR or ./crds. */
  crdDir?: string | null;
  /** Keep the temp dir (data, certs, logs) after stop(); also VIGIL_KEEP_CLUSTER=1. */
  keepDir?: boolean;
  /** Progress messages (dev-cluster prints them); default silent. */
  log?: (message: string) => void;
  /** How long to wait for /readyz. */
  readyTimeoutMs?: number;
}

export interface CanIOptions {
  /** Namespace to ask about; '*' means all namespaces (-A). Default: the `default` namespace. */
  namespace?: string;
  subresource?: string;
}

export interface Cluster {
  /** Temp dir holding certs, etcd data, kubeconfigs and the process logs. */
  readonly dir: string;
  readonly server: string;
  /** Admin (system:masters) kubeconfig, certificates inlined. */
  readonly kubeconfigPath: string;
  readonly pki: ClusterPki;
  readonly etcdUrl: string;
  readonly apiServerLog: string;
  readonly etcdLog: string;
  /** Runs kubectl (admin unless opts.kubeconfig) and returns stdout; throws KubectlError on a non-zero exit. */
  kubectl(args: string[], opts?: KubectlOptions): Promise<string>;
  /** Like kubectl() but returns code/stdout/stderr instead of throwing. */
  kubectlResult(args: string[], opts?: KubectlOptions): Promise<KubectlResult>;
  /** Server-side applies objects (as one List) with the admin identity. */
  apply(objects: object[], opts?: { fieldManager?: string }): Promise<void>;
  /** Creates the namespace and its `default` ServiceAccount (no controller-manager makes it). */
  ensureNamespace(namespace: string): Promise<void>;
  /**
   * Kubeconfig for a ServiceAccount (created if missing), authenticating with a bound token from
   * the TokenRequest API, exactly as a pod's projected token would.
   */
  createServiceAccountKubeconfig(namespace: string, name: string, opts?: { duration?: string }): Promise<string>;
  /** `kubectl auth can-i <verb> <resource> --as=<user>`; resource may be `configmaps/name`. */
  canI(user: string, verb: string, resource: string, opts?: CanIOptions): Promise<boolean>;
  /** Stops only kube-apiserver (etcd keeps the data); for API outage tests. */
  stopApiServer(): Promise<void>;
  /** Starts kube-apiserver again on the same port with the same certs and etcd. */
  startApiServer(): Promise<void>;
  isApiServerRunning(): boolean;
  /** Stops everything (SIGTERM, then SIGKILL) and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
  /** Tails of both process logs, for failure messages. */
  logs(lines?: number): string;
}

function httpGetStatus(url: string, tls?: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = (tls ? httpsRequest : httpRequest)(url, { method: 'GET', timeout: 2000, ...(tls ?? {}) }, (resp) => {
      let body = '';
      resp.setEncoding('utf8');
      resp.on('data', (c: string) => (body += c));
      resp.on('end', () => res({ status: resp.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end();
  });
}

/** Polls `probe` until it returns true; fails early when `proc` exits. */
async function waitFor(what: string, proc: ManagedProcess, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (!proc.isRunning()) {
      throw new Error(`${proc.name} exited before ${what}; last log lines (${proc.logFile}):\n${logTail(proc.logFile)}`);
    }
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await sleep(150);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${lastError}); last log lines (${proc.logFile}):\n${logTail(proc.logFile)}`);
}

function kubeconfigYaml(server: string, caPem: Buffer, user: Record<string, string>, userName: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'vigil-dev', cluster: { server, 'certificate-authority-data': caPem.toString('base64') } }],
    users: [{ name: userName, user }],
    contexts: [{ name: userName, context: { cluster: 'vigil-dev', user: userName } }],
    'current-context': userName,
  });
}

interface CrdInfo {
  name: string;
  group: string;
  plural: string;
}

async function crdManifests(crdDir: string): Promise<{ files: string[]; crds: CrdInfo[] }> {
  let entries: string[];
  try {
    entries = await readdir(crdDir);
  } catch {
    return { files: [], crds: [] };
  }
  const files = entries
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => join(crdDir, f));
  const crds: CrdInfo[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
      const obj = doc.toJS() as { kind?: string; metadata?: { name?: string }; spec?: { group?: string; names?: { plural?: string } } } | null;
      if (obj?.kind === 'CustomResourceDefinition' && obj.metadata?.name && obj.spec?.group && obj.spec.names?.plural) {
        crds.push({ name: obj.metadata.name, group: obj.spec.group, plural: obj.spec.names.plural });
      }
    }
  }
  return { files, crds };
}

const DIR_PREFIX = 'vigil-cluster-';
const OWNER_FILE = 'owner.json';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A test process killed with SIGKILL cannot stop its children: they keep running, orphaned, with
 * their temp dir. Each cluster records its owner and child PIDs; the next start stops the children
 * of owners that are gone (only if the PID still runs a command naming that dir, so a reused PID is
 * never hit) and removes the dir.
 */
async function sweepOrphans(): Promise<void> {
  let entries: string[];
  try {
    entries = (await readdir(tmpdir())).filter((e) => e.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = join(tmpdir(), entry);
    let owner: { ownerPid: number; childPids: number[] };
    try {
      owner = JSON.parse(await readFile(join(dir, OWNER_FILE), 'utf8')) as typeof owner;
    } catch {
      continue; // not ours, or still being created
    }
    if (isAlive(owner.ownerPid)) continue;
    for (const pid of owner.childPids) {
      try {
        if ((await readFile(`/proc/${pid}/cmdline`, 'utf8')).includes(dir)) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(dir, { recursive: true, force: true });
  }
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  await sweepOrphans();
  const binDir = opts.binDir ?? join(REPO_ROOT, 'bin');
  const log = opts.log ?? (() => undefined);
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
  const kubectlBin = join(binDir, 'kubectl');
  const dir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
  const recordOwner = () => writeFile(join(dir, OWNER_FILE), JSON.stringify({ ownerPid: process.pid, childPids: [processes.etcd?.pid, processes.apiserver?.pid].filter((p) => p !== undefined) }));
  const etcdData = join(dir, 'etcd-data');
  await mkdir(etcdData);

  const processes: { etcd?: ManagedProcess; apiserver?: ManagedProcess } = {};
  let stopped = false;
  const keepDir = opts.keepDir ?? process.env.VIGIL_KEEP_CLUSTER === '1';

  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    await processes.apiserver?.stop();
    await processes.etcd?.stop();
    if (!keepDir) await rm(dir, { recursive: true, force: true });
  };

  try {
    const started = Date.now();
    const pki = await generatePki(join(dir, 'pki'));
    const [etcdPort, etcdPeerPort, apiPort] = (await freePorts(3)) as [number, number, number];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const server = `https://127.0.0.1:${apiPort}`;
    const etcdLog = join(dir, 'etcd.log');
    const apiServerLog = join(dir, 'kube-apiserver.log');
    const tls = {
      ca: await readFile(pki.caCert),
      cert: await readFile(pki.adminCert),
      key: await readFile(pki.adminKey),
    };

    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    processes.etcd = startProcess(
      'etcd',
      join(binDir, 'etcd'),
      [
        '--name=vigil',
        `--data-dir=${etcdData}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=vigil=${peerUrl}`,
        // Throwaway data: skipping fsync makes every write several times faster on a shared disk.
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ],
      etcdLog,
    );
    const etcd = processes.etcd;
    await recordOwner();
    await waitFor('etcd to become healthy', etcd, 30_000, async () => {
      const r = await httpGetStatus(`${etcdUrl}/health`);
      return r.status === 200 && r.body.includes('"health":"true"');
    });
    log(`etcd ready at ${etcdUrl} (${Date.now() - started} ms)`);

    const apiServerArgs = [
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--etcd-servers=${etcdUrl}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      '--authorization-mode=Node,RBAC',
      // PodSecurity is on by default; NodeRestriction is what real clusters add.
      '--enable-admission-plugins=NodeRestriction',
      // As kubeadm and kind do, so that Pod Security admission, not this flag, decides what runs.
      '--allow-privileged=true',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      // The default reconciler would publish 127.0.0.1 as the `kubernetes` Service endpoint, which
      // Endpoints validation rejects for loopback addresses, and log that error forever.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
    ];
    const launchApiServer = async () => {
      processes.apiserver = startProcess('kube-apiserver', join(binDir, 'kube-apiserver'), apiServerArgs, apiServerLog);
      await recordOwner();
      const t0 = Date.now();
      await waitFor('kube-apiserver /readyz', processes.apiserver, readyTimeoutMs, async () => (await httpGetStatus(`${server}/readyz`, tls)).status === 200);
      log(`kube-apiserver ready at ${server} (${Date.now() - t0} ms)`);
    };
    await launchApiServer();

    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    await writeFile(kubeconfigPath, kubeconfigYaml(server, tls.ca, { 'client-certificate-data': tls.cert.toString('base64'), 'client-key-data': tls.key.toString('base64') }, 'vigil-admin'), {
      mode: 0o600,
    });

    const kubectlResult = (args: string[], o?: KubectlOptions) => runKubectl(kubectlBin, kubeconfigPath, args, o);
    const kubectl = async (args: string[], o?: KubectlOptions) => {
      const r = await kubectlResult(args, o);
      if (r.code !== 0) throw new KubectlError(args, r);
      return r.stdout;
    };
    const apply = async (objects: object[], o: { fieldManager?: string } = {}) => {
      if (objects.length === 0) return;
      await kubectl(['apply', '--server-side', '--force-conflicts', `--field-manager=${o.fieldManager ?? 'vigil-test-harness'}`, '-f', '-'], {
        input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
      });
    };
    // Its own field managers, so that ensuring an object exists never strips fields (labels...) that
    // a test applied to it under the default manager.
    const ensureServiceAccount = async (namespace: string, name: string) => {
      await apply([{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } }], { fieldManager: `vigil-harness-sa-${name}` });
    };
    const ensureNamespace = async (namespace: string) => {
      await apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }], { fieldManager: 'vigil-harness-namespace' });
      await ensureServiceAccount(namespace, 'default');
    };

    const crdDir = opts.crdDir === undefined ? (process.env.VIGIL_CRD_DIR ?? join(REPO_ROOT, 'crds')) : opts.crdDir;
    if (crdDir !== null) {
      const { files, crds } = await crdManifests(crdDir);
      for (const file of files) await kubectl(['apply', '--server-side', '--field-manager=vigil-test-harness', '-f', file]);
      for (const crd of crds) {
        // Polled rather than `kubectl wait --for=condition=Established`: that exits 1 (".status.conditions
        // accessor error: <nil>") instead of waiting when it reads a CRD created a moment ago, before any condition.
        const establishedBy = Date.now() + 60_000;
        for (;;) {
          const r = await kubectlResult(['get', `crd/${crd.name}`, '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']);
          if (r.code === 0 && r.stdout.trim() === 'True') break;
          if (Date.now() > establishedBy) throw new Error(`CRD ${crd.name} is not Established after 60 s: ${r.stderr || r.stdout || 'no Established condition'}`);
          await sleep(200);
        }
        // Established can precede the resource appearing in discovery by a moment; clients need both.
        const deadline = Date.now() + 20_000;
        for (;;) {
          const r = await kubectlResult(['get', `${crd.plural}.${crd.group}`, '-A', '-o', 'name']);
          if (r.code === 0) break;
          if (Date.now() > deadline) throw new Error(`CRD ${crd.name} is Established but not served: ${r.stderr}`);
          await sleep(200);
        }
      }
      // Tests that ask for CRDs and silently get none would fail later with confusing errors.
      if (crds.length === 0) throw new Error(`no CustomResourceDefinition in ${crdDir}/*.yaml: run \`make generate\` (or pass crdDir: null)`);
      log(`installed ${crds.length} CRD(s) from ${crdDir}: ${crds.map((c) => c.name).join(', ')}`);
    }

    const cluster: Cluster = {
      dir,
      server,
      kubeconfigPath,
      pki,
      etcdUrl,
      apiServerLog,
      etcdLog,
      kubectl,
      kubectlResult,
      apply,
      ensureNamespace,
      async createServiceAccountKubeconfig(namespace, name, o = {}) {
        await ensureNamespace(namespace);
        await ensureServiceAccount(namespace, name);
        const token = (await kubectl(['create', 'token', name, '-n', namespace, `--duration=${o.duration ?? '24h'}`])).trim();
        const path = join(dir, `sa-${namespace}-${name}.kubeconfig`);
        const user = `system:serviceaccount:${namespace}:${name}`;
        await writeFile(path, kubeconfigYaml(server, tls.ca, { token }, user), { mode: 0o600 });
        return path;
      },
      async canI(user, verb, resource, o = {}) {
        const args = ['auth', 'can-i', verb, resource, `--as=${user}`];
        if (o.namespace === '*') args.push('--all-namespaces');
        else if (o.namespace) args.push('-n', o.namespace);
        if (o.subresource) args.push(`--subresource=${o.subresource}`);
        const r = await kubectlResult(args);
        const answer = r.stdout.trim();
        // Exit 0 = yes, 1 = no; anything else (bad flags, server down) must not read as "no",
        // and neither must a misspelt or not-yet-installed resource (kubectl only warns about it).
        if (r.stderr.includes("doesn't have a resource type")) throw new KubectlError(args, r);
        if (r.code === 0 && answer === 'yes') return true;
        if (r.code === 1 && answer.startsWith('no')) return false;
        throw new KubectlError(args, r);
      },
      async stopApiServer() {
        await processes.apiserver?.stop();
      },
      async startApiServer() {
        if (processes.apiserver?.isRunning()) return;
        await launchApiServer();
      },
      isApiServerRunning: () => processes.apiserver?.isRunning() ?? false,
      stop: stopAll,
      logs(lines = 40) {
        return `--- etcd (${etcdLog}) ---\n${logTail(etcdLog, lines)}\n--- kube-apiserver (${apiServerLog}) ---\n${logTail(apiServerLog, lines)}`;
      },
    };
    log(`control plane up in ${Date.now() - started} ms; data, certs and logs in ${dir}`);
    return cluster;
  } catch (err) {
    // Start-up errors already carry the tail of the failing process's log.
    await processes.apiserver?.stop();
    await processes.etcd?.stop();
    stopped = true;
    if (!keepDir) await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
