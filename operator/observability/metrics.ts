// The operator's Prometheus metrics, on their own Registry so tests can create several operators
// in one process and so nothing leaks in from prom-client's global default registry.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LABEL_MONITORED_SERVICE, LABEL_NAMESPACE, SCRAPE_ERROR_INFO_METRIC } from '../render/names.js';

export interface OperatorMetrics {
  registry: Registry;
  reconcileDuration: Histogram<'result'>;
  workqueueDepth: Gauge;
  configWrites: Counter<'object'>;
  reloads: Counter<'target' | 'result'>;
  monitoredServices: Gauge<'state'>;
  leader: Gauge;
  scrapeErrors: Gauge<'vigil_namespace' | 'vigil_monitoredservice' | 'reason' | 'error'>;
}

export function createOperatorMetrics(options: { defaultMetrics?: boolean } = {}): OperatorMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'vigil_operator_' });
  return {
    registry,
    reconcileDuration: new Histogram({
      name: 'vigil_reconcile_duration_seconds',
      help: 'Time to reconcile all MonitoredServices into the generated config (validate, render, write, status).',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    workqueueDepth: new Gauge({
      name: 'vigil_workqueue_depth',
      help: 'Changes seen since the last reconcile started (a burst coalesces into one reconcile).',
      registers: [registry],
    }),
    configWrites: new Counter({
      name: 'vigil_config_writes_total',
      help: 'Writes of the generated ConfigMap/Secret (object configmap, secret) and of the scrape-credentials Secret (scrape-credentials), only when the content changed.',
      labelNames: ['object'],
      registers: [registry],
    }),
    reloads: new Counter({
      name: 'vigil_reloads_total',
      help: 'Config reloads reported by the sync sidecars through annotations, by target (prometheus|alertmanager) and result (success|failure).',
      labelNames: ['target', 'result'],
      registers: [registry],
    }),
    monitoredServices: new Gauge({
      name: 'vigil_monitoredservices',
      help: 'MonitoredServices seen by the operator, by state: valid, invalid, or other-install (held by another install whose scope also selects them; left alone).',
      labelNames: ['state'],
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'vigil_leader',
      help: '1 while this replica holds the leader Lease and may write, else 0.',
      registers: [registry],
    }),
    scrapeErrors: new Gauge({
      name: SCRAPE_ERROR_INFO_METRIC,
      help:
        "1 per MonitoredService with a failing scrape target, on the leader: reason (TargetsHealthy's class of the error) and error (Prometheus's lastError, " +
        'the most common first, truncated); gone when no target fails. The down alerts quote it in their email.',
      labelNames: [LABEL_NAMESPACE, LABEL_MONITORED_SERVICE, 'reason', 'error'],
      registers: [registry],
    }),
  };
}
