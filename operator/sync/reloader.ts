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

export function createHttpReloader(options: HttpReloaderOptions): Reloader {
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
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

  return {
    async reload(kind, files) {
      const notReady = await waitReady();
      if (notReady) return { ok: false, message: notReady, answered: false };
      const triggeredAtSeconds = Date.now() / 1000;
      let response;
      try {
        response = await httpText(options.reloadUrl, { method: 'POST', timeoutMs: requestTimeoutMs });
      } catch (err) {
        return { ok: false, message: `POST ${options.reloadUrl} failed: ${describeFetchError(err)}`, answered: false };
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
