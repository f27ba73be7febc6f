// Rule health per MonitoredService, from Prometheus's /api/v1/rules: a rule that errors at every
// evaluation (many-to-many matching once the service has two pods, say) never fires, and only
// Prometheus knows. Rule groups are named vigil/<namespace>/<name> (render/names.ts ruleGroupName).
import type { RuleHealth } from './conditions.js';

export type RulesByService = Map<string, RuleHealth>;

/** Failing rules kept per service; the message shows fewer (conditions.ts). */
export const MAX_RULE_FAILURES = 5;

/** Parses vigil/<ns>/<name>; undefined for other groups. */
export function parseRuleGroupName(group: string): { namespace: string; name: string } | undefined {
  const parts = group.split('/');
  if (parts.length !== 3 || parts[0] !== 'vigil' || !parts[1] || !parts[2]) return undefined;
  return { namespace: parts[1], name: parts[2] };
}

interface ApiRule {
  name?: string;
  health?: string;
  lastError?: string;
}

/**
 * Health per service (key `<namespace>/<name>`) from a /api/v1/rules response body (JSON-parsed):
 * how many rules its group has, how many were evaluated (health ok or err; "unknown" means not
 * evaluated yet) and the failing ones (health "err") with Prometheus's lastError, in group order.
 * Throws on a body without data.groups.
 */
export function ruleHealthByService(body: unknown): RulesByService {
  const groups = (body as { data?: { groups?: { name?: string; rules?: ApiRule[] }[] } })?.data?.groups;
  if (!Array.isArray(groups)) throw new Error('unexpected /api/v1/rules response: no data.groups');
  const result: RulesByService = new Map();
  for (const g of groups) {
    const parsed = parseRuleGroupName(g.name ?? '');
    if (!parsed) continue;
    const health: RuleHealth = { rules: 0, evaluated: 0 };
    for (const r of g.rules ?? []) {
      health.rules += 1;
      if (r.health === 'ok' || r.health === 'err') health.evaluated += 1;
      if (r.health === 'err') {
        const failures = (health.failures ??= []);
        if (failures.length < MAX_RULE_FAILURES) failures.push({ rule: r.name ?? '', error: r.lastError?.trim() || 'evaluation failed (Prometheus reports no error)' });
        else health.moreFailures = (health.moreFailures ?? 0) + 1;
      }
    }
    result.set(`${parsed.namespace}/${parsed.name}`, health);
  }
  return result;
}
