// What Alertmanager runs, as it reports it (issue #15): the sidecar confirms a config once, when
// it reloads it; afterwards only a poll sees that Alertmanager died, or restarted with (or was
// reloaded into) a config Vigil did not write. Alertmanager exports the hash of the config file
// it loaded as alertmanager_config_hash (operator/sync/confirm.ts).
import type { Logger } from '../observability/logger.js';
import { parseUnlabelledSamples } from '../sync/confirm.js';
import { mergeDeliveries, nextDeliveries, parseEmailCounters, peerOf, sameDeliveries, type EmailCounterSample, type ReceiverDelivery } from './email-delivery.js';
import { ServerPoller, serverUrl } from './server-poller.js';

export interface AlertmanagerRunning {
  /** alertmanager_config_hash: the first 48 bits of the MD5 of the loaded file (alertmanagerConfigHashValue). */
  configHash: number;
  /** alertmanager_config_last_reload_successful === 1. */
  lastReloadSuccessful: boolean;
  /**
   * When the last successful poll was sent (ms since the epoch): an answer older than the sidecar's
   * apply says nothing about it (plan.ts alertmanagerProblem, issue #22).
   */
  polledAt: number;
  /**
   * Whether each receiver's last email attempts succeeded (email-delivery.ts), by receiver name; a
   * receiver with no attempt yet is absent. Undefined when Alertmanager exports no receiver names
   * (run without --enable-feature=receiver-name-in-metrics).
   */
  delivery?: ReadonlyMap<string, ReceiverDelivery>;
}

/** A replica not reached for this long (restarted under a new peer name, or scaled down) no longer counts. */
const REPLICA_FORGET_MS = 10 * 60_000;

export class AlertmanagerPoller extends ServerPoller<AlertmanagerRunning> {
  constructor(alertmanagerUrl: string, intervalMs: number, onChange: () => void, log: Logger) {
    super({ server: 'Alertmanager', url: alertmanagerUrl, intervalMs, onChange, log, consequence: 'services report ConfigApplied=Unknown (AlertmanagerUnreachable)' });
  }

  /** Sent time of the last successful poll; `latest` keeps the time of the last change (ServerPoller stores only changes). */
  private lastPolledAt = 0;
  /**
   * Per replica (peer name, '' unclustered): its previous counters and states, to tell what happened
   * between two polls of it, and when it last answered (a replica gone for REPLICA_FORGET_MS is forgotten).
   */
  private readonly replicas = new Map<string, { sample: EmailCounterSample; states: ReadonlyMap<string, ReceiverDelivery>; seenAt: number }>();

  /** The latest report, undefined until a poll succeeded or while Alertmanager does not answer. */
  get running(): AlertmanagerRunning | undefined {
    return this.failure || !this.latest ? undefined : { ...this.latest, polledAt: this.lastPolledAt };
  }

  protected async fetchState(): Promise<AlertmanagerRunning> {
    const polledAt = Date.now();
    const url = serverUrl(this.url, '/metrics');
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    const text = await res.text();
    const samples = parseUnlabelledSamples(text);
    const configHash = samples.get('alertmanager_config_hash');
    if (configHash === undefined) throw new Error(`GET ${url}: no alertmanager_config_hash (is it Alertmanager?)`);
    this.lastPolledAt = polledAt;
    const sample = parseEmailCounters(text);
    const peer = peerOf(text);
    const states = nextDeliveries(this.replicas.get(peer), sample, new Date(polledAt).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    this.replicas.set(peer, { sample, states, seenAt: polledAt });
    for (const [name, r] of this.replicas) if (polledAt - r.seenAt > REPLICA_FORGET_MS) this.replicas.delete(name);
    return {
      configHash,
      lastReloadSuccessful: samples.get('alertmanager_config_last_reload_successful') === 1,
      polledAt,
      ...(sample.receiverNames ? { delivery: mergeDeliveries([...this.replicas.values()].map((r) => r.states)) } : {}),
    };
  }

  protected same(a: AlertmanagerRunning | undefined, b: AlertmanagerRunning): boolean {
    const sameDelivery = a?.delivery === undefined || b.delivery === undefined ? a?.delivery === b.delivery : sameDeliveries(a.delivery, b.delivery);
    return a?.configHash === b.configHash && a.lastReloadSuccessful === b.lastReloadSuccessful && sameDelivery;
  }
}
