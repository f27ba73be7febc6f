// Kubernetes objects as the cdk8s app produces them, and the CRDs it ships (generated from the zod schema).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** crds/ as generated from the zod schema; VIGIL_CRD_DIR overrides it (tests of the generator itself). */
export const CRD_DIR = process.env.VIGIL_CRD_DIR ?? join(REPO_ROOT, 'crds');

export type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

/** The CRDs from crds/ exactly as generated from the zod schema. */
export function crdObjects(dir = CRD_DIR): KubeObject[] {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
  } catch {
    files = [];
  }
  if (files.length === 0) throw new Error(`no CRD manifests in ${dir}: run \`make generate\``);
  return files.flatMap((f) =>
    parseAllDocuments(readFileSync(join(dir, f), 'utf8'))
      .map((d) => d.toJS() as KubeObject | null)
      .filter((o): o is KubeObject => o !== null),
  );
}
