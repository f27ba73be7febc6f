// Asks the server to reload the files just written, then checks that it really runs them.
// Prometheus (with --web.enable-lifecycle) and Alertmanager both answer POST /-/reload
// only after the reload finished: 200 when applied, 500 with the error text when not.
import type { Logger } from '../observability/index.js';
import { CONFIG_FILE, confirmAlertmanagerMetrics, confirmPrometheusJobs, confirmPrometheusMetrics, parseUnlabelledSamples, siblingUrl, type Confirmation, type ServerKind } from './confirm.js';
import type { FileSet } from './files.js';

/** answered: the server responded to the reload (it may now run part of the rejected config). */
export type ReloadOutcome = { ok: true } | { ok: false; message: string; answered: boolean };

export interface Reloader {
  reload(kind: ServerKind, files: FileSet): Promise<ReloadOutcome>;
}

export interface HttpReloaderOptions {
  reloadUrl: string;
  /** Polled until 200 before reloading (a server still starting would refuse the connection). */
  readyUrl?: string;
  readyTimeoutMs?: number;
  /** A big rule set can take a while to load. */
  requestTimeoutMs?: number;
  /**
   * When the reload request ends without an answer (timed out, connection reset), how long to keep
   * checking whether the server applies the config anyway (default 5 min). Prometheus and
   * Alertmanager hand the reload to their main loop and finish it after the client has gone.
   */
  unansweredSettleMs?: number;
  /** Pause between those checks (default 1 s). */
  settlePollMs?: number;
  log: Logger;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function httpText(url: string, init: RequestInit & { timeoutMs: number }): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs) });
  return { status: response.status, body: await response.text() };
}

