// What a MonitoredService's selector and endpoint ports find among the Services of its namespace,
// as a pure function of the operator's Service cache (issue #15). Prometheus finds targets through
// EndpointSlices by Service labels and *port name*; when the selector matches nothing, or the
// selected Services have no port of that name (or only unnamed ports), Prometheus silently
// discovers nothing. This names what is wrong, with what does exist, before any alert would.
//
// It also recognises Services that select the same pods (a ClusterIP Service and a headless one
// over the same Deployment, a common chart pattern): Prometheus would scrape each pod once per
// Service, doubling every sum and count. Services with an identical, non-empty `spec.selector`
// select the same pods; for each such group one Service is scraped (a ClusterIP one before a
// headless one, then by name) and the others are dropped by relabelling (see scrapeHints).
// Services without a selector (EndpointSlices managed by hand) are never treated as duplicates.
import type { LabelSelector, MonitoredService } from '../api/schema.js';
import { labelSelectorString } from '../render/label-selector.js';
import { compareStrings } from '../render/names.js';
import { sanitizedLabelName } from '../render/names.js';
import { OVERLAP_PREFIX } from './conditions.js';

/** What the operator keeps of a core/v1 Service (see trimService). */
export interface ServiceInfo {
  name: string;
  labels: Record<string, string>;
  /** spec.selector; undefined or empty for a Service without a selector. */
  podSelector?: Record<string, string> | undefined;
  headless: boolean;
  ports: { name?: string | undefined; port: number; protocol?: string | undefined }[];
}

/** A problem that makes Prometheus discover nothing for one endpoint. */
export interface SelectionProblem {
  reason: 'NoMatchingService' | 'PortNotFound' | 'NoNamedPort';
  message: string;
}

/** Services that select the same pods: `keep` is scraped, `skip` are dropped for this port. */
export interface DuplicateServices {
  port: string;
  keep: string;
  skip: string[];
}

export interface SelectionReport {
  /** Names of the Services the selector matches, sorted. */
  services: string[];
  /**
   * Set when relabelling cannot apply the selector exactly in this namespace (collidingLabelKeys):
   * the same names as `services`, for the scrape jobs to keep by name (ScrapeHints.onlyServices).
   */
  exactServices?: string[];
  problems: SelectionProblem[];
  duplicates: DuplicateServices[];
}

