// One reconcile as a pure function: from every MonitoredService in the caches and what the
// sidecars report, compute the desired config, whether each generated object needs a write,
// and which statuses/events change. The controller only executes this plan.
import type { MonitoredService, MonitoredServiceStatus } from '../api/schema.js';
import type { GlobalSettings, ObjectRef, RenderedConfig, ValidationIssue, ValidationResult } from '../render/types.js';
import type { SyncReport } from './annotations.js';
import { computeStatus, eventsForTransition, statusChanged, statusMergePatch, type PlannedEvent, type TargetCounts } from './conditions.js';

/** A MonitoredService as it comes from the API (not yet validated). */
export interface RawMonitoredService {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; generation?: number; uid?: string; resourceVersion?: string; deletionTimestamp?: unknown };
  spec?: unknown;
  status?: MonitoredServiceStatus;
}

export interface ReconcileInput {
  objects: readonly RawMonitoredService[];
  settings: GlobalSettings;
  validate: (raw: RawMonitoredService) => ValidationResult;
  formatIssue: (ref: ObjectRef, issue: ValidationIssue) => string;
  render: (services: MonitoredService[], settings: GlobalSettings) => RenderedConfig;
  prometheus: SyncReport;
  alertmanager: SyncReport;
  targetsFor: (namespace: string, name: string) => TargetCounts | undefined;
  now: string;
}

export interface StatusUpdate {
  namespace: string;
  name: string;
  uid: string | undefined;
  generation: number;
  patch: { status: Record<string, unknown> };
  events: PlannedEvent[];
}

export interface ReconcilePlan {
  rendered: RenderedConfig;
  writeConfigMap: boolean;
  writeSecret: boolean;
  statusUpdates: StatusUpdate[];
  valid: number;
  invalid: ObjectRef[];
}

function refOf(raw: RawMonitoredService): ObjectRef {
  return { namespace: raw.metadata?.namespace ?? '', name: raw.metadata?.name ?? '' };
}

function byRef(a: ObjectRef, b: ObjectRef): number {
  return a.namespace === b.namespace ? a.name.localeCompare(b.name) : a.namespace.localeCompare(b.namespace);
}

export function planReconcile(input: ReconcileInput): ReconcilePlan {
  const objects = input.objects.filter((o) => o.metadata?.name && o.metadata.namespace && !o.metadata.deletionTimestamp);
  const results = objects.map((raw) => ({ raw, result: input.validate(raw) }));
  const validServices: MonitoredService[] = [];
  const invalid: ObjectRef[] = [];
  for (const { raw, result } of results) {
    if (result.ok) validServices.push(result.service);
    else invalid.push(refOf(raw));
  }
  // The informer cache has no stable order; the renderer output must not depend on it.
  validServices.sort((a, b) => byRef(a.metadata, b.metadata));
  const rendered = input.render(validServices, input.settings);
  const included = new Set(rendered.included.map((r) => `${r.namespace}/${r.name}`));

  const statusUpdates: StatusUpdate[] = [];
  for (const { raw, result } of results) {
    const ref = refOf(raw);
    const generation = raw.metadata?.generation ?? 0;
    const invalidMessage = result.ok ? undefined : result.issues.map((i) => input.formatIssue(result.ref, i)).join('; ');
    const next = computeStatus({
      generation,
      previous: raw.status,
      ...(invalidMessage !== undefined ? { invalidMessage } : {}),
      included: included.has(`${ref.namespace}/${ref.name}`),
      desired: { prometheusHash: rendered.prometheusHash, alertmanagerHash: rendered.alertmanagerHash },
      prometheus: input.prometheus,
      alertmanager: input.alertmanager,
      ...(result.ok ? { targets: input.targetsFor(ref.namespace, ref.name) } : {}),
      now: input.now,
    });
    if (!statusChanged(raw.status, next)) continue;
    statusUpdates.push({
      namespace: ref.namespace,
      name: ref.name,
      uid: raw.metadata?.uid,
      generation,
      patch: statusMergePatch(raw.status, next),
      events: eventsForTransition(raw.status, next),
    });
  }
  statusUpdates.sort(byRef);

  return {
    rendered,
    writeConfigMap: input.prometheus.configHash !== rendered.prometheusHash,
    writeSecret: input.alertmanager.configHash !== rendered.alertmanagerHash,
    statusUpdates,
    valid: validServices.length,
    invalid: invalid.sort(byRef),
  };
}