function describeFetchError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message} (${cause})` : e.message;
}

/** The gauge each server sets to 1 or 0 after every reload it finishes. */
const LAST_RELOAD_SUCCESSFUL: Record<ServerKind, string> = {
  prometheus: 'prometheus_config_last_reload_successful',
  alertmanager: 'alertmanager_config_last_reload_successful',
};

export function createHttpReloader(options: HttpReloaderOptions): Reloader {
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const unansweredSettleMs = options.unansweredSettleMs ?? 5 * 60_000;
  const settlePollMs = options.settlePollMs ?? 1000;
  const metricsUrl = siblingUrl(options.reloadUrl, 'metrics');
  const statusConfigUrl = siblingUrl(options.reloadUrl, 'api/v1/status/config');

  async function waitReady(): Promise<string | undefined> {
    if (!options.readyUrl) return undefined;
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    let last = '';
    while (Date.now() < deadline) {
      try {
        const { status } = await httpText(options.readyUrl, { method: 'GET', timeoutMs: 5000 });
        if (status >= 200 && status < 300) return undefined;
        last = `HTTP ${status}`;
      } catch (err) {
        last = describeFetchError(err);
      }
      await sleep(250);
    }
    return `server not ready at ${options.readyUrl}: ${last}`;
  }

  async function confirmOnce(kind: ServerKind, files: FileSet, triggeredAtSeconds: number): Promise<Confirmation> {
    const metrics = await httpText(metricsUrl, { method: 'GET', timeoutMs: 10_000 });
    if (metrics.status !== 200) return { ok: false, reason: `GET ${metricsUrl}: HTTP ${metrics.status}` };
    const samples = parseUnlabelledSamples(metrics.body);
    const written = files[CONFIG_FILE[kind]] ?? '';
    if (kind === 'alertmanager') return confirmAlertmanagerMetrics(samples, written);
    const byMetrics = confirmPrometheusMetrics(samples, triggeredAtSeconds);
    if (!byMetrics.ok) return byMetrics;
    const status = await httpText(statusConfigUrl, { method: 'GET', timeoutMs: 10_000 });
    if (status.status !== 200) return { ok: false, reason: `GET ${statusConfigUrl}: HTTP ${status.status}` };
    const loaded = (JSON.parse(status.body) as { data?: { yaml?: string } }).data?.yaml ?? '';
    return confirmPrometheusJobs(written, loaded);
  }

  /** The server's last-reload-successful gauge, or undefined when it cannot be read. */
  async function lastReloadSuccessful(kind: ServerKind): Promise<number | undefined> {
    try {
      const metrics = await httpText(metricsUrl, { method: 'GET', timeoutMs: 10_000 });
      return metrics.status === 200 ? parseUnlabelledSamples(metrics.body).get(LAST_RELOAD_SUCCESSFUL[kind]) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * After a reload request that got no answer: polls until the server runs `files` (ok), reports a
   * failed reload after a successful one (the request arrived and the config was refused), or
   * `unansweredSettleMs` passes. Rolling back at once instead queued a second reload behind the
   * first; with 2,000 services on a busy machine each reload took 45 s against the 60 s request
   * timeout, and the sidecar alternated between new and last good config without ever confirming.
   */
  async function settleUnanswered(kind: ServerKind, files: FileSet, triggeredAtSeconds: number, successfulBefore: number | undefined): Promise<ReloadOutcome> {
    const deadline = Date.now() + unansweredSettleMs;
    let reason = 'not checked';
    while (Date.now() < deadline) {
      try {
        const confirmation = await confirmOnce(kind, files, triggeredAtSeconds);
        if (confirmation.ok) return { ok: true };
        reason = confirmation.reason;
      } catch (err) {
        reason = `confirmation request failed: ${describeFetchError(err)}`;
      }
      if (successfulBefore === 1 && (await lastReloadSuccessful(kind)) === 0) {
        return { ok: false, message: `${kind} reports a failed reload (${LAST_RELOAD_SUCCESSFUL[kind]} 0); its log names the cause`, answered: true };
      }
      await sleep(settlePollMs);
    }
    return { ok: false, message: `not confirmed within ${Math.round(unansweredSettleMs / 1000)} s: ${reason}`, answered: false };
  }

  return {
    async reload(kind, files) {
      const notReady = await waitReady();
      if (notReady) return { ok: false, message: notReady, answered: false };
      const successfulBefore = await lastReloadSuccessful(kind);
      const triggeredAtSeconds = Date.now() / 1000;
      let response;
      try {
        response = await httpText(options.reloadUrl, { method: 'POST', timeoutMs: requestTimeoutMs });
      } catch (err) {
        const failure = `POST ${options.reloadUrl} failed: ${describeFetchError(err)}`;
        // A refused connection never reached the server: nothing to wait for.
        if ((err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') return { ok: false, message: failure, answered: false };
        options.log.warn('reload request got no answer; waiting for the server to report the outcome', { error: failure, settleMs: unansweredSettleMs });
        const settled = await settleUnanswered(kind, files, triggeredAtSeconds, successfulBefore);
        if (settled.ok) {
          options.log.info('the server applied the config after the reload request had failed', { error: failure });
          return settled;
        }
        return { ok: false, message: `${failure}; ${settled.message}`, answered: settled.answered };
      }
      if (response.status < 200 || response.status >= 300) {
        const detail = response.body.trim() || '(empty body)';
        const hint = kind === 'prometheus' && /one or more errors occurred/.test(detail) ? ' (a rule file failed to load; the Prometheus log names it)' : '';
        return { ok: false, message: `${kind} rejected the new config (HTTP ${response.status}): ${detail}${hint}`, answered: true };
      }
      // The servers update their metrics before answering, so the first check normally passes;
      // a few short retries cover a scrape racing the update.
      let confirmation: Confirmation = { ok: false, reason: 'not checked' };
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          confirmation = await confirmOnce(kind, files, triggeredAtSeconds);
        } catch (err) {
          confirmation = { ok: false, reason: `confirmation request failed: ${describeFetchError(err)}` };
        }
        if (confirmation.ok) return { ok: true };
        options.log.debug('reload not confirmed yet', { reason: confirmation.reason, attempt });
        await sleep(200 * (attempt + 1));
      }
      return { ok: false, message: `reload returned ${response.status} but could not be confirmed: ${confirmation.reason}`, answered: true };
    },
  };
}