/** Whether `labels` satisfy a Kubernetes label selector (matchLabels AND every matchExpression). */
export function matchesSelector(labels: Record<string, string>, selector: LabelSelector): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, key);
    switch (operator) {
      case 'In':
        if (!has || !values.includes(labels[key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/**
 * The selector's label keys that some Service of the namespace shares, after Prometheus's label-name
 * sanitising (sanitizedLabelName), with a different key: `a.b` in the selector and a Service labelled
 * `a_b` or `a-b`. Prometheus gives both one meta label, so relabel rules on it (selectorRelabelRules)
 * would take the other key's value for the selector's: a Service labelled only `a_b: x` would match
 * `a.b: x`, and one with both keys would match or not depending on Go's map order. Sorted, unique.
 */
export function collidingLabelKeys(selector: LabelSelector, servicesInNamespace: readonly ServiceInfo[]): string[] {
  const keys = new Set([...Object.keys(selector.matchLabels ?? {}), ...(selector.matchExpressions ?? []).map((e) => e.key)]);
  const bySanitized = new Map<string, string[]>();
  for (const key of keys) bySanitized.set(sanitizedLabelName(key), [...(bySanitized.get(sanitizedLabelName(key)) ?? []), key]);
  const colliding = new Set<string>();
  // Two selector keys with one meta label collide even on a Service that has only one of them.
  for (const group of bySanitized.values()) if (group.length > 1) for (const key of group) colliding.add(key);
  for (const s of servicesInNamespace) {
    for (const label of Object.keys(s.labels)) {
      for (const key of bySanitized.get(sanitizedLabelName(label)) ?? []) if (key !== label) colliding.add(key);
    }
  }
  return [...colliding].sort(compareStrings);
}

/** At most `n` items joined, with "and N more". */
function listSome(items: string[], n = 8): string {
  if (items.length <= n) return items.join(', ');
  return `${items.slice(0, n).join(', ')} and ${items.length - n} more`;
}

function portLabel(p: ServiceInfo['ports'][number]): string {
  return p.name ? p.name : `unnamed ${p.port}/${p.protocol ?? 'TCP'}`;
}

/**
 * A digits-only name is a valid Service port name (a DNS-1123 label, as the API server checks
 * Service, Endpoints and EndpointSlice port names), so it is not refused; when it is the *number*
 * of a selected Service's named port, say which name to write.
 */
function numberHint(port: string, i: number, matched: readonly ServiceInfo[]): string {
  if (!/^[0-9]+$/.test(port)) return '';
  const names = [...new Set(matched.flatMap((s) => s.ports.filter((p) => p.name && String(p.port) === port).map((p) => p.name as string)))].sort(compareStrings);
  if (names.length === 0) return '';
  return `; ${port} is the number of port ${names.join(', ')}: spec.endpoints[${i}].port takes the port's name, e.g. ${names[0]}`;
}

/**
 * The report for one MonitoredService given every Service of its namespace.
 * Problems name the selector, the port and what exists instead; `endpointIndex` in the message
 * points at the spec field to change.
 */
export function diagnoseSelection(service: Pick<MonitoredService, 'metadata' | 'spec'>, servicesInNamespace: readonly ServiceInfo[]): SelectionReport {
  const ns = service.metadata.namespace;
  const selector = labelSelectorString(service.spec.selector);
  const matched = servicesInNamespace.filter((s) => matchesSelector(s.labels, service.spec.selector)).sort((a, b) => compareStrings(a.name, b.name));
  const names = matched.map((s) => s.name);
  const exact = collidingLabelKeys(service.spec.selector, servicesInNamespace).length > 0 ? { exactServices: names } : {};
  if (matched.length === 0) {
    const others = servicesInNamespace.map((s) => s.name).sort(compareStrings);
    return {
      ...exact,
      services: [],
      problems: [
        {
          reason: 'NoMatchingService',
          message:
            `spec.selector: no Service in namespace ${ns} has labels matching "${selector}", so Prometheus discovers no target` +
            (others.length > 0 ? ` (Services in ${ns}: ${listSome(others)})` : ` (namespace ${ns} has no Service)`),
        },
      ],
      duplicates: [],
    };
  }
  const problems: SelectionProblem[] = [];
  const duplicates: DuplicateServices[] = [];
  service.spec.endpoints.forEach((endpoint, i) => {
    const withPort = matched.filter((s) => s.ports.some((p) => p.name === endpoint.port));
    if (withPort.length === 0) {
      const allUnnamed = matched.every((s) => s.ports.every((p) => !p.name));
      const existing = matched.map((s) => `${s.name} (${s.ports.length > 0 ? s.ports.map(portLabel).join(', ') : 'no ports'})`);
      problems.push(
        allUnnamed
          ? {
              reason: 'NoNamedPort',
              message: `spec.endpoints[${i}].port: the selected Services have only unnamed ports: ${listSome(existing)}; Prometheus finds a port by its name, so name the Service port (spec.ports[].name) and set spec.endpoints[${i}].port to that name`,
            }
          : {
              reason: 'PortNotFound',
              message: `spec.endpoints[${i}].port: no selected Service has a port named "${endpoint.port}"; the ports that exist are: ${listSome(existing)}${numberHint(endpoint.port, i, matched)}`,
            },
      );
      return;
    }
    duplicates.push(...duplicateGroups(endpoint.port, withPort));
  });
  return { ...exact, services: names, problems, duplicates };
}

/** Groups of Services with the same non-empty pod selector: one kept, the rest skipped. */
function duplicateGroups(port: string, services: ServiceInfo[]): DuplicateServices[] {
  const groups = new Map<string, ServiceInfo[]>();
  for (const s of services) {
    if (!s.podSelector || Object.keys(s.podSelector).length === 0) continue;
    const key = JSON.stringify(Object.entries(s.podSelector).sort(([a], [b]) => compareStrings(a, b)));
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const out: DuplicateServices[] = [];
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    // A ClusterIP Service is the one users name in queries; a headless twin exists for DNS.
    const ordered = [...group].sort((a, b) => Number(a.headless) - Number(b.headless) || compareStrings(a.name, b.name));
    out.push({
      port,
      keep: ordered[0]!.name,
      skip: ordered
        .slice(1)
        .map((s) => s.name)
        .sort(compareStrings),
    });
  }
  return out.sort((a, b) => compareStrings(a.keep, b.keep));
}

/** One sentence about the duplicates, for the TargetsHealthy condition and the Warning Event. */
export function describeDuplicates(duplicates: readonly DuplicateServices[]): string | undefined {
  if (duplicates.length === 0) return undefined;
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const d of duplicates) {
    const text = `${[d.keep, ...d.skip].join(', ')} select the same pods (identical spec.selector): each pod is scraped once, through ${d.keep}`;
    if (seen.has(text)) continue;
    seen.add(text);
    parts.push(text);
  }
  return `${OVERLAP_PREFIX}${parts.join('; ')}`;
}

/** The core/v1 Service fields the operator reads; everything else is dropped from the cache. */
export function serviceInfo(obj: {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { selector?: Record<string, string>; clusterIP?: string; ports?: { name?: string; port: number; protocol?: string }[] };
}): ServiceInfo {
  return {
    name: obj.metadata?.name ?? '',
    labels: obj.metadata?.labels ?? {},
    podSelector: obj.spec?.selector,
    headless: obj.spec?.clusterIP === 'None',
    ports: (obj.spec?.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
  };
}
