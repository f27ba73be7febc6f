// Which MonitoredServices belong to this install (issue #14, "two installs page twice"). An install
// is one operator with its Prometheus and Alertmanager, in its own namespace. Its scope is a label
// selector on MonitoredServices (--selector, chart value operator.selector), passed to the API
// server's list and watch, plus the namespaces it watches (--watch-namespaces). The operator records
// the scope that reconciles an object in status.install; another install whose scope also selects
// the object (overlapping scopes, a misconfiguration) leaves an object claimed that way alone:
// it neither renders it (no scrape job, no rules, no route) nor writes its status. A claim whose
// recorded scope no longer selects the object (relabelled into another install) is stale and is
// taken over, and so is a claim of an install that is gone (uninstalled, its namespace deleted, its
// operator stopped for longer than --orphan-after: install-liveness.ts).
import type { InstallStatus } from '../api/schema.js';

/** One requirement of a label selector, as Kubernetes evaluates it (k8s.io/apimachinery labels). */
export interface LabelRequirement {
  key: string;
  operator: 'in' | 'notin' | 'exists' | 'doesnotexist';
  values: string[];
}

const NAME = '[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const KEY = new RegExp(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?${NAME}$`);
const VALUE = new RegExp(`^(${NAME})?$`);
const ACCEPTED = 'accepted: comma-separated requirements "key=value", "key==value", "key!=value", "key in (a,b)", "key notin (a,b)", "key", "!key"';

/** Splits at commas outside parentheses. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(selector.slice(start));
  return parts.map((p) => p.trim());
}

function checkKey(key: string, part: string): string {
  if (!KEY.test(key) || key.split('/').pop()!.length > 63)
    throw new Error(`"${part}": "${key}" is not a valid label key (an optional DNS prefix and /, then at most 63 of A-Z a-z 0-9 - _ .); ${ACCEPTED}`);
  return key;
}

function checkValue(value: string, part: string): string {
  if (!VALUE.test(value)) throw new Error(`"${part}": "${value}" is not a valid label value (at most 63 of A-Z a-z 0-9 - _ ., starting and ending alphanumeric)`);
  return value;
}

/**
 * Parses a label selector in the string form of `kubectl get -l` and the API's labelSelector
 * parameter. Empty string: no requirement (everything matches). Throws an Error saying which part
 * is wrong and what is accepted (the numeric operators gt/lt are not: labels here are names).
 */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  if (selector.trim() === '') return [];
  return splitTopLevel(selector).map((part): LabelRequirement => {
    if (part === '') throw new Error(`empty requirement in "${selector}"; ${ACCEPTED}`);
    let m = /^(\S+?)\s+(in|notin)\s*\((.*)\)$/.exec(part);
    if (m) {
      const values = m[3]!.split(',').map((v) => checkValue(v.trim(), part));
      return { key: checkKey(m[1]!, part), operator: m[2] as 'in' | 'notin', values };
    }
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
    if (m) {
      return { key: checkKey(m[1]!, part), operator: m[2] === '!=' ? 'notin' : 'in', values: [checkValue(m[3]!, part)] };
    }
    m = /^(!?)\s*([^\s=!()]+)$/.exec(part);
    if (m) return { key: checkKey(m[2]!, part), operator: m[1] ? 'doesnotexist' : 'exists', values: [] };
    throw new Error(`"${part}" is not a label selector requirement; ${ACCEPTED}`);
  });
}

/** Whether labels satisfy every requirement ("!=" and "notin" also match labels without the key, like Kubernetes). */
export function matchesLabelSelector(requirements: readonly LabelRequirement[], labels: Readonly<Record<string, string>> | undefined): boolean {
  return requirements.every((r) => {
    const value = labels?.[r.key];
    switch (r.operator) {
      case 'in':
        return value !== undefined && r.values.includes(value);
      case 'notin':
        return value === undefined || !r.values.includes(value);
      case 'exists':
        return value !== undefined;
      case 'doesnotexist':
        return value === undefined;
    }
    return false;
  });
}

/** This install's scope as status.install records it (empty selector and namespaces left out). */
export function installRecord(installNamespace: string, selector: string, watchNamespaces: readonly string[]): InstallStatus {
  return {
    namespace: installNamespace,
    ...(selector.trim() !== '' ? { selector: selector.trim() } : {}),
    ...(watchNamespaces.length > 0 ? { watchNamespaces: [...watchNamespaces] } : {}),
  };
}

/** Whether the scope `install` records selects an object in `namespace` with `labels`. A record whose selector no longer parses selects nothing. */
export function scopeSelects(install: InstallStatus, namespace: string, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (install.watchNamespaces && install.watchNamespaces.length > 0 && !install.watchNamespaces.includes(namespace)) return false;
  let requirements: LabelRequirement[];
  try {
    requirements = parseLabelSelector(install.selector ?? '');
  } catch {
    return false;
  }
  return matchesLabelSelector(requirements, labels);
}

/**
 * The other install that holds the object, or undefined when it is this install's to reconcile:
 * unclaimed, claimed by this install (same namespace, whatever scope it recorded then), claimed
 * by an install whose recorded scope no longer selects the object (a stale claim), or claimed by an
 * install that is gone (`installGone` of its namespace, install-liveness.ts; absent: none is).
 */
export function claimedByOtherInstall(
  claim: InstallStatus | undefined,
  me: InstallStatus,
  namespace: string,
  labels: Readonly<Record<string, string>> | undefined,
  installGone?: (installNamespace: string) => boolean,
): InstallStatus | undefined {
  if (!claim || claim.namespace === me.namespace) return undefined;
  if (installGone?.(claim.namespace)) return undefined;
  return scopeSelects(claim, namespace, labels) ? claim : undefined;
}

/** One line for logs and docs: `vigil-system (selector "a=b", namespaces x,y)`. */
export function describeInstall(install: InstallStatus): string {
  const scope = [
    install.selector ? `selector "${install.selector}"` : 'every MonitoredService',
    install.watchNamespaces?.length ? `namespaces ${install.watchNamespaces.join(',')}` : 'all namespaces',
  ];
  return `${install.namespace} (${scope.join(', ')})`;
}
