// The kind environment (hack/kind/env.sh: a network namespace with a Docker engine, the node image built here) as
// the kind test sees it: every command that talks to the cluster runs inside the namespace (nsenter --net), where
// kind's port mappings put Prometheus, Alertmanager and the mail catcher on 127.0.0.1; nothing uses the host's ports.
// The machine snapshot compares the host before and after, to prove `make kind-down` + `env.sh down` leave nothing.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../hack/local-stack/cluster.js';
import type { KubectlResult } from '../../hack/local-stack/kubectl.js';
import { MailpitClient, type MailMessage, type MailSummary } from '../../hack/local-stack/mailpit.js';
import { runLogged } from '../node/node.js';

/** hack/kind/env.sh's names. */
export const KIND_NS = 'vigil-kind';
export const NETNS_PATH = `/run/netns/${KIND_NS}`;
export const KIND_DIR = join(REPO_ROOT, '.local', 'kind');
export const DOCKER_RUN_DIR = '/run/vigil-kind-docker';
export const BIN = join(REPO_ROOT, 'bin');
/** kind-config.yaml's port mappings, on the namespace's loopback. */
export const PROMETHEUS_URL = 'http://127.0.0.1:9090';
export const ALERTMANAGER_URL = 'http://127.0.0.1:9093';
export const MAIL_URL = 'http://127.0.0.1:8025';

const ENV_SH = join(REPO_ROOT, 'hack', 'kind', 'env.sh');
export const envUp = (logFile: string, timeoutMs: number) => runLogged(ENV_SH, ['up'], logFile, timeoutMs);
export const envDown = (logFile: string) => runLogged(ENV_SH, ['down'], logFile, 300_000);

/** The exports `env.sh up` wrote (DOCKER_HOST, KIND_NODE_IMAGE, VIGIL_SKIP_IMAGE_BUILD, KUBECONFIG). */
export function kindEnv(): Record<string, string> {
  return parseExports(readFileSync(join(KIND_DIR, 'env'), 'utf8'));
}

/** `export NAME=value` lines → { NAME: value }. */
export function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [, name, value] of text.matchAll(/^export ([A-Z_][A-Z0-9_]*)=(.*)$/gm)) if (name && value !== undefined) out[name] = value;
  return out;
}

