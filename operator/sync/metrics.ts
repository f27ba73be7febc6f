// The sidecar's own metrics, on its own Registry (several sidecars can live in one test process).
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export interface SyncMetrics {
  registry: Registry;
  reloads: Counter<'result'>;
  lastSuccess: Gauge;
}

export function createSyncMetrics(options: { defaultMetrics?: boolean } = {}): SyncMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'vigil_sync_' });
  const reloads = new Counter({
    name: 'vigil_sync_reloads_total',
    help: 'Reloads of the served config triggered by the sync sidecar, by result (success|failure).',
    labelNames: ['result'],
    registers: [registry],
  });
  // Both series exist from the start so that rate() and alerts work before the first failure.
  reloads.inc({ result: 'success' }, 0);
  reloads.inc({ result: 'failure' }, 0);
  const lastSuccess = new Gauge({
    name: 'vigil_sync_last_success_timestamp_seconds',
    help: 'Unix time of the last reload the server confirmed (0 until the first).',
    registers: [registry],
  });
  return { registry, reloads, lastSuccess };
}
