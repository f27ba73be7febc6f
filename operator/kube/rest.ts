// A small Kubernetes API client on node:https for the sync sidecar: kubeconfig or in-cluster credentials,
// JSON requests and watch streams. @kubernetes/client-node loads every generated model and API of
// Kubernetes at import (about 65 MiB of the sidecar's 95 MiB anonymous memory); the sidecar needs four
// calls (list, watch, merge-patch, create Event), so it talks to the API itself.
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A request whose answer does not start within this is abandoned (the callers retry with backoff). */
const REQUEST_TIMEOUT_MS = 60_000;

/** Where and how to reach the API server. Credentials are read when the client is built, tokens from files on each request. */
export interface RestConfig {
  /** e.g. https://10.96.0.1:443 */
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** The bearer token (a token file is read on every request: projected tokens rotate). */
  token?: () => string;
  basicAuth?: { username: string; password: string };
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
}

/** An HTTP error answer of the API server (its Status object's message when it sent one). */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: string,
  ) {
    let message = body;
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      // not JSON: keep the text
    }
    super(`HTTP ${statusCode}${message ? `: ${message}` : ''}`);
  }
}

/** One line for logs: the status and the Status message of an API error, else the error's message (with a network code). */
export function describeRestError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

// --- kubeconfig ------------------------------------------------------------------------------------

interface NamedEntry<T> {
  name: string;
  [key: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}
type Fields = Record<string, unknown>;
interface KubeconfigFile {
  clusters?: Array<NamedEntry<Fields>>;
  users?: Array<NamedEntry<Fields>>;
  contexts?: Array<NamedEntry<Fields>>;
  'current-context'?: string;
}

/** The kubeconfig user fields this client does not implement; a config using one is refused by name. */
const UNSUPPORTED_USER_FIELDS = ['exec', 'auth-provider', 'as', 'as-groups', 'as-uid'];

/**
 * The cluster and user of a kubeconfig's current context, relative paths resolved against the file's
 * directory. Supported: server, certificate-authority(-data), insecure-skip-tls-verify, tls-server-name;
 * client-certificate(-data)/client-key(-data), token, tokenFile, username/password. Throws naming the
 * file and field for anything else (exec plugins, auth providers, proxy-url, impersonation).
 */
export function restConfigFromKubeconfig(text: string, file: string): RestConfig {
  const doc = (parseYaml(text) ?? {}) as KubeconfigFile;
  const contextName = doc['current-context'];
  if (!contextName) throw new Error(`kubeconfig ${file}: no current-context`);
  const context = doc.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(`kubeconfig ${file}: current-context "${contextName}" is not in contexts`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`kubeconfig ${file}: cluster "${String(context.cluster)}" of context "${contextName}" has no server`);
  const user = (doc.users?.find((u) => u.name === context.user)?.user ?? {}) as Fields;
  if (cluster['proxy-url'] !== undefined) throw new Error(`kubeconfig ${file}: cluster "${String(context.cluster)}" sets proxy-url, which vigil sync does not support; reach the API server directly`);
  for (const field of UNSUPPORTED_USER_FIELDS)
    if (user[field] !== undefined)
      throw new Error(
        `kubeconfig ${file}: user "${String(context.user)}" sets ${field}, which vigil sync does not support; accepted: client-certificate/client-key, token, tokenFile, username/password`,
      );
  const base = dirname(resolve(file));
  const path = (p: unknown) => (isAbsolute(String(p)) ? String(p) : join(base, String(p)));
  const material = (data: unknown, fileField: unknown): Buffer | undefined =>
    typeof data === 'string' ? Buffer.from(data, 'base64') : typeof fileField === 'string' ? readFileSync(path(fileField)) : undefined;
  const ca = material(cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = material(user['client-certificate-data'], user['client-certificate']);
  const key = material(user['client-key-data'], user['client-key']);
  const token = typeof user.token === 'string' ? user.token : undefined;
  const tokenFile = typeof user.tokenFile === 'string' ? path(user.tokenFile) : undefined;
  return {
    server: cluster.server,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(token !== undefined ? { token: () => token } : tokenFile ? { token: () => readFileSync(tokenFile, 'utf8').trim() } : {}),
    ...(typeof user.username === 'string' ? { basicAuth: { username: user.username, password: String(user.password ?? '') } } : {}),
    ...(cluster['insecure-skip-tls-verify'] === true ? { insecureSkipTlsVerify: true } : {}),
    ...(typeof cluster['tls-server-name'] === 'string' ? { tlsServerName: cluster['tls-server-name'] } : {}),
  };
}

/** In-cluster: the service account's CA and (rotating) token, the API server from KUBERNETES_SERVICE_HOST/PORT. */
export function inClusterRestConfig(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): RestConfig {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const tokenFile = join(dir, 'token');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: readFileSync(join(dir, 'ca.crt')),
    token: () => readFileSync(tokenFile, 'utf8').trim(),
  };
}

/**
 * The same order as kube/client.ts loadKubeConfig: --kubeconfig wins; else in-cluster when a service
 * account token is mounted; else the first file of $KUBECONFIG that exists, else ~/.kube/config.
 */
export function loadRestConfig(kubeconfigPath?: string, env: NodeJS.ProcessEnv = process.env): RestConfig {
  const fromFile = (file: string) => restConfigFromKubeconfig(readFileSync(file, 'utf8'), file);
  if (kubeconfigPath) return fromFile(kubeconfigPath);
  if (env.KUBERNETES_SERVICE_HOST && exists(join(SERVICE_ACCOUNT_DIR, 'token'))) return inClusterRestConfig(env);
  const candidates = [...(env.KUBECONFIG ?? '').split(':').filter(Boolean), join(homedir(), '.kube', 'config')];
  const file = candidates.find(exists);
  if (!file) throw new Error('no Kubernetes cluster configured: pass --kubeconfig, set KUBECONFIG, or run in a pod');
  return fromFile(file);
}

const exists = (file: string): boolean => existsSync(file);

// --- requests --------------------------------------------------------------------------------------

export interface RestRequest {
  method: 'GET' | 'POST' | 'PATCH';
  /** e.g. /api/v1/namespaces/ns/configmaps */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Content-Type of the body; default application/json. */
  contentType?: string;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** JSON requests and watch streams against one API server over one keep-alive connection pool. */
export class RestClient {
  private readonly url: URL;
  private readonly agent: Agent | undefined;

