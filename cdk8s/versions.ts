// Image tags come from the one place that pins versions (hack/versions.env) and from package.json,
// so the manifests never restate a version.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** KEY=value lines of hack/versions.env (comments and blank lines skipped). */
export function readVersionsEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2].replace(/^["']|["']$/g, '');
  }
  return out;
}

export const VERSIONS = readVersionsEnv(readFileSync(`${REPO_ROOT}hack/versions.env`, 'utf8'));
export const PACKAGE_VERSION: string = (JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as { version: string }).version;

function pinned(key: string): string {
  const v = VERSIONS[key];
  if (!v) throw new Error(`hack/versions.env has no ${key}`);
  return v;
}

const withV = (v: string) => (v.startsWith('v') ? v : `v${v}`);

/**
 * The images Vigil builds (`make images`, pushed by `make push REGISTRY=...` as <REGISTRY>/vigil/<name>:<version>)
 * have no registry of their own: they take global.imageRegistry. The upstream ones name theirs.
 */
export const VIGIL_IMAGE_NAMES = ['operator', 'target-service', 'stunnel'] as const;

export const IMAGE_DEFAULTS = {
  operator: { registry: '', repository: 'vigil/operator', tag: PACKAGE_VERSION },
  targetService: { registry: '', repository: 'vigil/target-service', tag: PACKAGE_VERSION },
  // Our own stunnel image (images/stunnel): Debian's stunnel4 at STUNNEL_DEBIAN_VERSION.
  stunnel: { registry: '', repository: 'vigil/stunnel', tag: PACKAGE_VERSION },
  prometheus: { registry: 'quay.io', repository: 'prometheus/prometheus', tag: withV(pinned('PROMETHEUS_VERSION')) },
  alertmanager: { registry: 'quay.io', repository: 'prometheus/alertmanager', tag: withV(pinned('ALERTMANAGER_VERSION')) },
  thanos: { registry: 'quay.io', repository: 'thanos/thanos', tag: withV(pinned('THANOS_VERSION')) },
  mailpit: { registry: 'docker.io', repository: 'axllent/mailpit', tag: withV(pinned('MAILPIT_VERSION')) },
  mailhog: { registry: 'docker.io', repository: 'mailhog/mailhog', tag: withV(pinned('MAILHOG_VERSION')) },
} as const;
