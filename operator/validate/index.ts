// Validation of one MonitoredService: the zod schema, then the checks zod cannot express.
// Never throws: whatever comes in (null, lists, huge strings, cycles) comes out as a ValidationResult.
import { MonitoredServiceSchema, type MonitoredService } from '../api/schema.js';
import { defaultSettings } from '../render/index.js';
import { renderConfig } from '../assemble/config.js';
import { ScrapeLimitRefusal } from '../render/scrape-limits.js';
import { RestartRefusal } from '../render/restart-gap.js';
import type { ObjectRef, ValidationIssue, ValidationResult } from '../render/types.js';
import { deepChecks } from './deep-checks.js';
import { formatPath } from './paths.js';
import { unknownFieldIssues } from './unknown-fields.js';
import { zodIssuesToValidationIssues } from './zod-issues.js';

export { emailAddressProblem } from './email.js';
export { parseDurationMs } from './duration.js';

/** Far above anything a MonitoredService needs; keeps regexes and parsers away from hostile input. */
const LIMITS = { stringLength: 65536, depth: 32, nodes: 20000 };

/**
 * `render` is the last check (see renderabilityProblem): by default the service rendered alone with
 * default settings; the operator passes its own, which renders the service's pieces with the real
 * settings and keeps them (assemble/service-cache.ts), so a valid service is rendered once.
 */
export function validateMonitoredService(raw: unknown, render: (service: MonitoredService) => void = renderAlone): ValidationResult {
  const ref = refOf(raw);
  try {
    const tooBig = sizeProblem(raw);
    if (tooBig) return { ok: false, ref, issues: [tooBig] };
    const parsed = MonitoredServiceSchema.safeParse(raw);
    const issues: ValidationIssue[] = parsed.success ? [] : zodIssuesToValidationIssues(parsed.error, raw);
    for (const issue of [...unknownFieldIssues(raw), ...deepChecks(raw)]) {
      // A field zod already rejected gets one message, not two.
      if (!issues.some((i) => i.field === issue.field)) issues.push(issue);
    }
    if (parsed.success && issues.length === 0) {
      const renderProblems = renderabilityProblems(parsed.data, render);
      return renderProblems.length > 0 ? { ok: false, ref, issues: renderProblems } : { ok: true, service: parsed.data };
    }
    return { ok: false, ref, issues };
  } catch (err) {
    return { ok: false, ref, issues: [{ field: 'object', message: `could not be validated: ${String(err)}` }] };
  }
}

/**
 * Last line of defence: the operator renders all valid services in one call, so one service the
 * renderer cannot handle would stop everybody's config. Rendering it alone here turns any such gap
 * between the checks above and the renderer into an ordinary Valid=False for that object only.
 */
export function renderabilityProblem(service: MonitoredService, render: (service: MonitoredService) => void = renderAlone): ValidationIssue | undefined {
  return renderabilityProblems(service, render)[0];
}

/**
 * renderabilityProblem, except that a service the cluster's settings refuse (a scrape limit above its
 * ceiling: render/scrape-limits.ts; a down alert `for` that a Prometheus restart outlasts with the
 * install's evaluationInterval: render/restart-gap.ts) gets one issue per field, each naming it.
 */
export function renderabilityProblems(service: MonitoredService, render: (service: MonitoredService) => void = renderAlone): ValidationIssue[] {
  try {
    render(service);
    return [];
  } catch (err) {
    if (err instanceof ScrapeLimitRefusal || err instanceof RestartRefusal) return err.issues;
    return [{ field: 'spec', message: `cannot be turned into Prometheus/Alertmanager configuration: ${err instanceof Error ? err.message : String(err)}` }];
  }
}

function renderAlone(service: MonitoredService): void {
  renderConfig([service], defaultSettings());
}

/** `<namespace>/<name>: <field>: <message>` */
export function formatIssue(ref: ObjectRef, issue: ValidationIssue): string {
  return `${ref.namespace}/${ref.name}: ${issue.field}: ${issue.message}`;
}

function refOf(raw: unknown): ObjectRef {
  const metadata = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>).metadata : undefined;
  const field = (key: string, fallback: string): string => {
    const value = metadata !== null && typeof metadata === 'object' ? (metadata as Record<string, unknown>)[key] : undefined;
    if (typeof value !== 'string' || value === '') return fallback;
    // Keep printed names to one readable line.
    const clean = value.replace(/[\x00-\x1f\x7f]/g, '?');
    return clean.length > 80 ? `${clean.slice(0, 77)}...` : clean;
  };
  return { namespace: field('namespace', '<no namespace>'), name: field('name', '<no name>') };
}

function sizeProblem(raw: unknown): ValidationIssue | undefined {
  let nodes = 0;
  const onPath = new Set<unknown>();
  const visit = (value: unknown, path: PropertyKey[]): ValidationIssue | undefined => {
    nodes++;
    if (nodes > LIMITS.nodes) return { field: 'object', message: `is too large (more than ${LIMITS.nodes} values)` };
    if (typeof value === 'string' && value.length > LIMITS.stringLength) {
      return { field: formatPath(path), message: `is ${value.length} characters long; far above any accepted length` };
    }
    if (value === null || typeof value !== 'object') return undefined;
    if (path.length > LIMITS.depth) return { field: formatPath(path), message: `is nested too deeply (more than ${LIMITS.depth} levels)` };
    if (onPath.has(value)) return { field: formatPath(path), message: 'refers to itself (YAML alias cycle)' };
    onPath.add(value);
    try {
      for (const [key, child] of Object.entries(value)) {
        const problem = visit(child, [...path, Array.isArray(value) ? Number(key) : key]);
        if (problem) return problem;
      }
    } finally {
      onPath.delete(value);
    }
    return undefined;
  };
  return visit(raw, []);
}
