// The TLS, authorization and native-histogram settings of one scrape job. Secret and ConfigMap
// values never enter prometheus.yml: the job names files (ca_file, cert_file, key_file,
// credentials_file, username_file, password_file) in the scrape-credentials directory, which the
// operator fills through a Secret of its own and the Prometheus pod's sync sidecar writes
// (docs/monitoredservice.md "TLS and authorization"). Prometheus reads those files again on every
// scrape whose content changed, so a rotated Secret needs no reload.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { Endpoint, MonitoredService } from '../api/schema.js';

/** Where Prometheus finds the credential files unless settings.scrapeCredentialsDir says otherwise. */
export const DEFAULT_SCRAPE_CREDENTIALS_DIR = '/etc/prometheus/scrape-credentials';

/** One value a scrape job reads from the MonitoredService's namespace. */
export interface CredentialRef {
  kind: 'Secret' | 'ConfigMap';
  namespace: string;
  name: string;
  key: string;
}

/** Longest file name the sync sidecar writes (sync/files.ts invalidFileKeyReason). */
const MAX_FILE_NAME = 253;

/**
 * The file (and key of the operator's credentials Secret) holding one referenced value:
 * `<namespace>__<secret|configmap>__<name>__<key>`. Namespace and name cannot contain `_`, so the
 * name is unambiguous; one value used by several endpoints is one file. Over 253 characters, the
 * name and key are replaced by a sha256 of them.
 */
export function credentialFileName(ref: CredentialRef): string {
  const prefix = `${ref.namespace}__${ref.kind.toLowerCase()}__`;
  const plain = `${prefix}${ref.name}__${ref.key}`;
  if (plain.length <= MAX_FILE_NAME) return plain;
  return `${prefix}sha256-${createHash('sha256').update(`${ref.name}\0${ref.key}`).digest('hex')}`;
}

type Source = { secret?: { name: string; key: string } | undefined; configMap?: { name: string; key: string } | undefined };

function sourceRef(namespace: string, source: Source): CredentialRef | undefined {
  if (source.secret) return { kind: 'Secret', namespace, ...source.secret };
  if (source.configMap) return { kind: 'ConfigMap', namespace, ...source.configMap };
  return undefined;
}

const secretRef = (namespace: string, selector: { name: string; key: string }): CredentialRef => ({ kind: 'Secret', namespace, name: selector.name, key: selector.key });

/** The values one endpoint reads, by the job field that names their file. */
function endpointRefs(namespace: string, endpoint: Endpoint): Partial<Record<'ca' | 'cert' | 'key' | 'credentials' | 'username' | 'password', CredentialRef>> {
  const tls = endpoint.tlsConfig;
  const ca = tls?.ca ? sourceRef(namespace, tls.ca) : undefined;
  const cert = tls?.cert ? sourceRef(namespace, tls.cert) : undefined;
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(tls?.keySecret ? { key: secretRef(namespace, tls.keySecret) } : {}),
    ...(endpoint.authorization ? { credentials: secretRef(namespace, endpoint.authorization.credentials) } : {}),
    ...(endpoint.basicAuth ? { username: secretRef(namespace, endpoint.basicAuth.username), password: secretRef(namespace, endpoint.basicAuth.password) } : {}),
  };
}

/** Every value the service's scrape jobs read, each once, sorted by file name. Always in its own namespace. */
export function serviceCredentialRefs(service: MonitoredService): CredentialRef[] {
  const byFile = new Map<string, CredentialRef>();
  for (const endpoint of service.spec.endpoints) {
    for (const ref of Object.values(endpointRefs(service.metadata.namespace, endpoint))) byFile.set(credentialFileName(ref), ref);
  }
  return [...byFile.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ref]) => ref);
}

/** What Prometheus makes of a file: PEM certificates (ca, cert), a PEM private key (key), or text. */
export type CredentialUse = 'certificates' | 'privateKey' | 'text';

/** How each of the service's files is used (file name -> uses), so its content can be checked before Prometheus loads it. */
export function serviceCredentialUses(service: MonitoredService): Map<string, Set<CredentialUse>> {
  const uses = new Map<string, Set<CredentialUse>>();
  const use: Record<string, CredentialUse> = { ca: 'certificates', cert: 'certificates', key: 'privateKey', credentials: 'text', username: 'text', password: 'text' };
  for (const endpoint of service.spec.endpoints) {
    for (const [field, ref] of Object.entries(endpointRefs(service.metadata.namespace, endpoint))) {
      const file = credentialFileName(ref);
      uses.set(file, (uses.get(file) ?? new Set()).add(use[field]!));
    }
  }
  return uses;
}

/**
 * tls_config, authorization, basic_auth, scrape_native_histograms and always_scrape_classic_histograms
 * of one endpoint's job, in that order; {} when it sets none. `dir`: the scrape-credentials directory as Prometheus sees it.
 */
export function scrapeAuthFields(namespace: string, endpoint: Endpoint, dir: string): Record<string, unknown> {
  const refs = endpointRefs(namespace, endpoint);
  const file = (ref: CredentialRef) => posix.join(dir, credentialFileName(ref));
  const tls = endpoint.tlsConfig;
  const tlsConfig = {
    ...(refs.ca ? { ca_file: file(refs.ca) } : {}),
    ...(refs.cert ? { cert_file: file(refs.cert) } : {}),
    ...(refs.key ? { key_file: file(refs.key) } : {}),
    ...(tls?.serverName ? { server_name: tls.serverName } : {}),
    ...(tls?.insecureSkipVerify !== undefined ? { insecure_skip_verify: tls.insecureSkipVerify } : {}),
  };
  return {
    ...(Object.keys(tlsConfig).length > 0 ? { tls_config: tlsConfig } : {}),
    ...(endpoint.authorization && refs.credentials ? { authorization: { type: endpoint.authorization.type, credentials_file: file(refs.credentials) } } : {}),
    ...(refs.username && refs.password ? { basic_auth: { username_file: file(refs.username), password_file: file(refs.password) } } : {}),
    ...(endpoint.nativeHistograms !== undefined ? { scrape_native_histograms: endpoint.nativeHistograms } : {}),
    ...(endpoint.alwaysScrapeClassicHistograms !== undefined ? { always_scrape_classic_histograms: endpoint.alwaysScrapeClassicHistograms } : {}),
  };
}