  constructor(private readonly config: RestConfig) {
    this.url = new URL(config.server);
    this.agent =
      this.url.protocol === 'https:'
        ? new Agent({
            keepAlive: true,
            ...(config.ca ? { ca: config.ca } : {}),
            ...(config.cert ? { cert: config.cert } : {}),
            ...(config.key ? { key: config.key } : {}),
            ...(config.tlsServerName ? { servername: config.tlsServerName } : {}),
            rejectUnauthorized: !config.insecureSkipTlsVerify,
          })
        : undefined;
  }

  /** Sends one request and parses the JSON answer; a status >= 300 rejects with ApiError. */
  async request<T>(req: RestRequest): Promise<T> {
    const res = await this.send(req);
    const text = await readBody(res);
    if ((res.statusCode ?? 0) >= 300) throw new ApiError(res.statusCode ?? 0, text);
    return JSON.parse(text) as T;
  }

  /**
   * Opens a watch (`watch=true` is added to the query) and calls onEvent for each event line. Resolves
   * when the server ends the stream; rejects on a non-200 answer (ApiError), a network error, or no
   * data for `idleTimeoutMs` (a server that went away without closing). `signal` ends it quietly.
   */
  async watch<T>(path: string, query: RestRequest['query'], onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal, idleTimeoutMs = 30_000): Promise<void> {
    const res = await this.send({ method: 'GET', path, query: { ...query, watch: true } }, signal);
    if (res.statusCode !== 200) throw new ApiError(res.statusCode ?? 0, await readBody(res));
    const socket = res.socket;
    const onIdle = () => res.destroy(new Error(`watch ${path}: no data for ${idleTimeoutMs / 1000} s`));
    await new Promise<void>((resolveDone, reject) => {
      let buffered = '';
      res.setEncoding('utf8');
      socket.setTimeout(idleTimeoutMs);
      socket.on('timeout', onIdle);
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line) {
            try {
              onEvent(JSON.parse(line) as WatchEvent<T>);
            } catch (err) {
              res.destroy(err as Error);
              return;
            }
          }
          newline = buffered.indexOf('\n');
        }
      });
      res.on('end', () => resolveDone());
      res.on('error', (err) => (signal.aborted ? resolveDone() : reject(err)));
      res.on('close', () => resolveDone());
    }).finally(() => {
      // The socket goes back to the keep-alive pool: no timer or listener of this watch may stay on it.
      socket.setTimeout(0);
      socket.off('timeout', onIdle);
    });
  }

  private send(req: RestRequest, signal?: AbortSignal): Promise<IncomingMessage> {
    const url = new URL(req.path, this.url);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'vigil-sync' };
    if (body) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = String(body.length);
    }
    const token = this.config.token?.();
    if (token) headers.Authorization = `Bearer ${token}`;
    else if (this.config.basicAuth) headers.Authorization = `Basic ${Buffer.from(`${this.config.basicAuth.username}:${this.config.basicAuth.password}`).toString('base64')}`;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<IncomingMessage>((resolveRes, reject) => {
      const r = send(url, { method: req.method, headers, ...(this.agent ? { agent: this.agent } : {}), ...(signal ? { signal } : {}) }, resolveRes);
      r.on('error', reject);
      // Until the answer's headers; a watch's own idle timeout covers its stream.
      r.setTimeout(REQUEST_TIMEOUT_MS, () => r.destroy(new Error(`${req.method} ${req.path}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      r.once('response', () => r.setTimeout(0));
      r.end(body);
    });
  }

  /** Closes idle keep-alive connections (open watches end through their signals). */
  close(): void {
    this.agent?.destroy();
  }
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolveText, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolveText(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}
