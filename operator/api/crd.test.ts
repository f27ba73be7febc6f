import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CRD_FILE, renderCRDYaml } from './generate-crd.js';
import { monitoredServiceCRD, type JSONSchemaProps } from './crd.js';

type Node = JSONSchemaProps;
const crd = monitoredServiceCRD() as { spec: { versions: Array<Record<string, any>>; names: Record<string, unknown>; scope: string; group: string } };
const version = crd.spec.versions[0]!;
const schema = version.schema.openAPIV3Schema as Node;

function walk(node: Node, path: string, visit: (node: Node, path: string) => void): void {
  visit(node, path);
  for (const [name, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.${name}`, visit);
  if (node.items) walk(node.items, `${path}[]`, visit);
  if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${path}{}`, visit);
}
const at = (path: string): Node => {
  let node: Node | undefined = schema;
  for (const part of path.split('.')) {
    node = part.endsWith('[]') ? node?.properties?.[part.slice(0, -2)]?.items : node?.properties?.[part];
  }
  if (!node) throw new Error(`no schema at ${path}`);
  return node;
};

describe('generated CRD', () => {
  it('is checked in up to date (run `make generate` after changing operator/api/schema.ts)', () => {
    expect(readFileSync(CRD_FILE, 'utf8')).toBe(renderCRDYaml());
    expect(parse(readFileSync(CRD_FILE, 'utf8'))).toEqual(monitoredServiceCRD());
  });

  it('declares the API: group, version, kind, scope, names, status subresource', () => {
    expect(crd.spec.group).toBe('vigil.dev');
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names).toMatchObject({ kind: 'MonitoredService', plural: 'monitoredservices', shortNames: ['msvc', 'ms'] });
    expect(version).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
  });

  it('has printer columns for the conditions, targets and age', () => {
    expect(version.additionalPrinterColumns.map((c: { name: string; jsonPath: string }) => `${c.name}=${c.jsonPath}`)).toEqual([
      'Valid=.status.conditions[?(@.type=="Valid")].status',
      'ConfigApplied=.status.conditions[?(@.type=="ConfigApplied")].status',
      'Ready=.status.conditions[?(@.type=="Ready")].status',
      'Reason=.status.conditions[?(@.type=="Ready")].reason',
      'Healthy=.status.healthyTargets',
      'Targets=.status.discoveredTargets',
      'Age=.metadata.creationTimestamp',
    ]);
  });

  it('describes every field, for kubectl explain', () => {
    const undescribed: string[] = [];
    walk(schema, '', (node, path) => {
      // metadata is the API server's own (it refuses descriptions there); kubectl explain documents it.
      if (path.startsWith('.metadata')) return;
      if (!path.endsWith('[]') && !path.endsWith('{}') && !node.description) undescribed.push(path || '(root)');
    });
    expect(undescribed).toEqual([]);
  });

  it('is structural: every node has a type, no additionalProperties:false, no zod leftovers', () => {
    const problems: string[] = [];
    walk(schema, '', (node, path) => {
      if (!node.type) problems.push(`${path}: no type`);
      if (node.additionalProperties === false) problems.push(`${path}: additionalProperties false`);
      if (node.properties && node.additionalProperties !== undefined) problems.push(`${path}: properties and additionalProperties`);
      for (const key of ['$schema', '$ref', 'anyOf', 'oneOf', 'allOf', 'nullable', 'const']) if (key in node) problems.push(`${path}: ${key}`);
      if (node.type === 'integer' && (node.maximum === Number.MAX_SAFE_INTEGER || node.minimum === Number.MIN_SAFE_INTEGER)) problems.push(`${path}: zod safe-int bounds`);
    });
    expect(problems).toEqual([]);
  });

  it('keeps defaults, enums, patterns and limits', () => {
    expect(at('spec.endpoints[].path').default).toBe('/metrics');
    // No schema default: scrapeTiming() composes interval and timeout (#11).
    expect(at('spec.endpoints[].interval').default).toBeUndefined();
    expect(at('spec.endpoints[].scrapeTimeout').default).toBeUndefined();
    expect(at('spec.endpoints[].port')).toMatchObject({ maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' });
    expect(at('spec.endpoints[].interval')).toMatchObject({ maxLength: 32, pattern: '^([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$' });
    expect(at('spec.endpoints[].scheme').enum).toEqual(['http', 'https']);
    expect(at('spec.downAlert').default).toEqual({ enabled: true, for: '1m', severity: 'critical' });
    expect(at('spec.selector.matchLabels')).toMatchObject({ type: 'object', maxProperties: 64, additionalProperties: { type: 'string', maxLength: 63 } });
    expect(at('spec.endpoints')).toMatchObject({ minItems: 1, maxItems: 16 });
    expect(at('metadata.name').maxLength).toBe(177);
  });

  it('bounds every list and string under spec (CEL cost, request size)', () => {
    const unbounded: string[] = [];
    walk(at('spec'), 'spec', (node, path) => {
      if (node.type === 'array' && node.maxItems === undefined) unbounded.push(path);
      if (node.type === 'string' && node.maxLength === undefined && node.enum === undefined) unbounded.push(path);
    });
    expect(unbounded).toEqual([]);
  });

  it('enforces cross-field rules with CEL and list keys', () => {
    const rules = (path: string) => ((at(path)['x-kubernetes-validations'] ?? []) as Array<{ rule: string }>).map((r) => r.rule);
    expect(rules('spec.endpoints[]')).toContain('!has(self.interval) || !has(self.scrapeTimeout) || duration(self.scrapeTimeout) <= duration(self.interval)');
    expect(rules('spec.selector')).toEqual(['(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)']);
    expect(rules('spec.selector.matchExpressions[]')).toHaveLength(2);
    expect(rules('spec.selector.matchLabels')).toHaveLength(2);
    expect(rules('spec.rules[].labels')).toHaveLength(1);
    expect(rules('spec.endpoints[].path')).toEqual(["!self.contains('?')", "!self.contains('#')", "!self.contains('%')"]);
    expect(rules('spec.endpoints[].params')).toEqual(['self.all(k, k.size() >= 1 && k.size() <= 256)']);
    expect(at('spec.rules')).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] });
    expect(at('spec.endpoints')).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['port'] });
    expect(at('status.conditions')).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });
  });
});
