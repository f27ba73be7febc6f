// Kubernetes JSON schemas for kubeconform, extracted from the real kube-apiserver's /openapi/v2
// (kubeconform's default download is not reachable here, and this way the schemas are exactly the
// API server's, CRDs included). Layout: <dir>/<kind>-<group prefix>-<version>.json, which is what
// kubeconform's `{{ .ResourceKind }}{{ .KindSuffix }}` template names them.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

type Schema = Record<string, unknown>;
interface Gvk {
  group: string;
  version: string;
  kind: string;
}

export const SCHEMA_LOCATION_TEMPLATE = '{{ .ResourceKind }}{{ .KindSuffix }}.json';

export function schemaFileName(gvk: Gvk): string {
  const group = gvk.group === '' ? '' : `${gvk.group.split('.')[0]}-`;
  return `${gvk.kind.toLowerCase()}-${group}${gvk.version}.json`.toLowerCase();
}

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/** OpenAPI v2 → JSON schema, strict: unknown fields are errors, int-or-string and quantities accept both forms. */
function convert(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convert);
  if (typeof node !== 'object' || node === null) return node;
  const s: Schema = {};
  for (const [k, v] of Object.entries(node)) s[k] = k === 'properties' || k === 'definitions' ? mapValues(v as Schema, convert) : convert(v);
  if (s.format === 'int-or-string') {
    delete s.type;
    delete s.format;
    s.anyOf = [{ type: 'string' }, { type: 'integer' }];
  }
  if (s.properties !== undefined && s.additionalProperties === undefined && s['x-kubernetes-preserve-unknown-fields'] !== true) {
    s.additionalProperties = false;
  }
  return s;
}

function mapValues(obj: Schema, f: (v: unknown) => unknown): Schema {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, f(v)]));
}

function refsOf(node: unknown, out: Set<string>): void {
  if (Array.isArray(node)) node.forEach((n) => refsOf(n, out));
  else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.add(v.replace('#/definitions/', ''));
      else refsOf(v, out);
    }
  }
}

/** The definition names a definition needs, transitively. */
function closure(defs: Record<string, Schema>, root: string): string[] {
  const seen = new Set<string>([root]);
  const queue = [root];
  while (queue.length > 0) {
    const refs = new Set<string>();
    refsOf(defs[queue.pop() as string], refs);
    for (const r of refs) if (!seen.has(r) && defs[r]) seen.add(r), queue.push(r);
  }
  return [...seen].sort();
}

/** One standalone strict schema per top-level kind of the OpenAPI document. */
export function kubeconformSchemas(openapi: { definitions: Record<string, Schema> }): Map<string, Schema> {
  const defs = Object.fromEntries(Object.entries(openapi.definitions).map(([name, d]) => [name, convert(d) as Schema]));
  defs[QUANTITY] = { anyOf: [{ type: 'string' }, { type: 'number' }] };
  const out = new Map<string, Schema>();
  for (const [name, def] of Object.entries(openapi.definitions)) {
    const gvks = def['x-kubernetes-group-version-kind'] as Gvk[] | undefined;
    if (!gvks || !(def.properties as Schema | undefined)?.apiVersion) continue;
    const definitions = Object.fromEntries(closure(defs, name).map((n) => [n, defs[n]]));
    for (const gvk of gvks) out.set(schemaFileName(gvk), { ...defs[name], definitions });
  }
  return out;
}

export async function writeSchemas(dir: string, schemas: Map<string, Schema>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [file, schema] of schemas) await writeFile(join(dir, file), JSON.stringify(schema));
}