/** Runs a command inside the namespace with the environment's exports; never throws for a non-zero exit. */
export function inNamespace(command: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<KubectlResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${NETNS_PATH}`, command, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...kindEnv(), ...opts.env } });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => stdout.push(b));
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: signal ? -1 : (code ?? -1), stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
    child.stdin.on('error', () => {
      // the command may exit before reading stdin; its exit code tells what happened
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs `make <target>` in the namespace as a person would, output appended to `logFile`; rejects on failure. */
export async function make(target: string, logFile: string, timeoutMs: number, env: Record<string, string> = {}): Promise<string> {
  const r = await inNamespace('make', ['--no-print-directory', target], { timeoutMs, env });
  appendFileSync(logFile, `\n$ make ${target}\n${r.stdout}${r.stderr}`);
  if (r.code !== 0) throw new Error(`make ${target} failed (exit ${r.code}); output in ${logFile}:\n${(r.stdout + r.stderr).slice(-2000)}`);
  return r.stdout;
}

async function checked(what: string, r: Promise<KubectlResult>): Promise<string> {
  const res = await r;
  if (res.code !== 0) throw new Error(`${what} exited with ${res.code}: ${res.stderr.trim() || res.stdout.trim()}`);
  return res.stdout;
}

/** kubectl against the kind cluster; throws with stderr on a non-zero exit. */
export const kubectl = (args: string[], opts: { input?: string; timeoutMs?: number } = {}) => checked(`kubectl ${args.join(' ')}`, inNamespace(join(BIN, 'kubectl'), args, opts));
/** helm against the kind cluster; never throws for a non-zero exit. */
export const helm = (args: string[], timeoutMs = 300_000) => inNamespace(join(BIN, 'helm'), args, { timeoutMs });
/** docker against the namespace's engine. */
export const docker = (args: string[]) => checked(`docker ${args.join(' ')}`, inNamespace('docker', args));

/** An HTTP request from inside the namespace (curl): the body, or an error naming the status. */
export async function nsHttp(url: string, method = 'GET'): Promise<string> {
  const r = await inNamespace('curl', ['-sS', '--max-time', '10', '-X', method, '-w', '\n%{http_code}', url], { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`${method} ${url}: curl exited with ${r.code}: ${r.stderr.trim()}`);
  const cut = r.stdout.lastIndexOf('\n');
  const status = Number(r.stdout.slice(cut + 1));
  if (status < 200 || status >= 300) throw new Error(`${method} ${url}: HTTP ${status}: ${r.stdout.slice(0, Math.min(cut, 300))}`);
  return r.stdout.slice(0, cut);
}

export const nsGetJson = async <T>(url: string): Promise<T> => JSON.parse(await nsHttp(url)) as T;

/** The Mailpit API on the namespace's 127.0.0.1:8025 (kind's port mapping), for waitForAlertEmail and friends. */
export class NamespacedMailpit extends MailpitClient {
  override async list(limit = 0): Promise<MailSummary[]> {
    return (await nsGetJson<{ messages: MailSummary[] | null }>(`${this.apiUrl}/api/v1/messages?limit=${limit}`)).messages ?? [];
  }
  override message(id: string): Promise<MailMessage> {
    return nsGetJson<MailMessage>(`${this.apiUrl}/api/v1/message/${encodeURIComponent(id)}`);
  }
  override headers(id: string): Promise<Record<string, string[]>> {
    return nsGetJson<Record<string, string[]>>(`${this.apiUrl}/api/v1/message/${encodeURIComponent(id)}/headers`);
  }
  override raw(id: string): Promise<string> {
    return nsHttp(`${this.apiUrl}/api/v1/message/${encodeURIComponent(id)}/raw`);
  }
  override async deleteAll(): Promise<void> {
    await nsHttp(`${this.apiUrl}/api/v1/messages`, 'DELETE');
  }
}

// --- the machine before and after ---------------------------------------------------------------------------------

/** What the kind environment could leave on the host. */
export interface MachineSnapshot {
  sysctls: Record<string, string>;
  mounts: string[];
  links: string[];
  netns: string[];
  iptables: string[];
  /** Host paths and whether each exists. */
  paths: Record<string, boolean>;
}

// Counters and random values that change on their own.
const VOLATILE_SYSCTL = /^(fs\.(dentry-state|file-nr|inode-nr|inode-state|aio-nr|quota\.)|kernel\.(random\.|ns_last_pid|pty\.nr|sched_domain|perf_event)|net\.netfilter\.nf_conntrack_count)/;
/** Paths a Docker engine, kind or kubectl would create with their defaults (dockerd makes /etc/docker/key.json and /run/docker whatever its flags say). */
export const HOST_PATHS = [
  '/lib/modules',
  '/var/lib/docker',
  '/var/lib/containerd',
  '/etc/docker/key.json',
  '/run/docker',
  '/run/containerd',
  '/var/run/docker.sock',
  join(homedir(), '.kube'),
  join(homedir(), '.docker'),
];

/** `name = value` lines of `sysctl -a` → a map, without the volatile keys. */
export function parseSysctls(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(' = ');
    if (i > 0 && !VOLATILE_SYSCTL.test(line)) out[line.slice(0, i)] = line.slice(i + 3);
  }
  return out;
}

async function hostOutput(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.once('error', reject);
    child.once('close', () => resolve(Buffer.concat(out).toString('utf8')));
  });
}

/** The `index`th field of every non-empty line. */
const fields = (text: string, separator: string, index: number): string[] =>
  text
    .split('\n')
    .map((l) => l.split(separator)[index])
    .filter((f): f is string => f !== undefined && f !== '');

export async function machineSnapshot(): Promise<MachineSnapshot> {
  const rules = async (cmd: string) =>
    (await hostOutput(cmd, []))
      .split('\n')
      .filter((l) => l.startsWith('-'))
      .map((l) => `${cmd} ${l}`);
  return {
    sysctls: parseSysctls(await hostOutput('sysctl', ['-a'])),
    mounts: fields(readFileSync('/proc/self/mounts', 'utf8'), ' ', 1),
    links: fields(await hostOutput('ip', ['-o', 'link']), ': ', 1).map((l) => l.split('@')[0] ?? l),
    netns: existsSync('/run/netns') ? readdirSync('/run/netns') : [],
    iptables: [...(await rules('iptables-save')), ...(await rules('ip6tables-save'))],
    paths: Object.fromEntries(HOST_PATHS.map((p) => [p, existsSync(p)])),
  };
}

/** The global sysctls the real node's kubelet changes (hack/node/cluster.sh SYSCTLS), as a kind node's does. */
export const REAL_NODE_SYSCTLS = ['vm.overcommit_memory', 'vm.panic_on_oom', 'kernel.panic', 'kernel.panic_on_oops', 'kernel.keys.root_maxkeys', 'kernel.keys.root_maxbytes'];

/** Entries of `after` that `before` lacks, and the reverse. */
const added = (before: string[], after: string[]) => after.filter((x) => !before.includes(x));

/**
 * What differs between two snapshots, one line each. Other harnesses may run beside this test (the real node's
 * `vigil-node` namespace and veth, hack/node/images.sh's engine under /run/vigil-docker-*, pod netns `cni-*`);
 * their entries are not this environment's and are left out.
 */
export function machineDiff(before: MachineSnapshot, after: MachineSnapshot): string[] {
  const others = /vigil-node|\/\.local\/node\/|\/run\/vigil-docker-|node-images\/docker|\/run\/netns\/cni-|^cni-/;
  // While the real node runs, its kubelet sets these global sysctls too: their values are not this environment's.
  const shared = before.netns.includes('vigil-node') || after.netns.includes('vigil-node') ? REAL_NODE_SYSCTLS : [];
  const lines: string[] = [];
  for (const [k, v] of Object.entries(before.sysctls)) {
    if (after.sysctls[k] !== undefined && after.sysctls[k] !== v && !shared.includes(k)) lines.push(`sysctl ${k}: ${v} -> ${after.sysctls[k]}`);
  }
  for (const [what, b, a] of [
    ['mount', before.mounts, after.mounts],
    ['link', before.links, after.links],
    ['netns', before.netns, after.netns],
    ['rule', before.iptables, after.iptables],
  ] as const) {
    for (const x of added(b, a)) if (!others.test(x)) lines.push(`${what} added: ${x}`);
    for (const x of added(a, b)) if (!others.test(x)) lines.push(`${what} gone: ${x}`);
  }
  for (const [p, existed] of Object.entries(before.paths)) if (after.paths[p] !== existed) lines.push(`path ${p}: ${existed ? 'existed, now gone' : 'created'}`);
  return lines;
}

/** `<pid>:<start time> <command line>` of a process: the start time tells a reused PID apart. */
function identity(pid: string): { id: string; ns: string; cgroup: string; cmdline: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    return { id: `${pid}:${start} ${cmdline}`, ns: readlinkSync(`/proc/${pid}/ns/net`), cgroup: readFileSync(`/proc/${pid}/cgroup`, 'utf8'), cmdline };
  } catch {
    return undefined; // gone meanwhile
  }
}

const allProcesses = () =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(identity)
    .filter((p) => p !== undefined);

/**
 * The environment's processes (`<pid>:<start time> <command line>`): in the namespace with this inode (only while it
 * exists: a freed namespace's inode is reused by the next one), in a cgroup of one of the containers, or naming the
 * engine's run directory.
 */
export function processesOf(o: { netnsInode?: number; containerIds: string[] }): string[] {
  return allProcesses()
    .filter((p) => p.ns === `net:[${o.netnsInode}]` || o.containerIds.some((id) => p.cgroup.includes(id)) || p.cmdline.includes(DOCKER_RUN_DIR))
    .map((p) => p.id);
}

/** Those of the processes (as processesOf names them) that still run. */
export function stillRunning(ids: string[]): string[] {
  const now = new Set(allProcesses().map((p) => p.id));
  return ids.filter((id) => now.has(id));
}

/** The inode of the namespace's file (what /proc/<pid>/ns/net names). */
export const netnsInode = () => statSync(NETNS_PATH).ino;
