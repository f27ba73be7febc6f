// zod drops fields it does not know, so a typo such as `scrapeTimout` would silently fall back to the
// default. The API server prunes such fields too (and `kubectl apply --validate=strict` rejects them);
// for files checked by `vigil render` they are reported, naming the accepted fields.
import { z } from 'zod';
import { MonitoredServiceSchema } from '../api/schema.js';
import type { ValidationIssue } from '../render/types.js';
import { formatPath } from './paths.js';

interface JsonSchemaNode {
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: JsonSchemaNode | boolean;
  items?: JsonSchemaNode;
}

let cachedSchema: JsonSchemaNode | undefined;
function schema(): JsonSchemaNode {
  cachedSchema ??= z.toJSONSchema(MonitoredServiceSchema, { target: 'openapi-3.0', io: 'input' }) as JsonSchemaNode;
  return cachedSchema;
}

/** Object metadata and status carry many fields Vigil does not model (managedFields, labels, ...). */
const OPEN_OBJECTS = new Set(['metadata', 'status']);

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number;
      row[j] = Math.min(current + 1, (row[j - 1] as number) + 1, previous + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] as number;
}

/** The accepted name within 2 edits of `key` (case-insensitive), the closest first; undefined when none is. */
export function closestName(key: string, accepted: readonly string[]): string | undefined {
  return accepted.filter((name) => editDistance(name, key) <= 2).sort((a, b) => editDistance(a, key) - editDistance(b, key))[0];
}

export function unknownFieldIssues(raw: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const walk = (node: JsonSchemaNode | undefined, value: unknown, path: PropertyKey[]) => {
    if (!node || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(node.items, item, [...path, i]));
      return;
    }
    if (!node.properties) return;
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const known = node.properties[key];
      if (known) {
        if (!(path.length === 0 && OPEN_OBJECTS.has(key))) walk(known, child, [...path, key]);
        continue;
      }
      const accepted = Object.keys(node.properties);
      const close = closestName(key, accepted);
      issues.push({
        field: formatPath([...path, key]),
        message: `unknown field${close ? ` (did you mean ${close}?)` : ''}; accepted fields here: ${accepted.join(', ')}`,
      });
    }
  };
  walk(schema(), raw, []);
  return issues;
}
