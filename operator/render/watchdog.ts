// The dead man's switch (issue #15): an alert that always fires, as kube-prometheus-stack ships
// it (`Watchdog`, `vector(1)`). While Prometheus evaluates rules and reaches Alertmanager, and
// Alertmanager runs, the alert is active and Alertmanager notifies its receiver every
// `watchdog.interval`; an outside system (a heartbeat monitor) pages when those notifications
// stop. Without `watchdog.webhookUrl` the receiver has no integration: the alert is still visible
// in Alertmanager (`vigil_watchdog="true"`), and nothing is sent.
//
// How fast it stops: Prometheus sends a firing alert with endsAt = 4 x max(--rules.alert.resend-delay
// (1m), evaluation interval) ahead, so after Prometheus dies Alertmanager keeps the alert, and
// the heartbeats, for up to that long (4 minutes with the defaults); a dead Alertmanager stops
// them at once.
import { stringify } from 'yaml';
import { LABEL_SHARD, LABEL_WATCHDOG, WATCHDOG_ALERT } from './names.js';
import { YAML_OPTIONS } from './prometheus.js';
import type { GlobalSettings } from './types.js';

export { WATCHDOG_ALERT };
export const WATCHDOG_RECEIVER = 'vigil-watchdog';
/**
 * Only Vigil sets it: custom rules cannot set vigil_* labels (validation refuses them), and every
 * other rule removes it from its result series (rules.ts reservedLabels).
 */
export { LABEL_WATCHDOG } from './names.js';
/** Matches the `*.rules.yaml` glob; has no `__`, so it never collides with `<ns>__<name>.rules.yaml`. */
export const WATCHDOG_RULE_FILE = 'vigil-watchdog.rules.yaml';
export const DEFAULT_WATCHDOG_INTERVAL = '1m';

/**
 * The Watchdog's rule file. `shard`: the Prometheus shard whose config it goes into, only when
 * there are several (LABEL_SHARD); one Prometheus (or its replicas) gets none.
 */
export function renderWatchdogRuleFile(settings: GlobalSettings, shard?: number): string {
  return stringify(
    {
      groups: [
        {
          name: 'vigil/watchdog',
          interval: settings.evaluationInterval,
          rules: [
            {
              alert: WATCHDOG_ALERT,
              expr: 'vector(1)',
              labels: { severity: 'none', [LABEL_WATCHDOG]: 'true', ...(shard !== undefined ? { [LABEL_SHARD]: String(shard) } : {}) },
              annotations: {
                summary: 'The alerting pipeline works (always firing)',
                description: 'This alert always fires while Prometheus evaluates rules and delivers alerts to Alertmanager. Its notifications are a heartbeat: when they stop, the pipeline is broken.',
              },
            },
          ],
        },
      ],
    },
    YAML_OPTIONS,
  );
}

/** The first route of alertmanager.yml: the Watchdog goes to its own receiver, and nowhere else. */
export function watchdogRoute(settings: GlobalSettings): Record<string, unknown> {
  const interval = settings.watchdog?.interval ?? DEFAULT_WATCHDOG_INTERVAL;
  return {
    receiver: WATCHDOG_RECEIVER,
    matchers: [`${LABEL_WATCHDOG}="true"`],
    // A group per shard (a label absent from every alert adds nothing: one group as before).
    group_by: ['alertname', LABEL_SHARD],
    group_wait: '0s',
    // A heartbeat every `interval`: Alertmanager re-notifies a still-firing group after
    // repeat_interval, checked every group_interval.
    group_interval: interval,
    repeat_interval: interval,
    continue: false,
  };
}

export function watchdogReceiver(settings: GlobalSettings): Record<string, unknown> {
  const url = settings.watchdog?.webhookUrl;
  return { name: WATCHDOG_RECEIVER, ...(url ? { webhook_configs: [{ url, send_resolved: false }] } : {}) };
}
