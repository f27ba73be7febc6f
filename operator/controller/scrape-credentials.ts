// The Secrets and ConfigMaps that scrape jobs read (tlsConfig, authorization, basicAuth), watched
// one by one (a watch with metadata.name=<name> in the MonitoredService's own namespace): only the
// objects a valid MonitoredService names, never a namespace's every Secret, and never an object of
// another namespace (references have no namespace field; the namespace is the service's own).
// Their values become the files of the operator's scrape-credentials Secret, which the Prometheus
// pod's sync sidecar writes next to Prometheus (render/scrape-auth.ts names the files).
import type { CoreV1Api, KubeConfig, KubernetesListObject, KubernetesObject, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import type { MonitoredService } from '../api/schema.js';
import type { FileSet } from '../assemble/config-bundle.js';
import type { Logger } from '../observability/logger.js';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { credentialFileName, serviceCredentialRefs, serviceCredentialUses, type CredentialRef, type CredentialUse } from '../render/scrape-auth.js';
import { ResilientInformer } from './informers.js';

/** What one referenced object looks like in the cache: not listed yet, absent, or its data decoded. */
export type SourceState = { synced: false; unreadable?: boolean } | { synced: true; data: Record<string, string> | undefined };

/**
 * How long a reconcile waits for a new watch's first list before it counts the object as unreadable
 * (no RBAC to read that namespace's Secrets, API errors): one team's reference must never hold up
 * everybody's config.
 */
export const FIRST_LIST_TIMEOUT_MS = 10_000;

/** A service's credential files, or why they cannot be delivered (pending: a watch has not listed yet). */
export type CredentialResolution = { files: FileSet } | { problem: string } | { pending: true };

/**
 * Pure: the files of `refs` from the objects' states. Every missing object or key is named, with
 * its namespace, so the status says exactly what to create.
 */
export function resolveCredentials(
  refs: readonly CredentialRef[],
  stateOf: (ref: CredentialRef) => SourceState,
  uses: ReadonlyMap<string, ReadonlySet<CredentialUse>> = new Map(),
  /** How the namespace's owners let the operator read there (the RoleBinding to create), for the status. */
  grantHint?: (namespace: string) => string,
): CredentialResolution {
  const files: FileSet = {};
  const missing: string[] = [];
  let pending = false;
  for (const ref of refs) {
    const state = stateOf(ref);
    const what = `${ref.kind} ${ref.namespace}/${ref.name}`;
    if (!state.synced) {
      if (state.unreadable) missing.push(`${what} cannot be read by the operator${grantHint ? `: ${grantHint(ref.namespace)}` : ' (no access, or the API server fails; see its log)'}`);
      else pending = true;
      continue;
    }
    if (!state.data) missing.push(`${what} does not exist`);
    else if (state.data[ref.key] === undefined) missing.push(`${what} has no key "${ref.key}"`);
    else {
      const file = credentialFileName(ref);
      const content = state.data[ref.key]!;
      const problem = contentProblem(content, uses.get(file) ?? new Set());
      if (problem) missing.push(`${what} key "${ref.key}" ${problem}`);
      else files[file] = content;
    }
  }
  if (missing.length > 0) {
    return { problem: `${missing.join('; ')}: the scrape settings (tlsConfig, authorization, basicAuth) read it; left out of the config until it is fixed` };
  }
  return pending ? { pending: true } : { files };
}

/**
 * Why Prometheus would refuse this content for its use, or undefined. A CA or certificate file it
 * cannot parse fails the whole reload, for every team: checked here, so only this service waits.
 */
export function contentProblem(content: string, uses: ReadonlySet<CredentialUse>): string | undefined {
  if (uses.has('certificates')) {
    const blocks = content.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    const parses = (pem: string) => {
      try {
        new X509Certificate(pem);
        return true;
      } catch {
        return false;
      }
    };
    if (blocks.length === 0 || !blocks.every(parses)) return 'does not hold PEM certificates (-----BEGIN CERTIFICATE-----)';
  }
  if (uses.has('privateKey')) {
    try {
      createPrivateKey(content);
    } catch {
      return 'does not hold a PEM private key';
    }
  }
  if (uses.has('text') && content.trim() === '') return 'is empty';
  return undefined;
}

/** What the owners of `namespace` run to let this install's operator read the Secrets/ConfigMaps its MonitoredServices name. */
export function grantCommand(namespace: string, install: { namespace: string; serviceAccount: string; readerClusterRole: string }): string {
  return (
    `no access or API errors; to grant read access in namespace ${namespace}: kubectl create rolebinding vigil-scrape-credentials -n ${namespace} ` +
    `--clusterrole=${install.readerClusterRole} --serviceaccount=${install.namespace}:${install.serviceAccount} (or a Role naming only these Secrets)`
  );
}

/** A ConfigMap's or Secret's data as text (Secret values are base64 on the wire). */
function decodedData(kind: CredentialRef['kind'], obj: KubernetesObject | undefined): Record<string, string> | undefined {
  if (!obj) return undefined;
  if (kind === 'ConfigMap') {
    const cm = obj as V1ConfigMap;
    const out: Record<string, string> = { ...(cm.data ?? {}) };
    for (const [k, v] of Object.entries(cm.binaryData ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
    return out;
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((obj as V1Secret).data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

const sourceKey = (ref: Pick<CredentialRef, 'kind' | 'namespace' | 'name'>) => `${ref.kind}/${ref.namespace}/${ref.name}`;

/**
 * One informer per referenced object, started when a reconcile first asks for it and stopped
 * when a reconcile no longer does. Each change of such an object triggers a reconcile (onChange).
 */
export class ScrapeCredentialSources {
  private readonly informers = new Map<string, { informer: ResilientInformer<KubernetesObject>; since: number; timer: NodeJS.Timeout }>();
  private wanted = new Set<string>();

  constructor(
    private readonly kc: KubeConfig,
    private readonly core: CoreV1Api,
    private readonly onChange: () => void,
    private readonly log: Logger,
    /** The install: names the ClusterRole a namespace binds to let the operator read its Secrets. */
    private readonly install: { namespace: string; serviceAccount: string; readerClusterRole: string },
  ) {}

  /** Starts a reconcile's bookkeeping: afterwards, only what resolve() was asked for stays watched. */
  beginPass(): void {
    this.wanted = new Set();
  }

  /** The credential files of one valid service (ReconcileInput.scrapeCredentials). */
  resolve(service: MonitoredService): CredentialResolution {
    return resolveCredentials(
      serviceCredentialRefs(service),
      (ref) => this.stateOf(ref),
      serviceCredentialUses(service),
      (namespace) => grantCommand(namespace, this.install),
    );
  }

  /** Stops the watches no service of the last pass needs. */
  async endPass(): Promise<void> {
    const unused = [...this.informers.keys()].filter((k) => !this.wanted.has(k));
    await Promise.all(
      unused.map(async (key) => {
        const { informer, timer } = this.informers.get(key)!;
        this.informers.delete(key);
        clearTimeout(timer);
        await informer.stop();
      }),
    );
  }

  async stop(): Promise<void> {
    this.wanted = new Set();
    await this.endPass();
  }

  /** How many objects are watched (tests, metrics). */
  get watched(): number {
    return this.informers.size;
  }

  private stateOf(ref: CredentialRef): SourceState {
    const key = sourceKey(ref);
    this.wanted.add(key);
    let entry = this.informers.get(key);
    if (!entry) {
      const informer = this.watch(ref);
      // Its first list triggers a reconcile; so does giving up waiting for it.
      const timer = setTimeout(() => this.onChange(), FIRST_LIST_TIMEOUT_MS + 100);
      timer.unref();
      entry = { informer, since: Date.now(), timer };
      this.informers.set(key, entry);
      informer.start().catch(() => undefined); // retries by itself
    }
    const { informer } = entry;
    if (!informer.hasSynced) return { synced: false, unreadable: Date.now() - entry.since >= FIRST_LIST_TIMEOUT_MS };
    return { synced: true, data: decodedData(ref.kind, informer.get(ref.name, ref.namespace)) };
  }

  private watch(ref: CredentialRef): ResilientInformer<KubernetesObject> {
    const { namespace, name, kind } = ref;
    const fieldSelector = `metadata.name=${name}`;
    const resource = kind === 'Secret' ? 'secrets' : 'configmaps';
    return new ResilientInformer<KubernetesObject>({
      kc: this.kc,
      name: `${resource}/${namespace}/${name}`,
      path: `/api/v1/namespaces/${namespace}/${resource}`,
      fieldSelector,
      list: () =>
        (kind === 'Secret' ? this.core.listNamespacedSecret({ namespace, fieldSelector }) : this.core.listNamespacedConfigMap({ namespace, fieldSelector })) as Promise<
          KubernetesListObject<KubernetesObject>
        >,
      onChange: () => this.onChange(),
      trim: (o) => {
        delete o.metadata?.managedFields;
      },
      log: this.log,
    });
  }
}
