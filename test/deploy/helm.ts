// Helpers of the deployment checks: run helm from ./bin, parse and normalise manifests.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { REPO_ROOT, type KubeObject } from '../../cdk8s/kube.js';
import { HELM_ONLY_LABELS } from '../../cdk8s/chart/templatize.js';
import { MAIL_CATCHER_TLS_SECRET } from '../../cdk8s/components/mail-catcher.js';
import { SETTINGS_CHECKSUM_ANNOTATION } from '../../cdk8s/components/operator.js';

export const BIN = join(REPO_ROOT, 'bin');
export const CHART = join(REPO_ROOT, 'charts', 'vigil');
const run = promisify(execFile);

export async function tool(name: string, args: string[], opts: { input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const child = run(join(BIN, name), args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, KUBECONFIG: '' } });
    if (opts.input !== undefined) {
      child.child.stdin?.end(opts.input);
    }
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== 'number') throw new Error(`cannot run ${name}: ${e.message} (run \`make tools\`)`);
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** `helm template` of charts/vigil with the given values (written to a temp file), CRDs included. */
export async function helmTemplate(values: unknown, namespace = 'vigil-system', extraArgs: string[] = []): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-helm-'));
  try {
    const valuesFile = join(dir, 'values.yaml');
    await writeFile(valuesFile, stringify(values ?? {}));
    const r = await tool('helm', ['template', 'vigil', CHART, '--namespace', namespace, '--include-crds', '-f', valuesFile, ...extraArgs]);
    if (r.code !== 0) throw new Error(`helm template failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function parseManifests(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`invalid YAML in rendered manifests: ${d.errors[0]?.message}`);
      return d.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => o !== null);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/**
 * What the drift test compares: Helm's bookkeeping labels removed, the install-time TLS pair and
 * the settings checksum replaced by markers, keys and documents sorted.
 */
export function normalise(objects: readonly KubeObject[]): KubeObject[] {
  return objects
    .map((o) => {
      const obj = structuredClone(o);
      const labels = obj.metadata.labels;
      if (labels) {
        for (const l of HELM_ONLY_LABELS) delete labels[l];
        if (Object.keys(labels).length === 0) delete obj.metadata.labels;
      }
      // Files inside ConfigMaps are compared by content: Helm prints JSON flow style where cdk8s prints block style.
      if (obj.kind === 'ConfigMap' && obj.data) {
        const data = obj.data as Record<string, unknown>;
        for (const [k, v] of Object.entries(data)) if (/\.ya?ml$/.test(k) && typeof v === 'string') data[k] = { parsedYaml: parse(v) as unknown };
      }
      // Helm hashes the rendered ConfigMap template, cdk8s the settings text: compare the shape only
      // (chart.int.test.ts checks that the Helm checksum follows the settings).
      const podAnnotations = (obj.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined)?.template?.metadata?.annotations;
      const checksum = podAnnotations?.[SETTINGS_CHECKSUM_ANNOTATION];
      if (podAnnotations && checksum !== undefined && /^[0-9a-f]{64}$/.test(checksum)) podAnnotations[SETTINGS_CHECKSUM_ANNOTATION] = '<sha256>';
      if (obj.kind === 'Secret' && obj.metadata.name === MAIL_CATCHER_TLS_SECRET) {
        const data = obj.data as Record<string, string>;
        for (const k of Object.keys(data)) data[k] = '<generated at install time>';
      }
      return sortKeys(obj) as KubeObject;
    })
    .sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
}

export function objectKey(o: KubeObject): string {
  return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}
