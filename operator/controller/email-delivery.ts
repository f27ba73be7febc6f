// Whether each receiver's email gets out, from Alertmanager's own /metrics (issue #22). Alertmanager
// counts every SMTP attempt per receiver (alertmanager_notification_requests_total and
// _failed_total, label receiver_name only with --enable-feature=receiver-name-in-metrics); it
// exposes no error text anywhere but its log (0.35.0: neither /metrics nor /api/v2/receivers).
// Pure: the poller keeps the previous counters and states and calls nextDeliveries.

/** Attempt counters of one receiver's email integrations, summed over its email_configs. */
export interface EmailCounters {
  /** alertmanager_notification_requests_total{integration="email"}: SMTP attempts, retries included. */
  requests: number;
  /** alertmanager_notification_requests_failed_total{integration="email"}. */
  failed: number;
  /** alertmanager_notifications_failed_total{integration="email"} by reason: notifications given up (retries exhausted). */
  gaveUp: Record<string, number>;
}

/** What the last attempts of one receiver say. */
export interface ReceiverDelivery {
  /** delivered: the last attempts include a success; failing: every attempt since `since` failed. */
  state: 'delivered' | 'failing';
  /** When the state began, as first seen by a poll (RFC 3339, seconds). */
  since: string;
  /** Failed attempts since `since` (failing only). */
  failedAttempts?: number;
  /** Alertmanager's reason label of the last notification it gave up on (failing only; e.g. "other", "authError"). */
  reason?: string;
}

/** One poll's counters of every receiver, and the reload time that resets them. */
export interface EmailCounterSample {
  byReceiver: Map<string, EmailCounters>;
  /** alertmanager_config_last_reload_success_timestamp_seconds: with receiver names in metrics, a reload resets every counter. */
  reloadedAt: number | undefined;
  /**
   * False when the counters lack receiver_name (the feature flag is off: Alertmanager then exports
   * one series per integration type). With the flag a config whose receivers have no integration
   * (a bootstrap config) exports no series at all: that is not "no names".
   */
  receiverNames: boolean;
}

const SAMPLE_LINE = /^(alertmanager_notification_requests_total|alertmanager_notification_requests_failed_total|alertmanager_notifications_failed_total)\{([^}]*)\}\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The email attempt counters per receiver_name of an Alertmanager /metrics text (Prometheus text format). */
export function parseEmailCounters(text: string): EmailCounterSample {
  const byReceiver = new Map<string, EmailCounters>();
  let reloadedAt: number | undefined;
  let named = false;
  let unnamed = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('alertmanager_config_last_reload_success_timestamp_seconds ')) {
      reloadedAt = Number(line.split(/\s+/)[1]);
      continue;
    }
    const m = SAMPLE_LINE.exec(line);
    if (!m) continue;
    const labels = new Map([...(m[2] ?? '').matchAll(LABEL)].map((l) => [l[1], JSON.parse(`"${l[2]}"`) as string]));
    const receiver = labels.get('receiver_name');
    if (receiver === undefined) {
      unnamed = true;
      continue;
    }
    named = true;
    if (labels.get('integration') !== 'email') continue;
    const value = Number(m[3]);
    if (Number.isNaN(value)) continue;
    const counters = byReceiver.get(receiver) ?? { requests: 0, failed: 0, gaveUp: {} };
    if (m[1] === 'alertmanager_notification_requests_total') counters.requests += value;
    else if (m[1] === 'alertmanager_notification_requests_failed_total') counters.failed += value;
    else {
      const reason = labels.get('reason') ?? 'other';
      counters.gaveUp[reason] = (counters.gaveUp[reason] ?? 0) + value;
    }
    byReceiver.set(receiver, counters);
  }
  return { byReceiver, reloadedAt, receiverNames: named || !unnamed };
}

/**
 * Each receiver's state after a poll, from the previous poll's sample and states. Between two polls:
 * new attempts that all failed make it failing (counting on from an earlier failing state); any
 * successful attempt makes it delivered (Alertmanager stops retrying a notification at its first
 * success, so the failures of a mixed interval came before it); no attempt keeps the state. Counters
 * reset on a reload (or a restart): then they count from zero, so the current values are the
 * interval's. Without a previous sample (the operator just started), only counters that are all
 * failures or all successes decide; a receiver with no state is left out (not known yet).
 */
export function nextDeliveries(
  previous: { sample: EmailCounterSample; states: ReadonlyMap<string, ReceiverDelivery> } | undefined,
  sample: EmailCounterSample,
  now: string,
): Map<string, ReceiverDelivery> {
  const states = new Map<string, ReceiverDelivery>();
  const reloaded = previous !== undefined && previous.sample.reloadedAt !== sample.reloadedAt;
  for (const [receiver, counters] of sample.byReceiver) {
    const before = previous?.sample.byReceiver.get(receiver);
    const prior = previous?.states.get(receiver);
    const reset = reloaded || (before !== undefined && (counters.requests < before.requests || counters.failed < before.failed));
    const base = !previous || reset || !before ? undefined : before;
    const requests = counters.requests - (base?.requests ?? 0);
    const failed = counters.failed - (base?.failed ?? 0);
    const reason = newestGiveUp(base?.gaveUp, counters.gaveUp) ?? prior?.reason;
    let next: ReceiverDelivery | undefined = prior;
    const decides = previous !== undefined || failed === 0 || failed === requests;
    if (!decides) next = prior;
    else if (requests > failed) next = prior?.state === 'delivered' ? prior : { state: 'delivered', since: now };
    else if (failed > 0) {
      next =
        prior?.state === 'failing'
          ? { ...prior, failedAttempts: (prior.failedAttempts ?? 0) + failed, ...(reason ? { reason } : {}) }
          : { state: 'failing', since: now, failedAttempts: failed, ...(reason ? { reason } : {}) };
    }
    if (next) states.set(receiver, next);
  }
  return states;
}

/** The reason whose give-up counter grew (the last notification Alertmanager abandoned), if any. */
function newestGiveUp(before: Record<string, number> | undefined, now: Record<string, number>): string | undefined {
  return Object.keys(now).find((reason) => (now[reason] ?? 0) > (before?.[reason] ?? 0));
}

/**
 * The peer name of the Alertmanager replica that answered (alertmanager_cluster_peer_info{peer=...}),
 * '' when clustering is off. Behind a Service each poll may reach another replica, each with its own
 * counters: the poller keeps one baseline per replica.
 */
export function peerOf(text: string): string {
  return /^alertmanager_cluster_peer_info\{[^}]*peer="([^"]*)"/m.exec(text)?.[1] ?? '';
}

/**
 * One state per receiver from the states of every replica: the one whose state began last (only
 * one replica sends each notification, the others stand by, so the newest change is the news).
 */
export function mergeDeliveries(perReplica: Iterable<ReadonlyMap<string, ReceiverDelivery>>): Map<string, ReceiverDelivery> {
  const merged = new Map<string, ReceiverDelivery>();
  for (const states of perReplica) {
    for (const [receiver, state] of states) {
      const current = merged.get(receiver);
      if (!current || state.since > current.since) merged.set(receiver, state);
    }
  }
  return merged;
}

/** Whether two state maps say the same (the poller reports a change only then). */
export function sameDeliveries(a: ReadonlyMap<string, ReceiverDelivery> | undefined, b: ReadonlyMap<string, ReceiverDelivery>): boolean {
  if (!a || a.size !== b.size) return false;
  for (const [receiver, state] of b) {
    const other = a.get(receiver);
    if (!other || other.state !== state.state || other.since !== state.since || other.reason !== state.reason) return false;
  }
  return true;
}
