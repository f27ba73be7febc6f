// The mail catcher (Mailpit: SMTP + web UI + JSON API) and the few API calls the stack, the tests
// and the benchmark need. MailHog v1.0.1 cannot be built from the Go module proxy; Mailpit is its
// maintained successor with the same ports (SMTP 1025, UI 8025) but its own JSON API (/api/v1).
import { join } from 'node:path';
import { startProcess, logTail, type ManagedProcess } from './process.js';
import { getJson, pollUntil } from './net.js';

export interface MailAddress {
  Name: string;
  Address: string;
}

export interface MailSummary {
  ID: string;
  Subject: string;
  To: MailAddress[] | null;
  From: MailAddress | null;
  /** RFC 3339 time Mailpit received the message. */
  Created: string;
}

export interface MailMessage extends MailSummary {
  Text: string;
  HTML: string;
  Cc: MailAddress[] | null;
}

export class MailpitClient {
  constructor(readonly apiUrl: string) {}

  /**
   * Newest first, as Mailpit lists them: every message, or only the newest `limit`. A fixed page
   * size must not be the default: another stack's alerts reaching this catcher (when stacks shared 127.0.0.1:465)
   * pushed a test's email out of the newest 200 and the test saw it vanish. limit=0 is "all".
   */
  async list(limit = 0): Promise<MailSummary[]> {
    const r = await getJson<{ messages: MailSummary[] | null }>(`${this.apiUrl}/api/v1/messages?limit=${limit}`);
    return r.messages ?? [];
  }

  message(id: string): Promise<MailMessage> {
    return getJson<MailMessage>(`${this.apiUrl}/api/v1/message/${encodeURIComponent(id)}`);
  }

  headers(id: string): Promise<Record<string, string[]>> {
    return getJson<Record<string, string[]>>(`${this.apiUrl}/api/v1/message/${encodeURIComponent(id)}/headers`);
  }

  /** The message as it was received (RFC 5322 text: headers, blank line, body). */
  async raw(id: string): Promise<string> {
    const res = await fetch(`${this.apiUrl}/api/v1/message/${encodeURIComponent(id)}/raw`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET /api/v1/message/${id}/raw: HTTP ${res.status}`);
    return res.text();
  }

  async deleteAll(): Promise<void> {
    const res = await fetch(`${this.apiUrl}/api/v1/messages`, { method: 'DELETE', signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`DELETE /api/v1/messages: HTTP ${res.status}`);
  }
}

export interface Mailpit {
  process: ManagedProcess;
  smtpPort: number;
  uiPort: number;
  uiUrl: string;
  client: MailpitClient;
}

export async function startMailpit(o: { bin: string; dir: string; smtpPort: number; uiPort: number }): Promise<Mailpit> {
  const logFile = join(o.dir, 'mailpit.log');
  const proc = startProcess(
    'mailpit',
    o.bin,
    [
      `--smtp=127.0.0.1:${o.smtpPort}`,
      `--listen=127.0.0.1:${o.uiPort}`,
      `--database=${join(o.dir, 'mailpit.db')}`,
      // No network here or in tests: no update check, no reverse DNS of the (loopback) client.
      '--disable-version-check',
      '--smtp-disable-rdns',
      // Keep every message: by default Mailpit deletes all but the newest 500 every minute, and the
      // tests and benchmarks count emails (a burst of other alerts would silently delete theirs).
      '--max=0',
    ],
    logFile,
  );
  const uiUrl = `http://127.0.0.1:${o.uiPort}`;
  const client = new MailpitClient(uiUrl);
  await pollUntil('Mailpit API', 20_000, async () => (await client.list(1), true), {
    check: () => {
      if (!proc.isRunning()) throw new Error(`mailpit exited; last log lines (${logFile}):\n${logTail(logFile)}`);
    },
    intervalMs: 150,
  });
  return { process: proc, smtpPort: o.smtpPort, uiPort: o.uiPort, uiUrl, client };
}

export type AlertState = 'firing' | 'resolved';

/** Vigil's subjects: "[FIRING:1] ServiceDown demo/demo-target (critical)", "[RESOLVED] ServiceDown ...". */
export function isAlertEmailFor(subject: string, state: AlertState, namespace: string, name: string): boolean {
  const prefix = state === 'firing' ? '[FIRING' : '[RESOLVED]';
  // Subject words are space-separated; demo/demo-target must not match demo/demo-target-2.
  return subject.startsWith(prefix) && subject.split(' ').includes(`${namespace}/${name}`);
}

/**
 * Polls the mail catcher until an alert email of `state` about namespace/name that arrived after
 * `since` is there; returns it (the first such, oldest first) with the time it took from `since`.
 */
export async function waitForAlertEmail(
  client: MailpitClient,
  o: { state: AlertState; namespace: string; name: string; since: number; timeoutMs: number; onProgress?: (elapsedS: number) => void },
): Promise<{ mail: MailSummary; elapsedS: number }> {
  const deadline = o.since + o.timeoutMs;
  let lastProgress = 0;
  for (;;) {
    const matching = (await client.list())
      .filter((m) => Date.parse(m.Created) >= o.since && isAlertEmailFor(m.Subject, o.state, o.namespace, o.name))
      .sort((a, b) => Date.parse(a.Created) - Date.parse(b.Created));
    const first = matching[0];
    if (first) return { mail: first, elapsedS: (Date.parse(first.Created) - o.since) / 1000 };
    const now = Date.now();
    if (now > deadline) {
      throw new Error(`no ${o.state} email about ${o.namespace}/${o.name} within ${Math.round(o.timeoutMs / 1000)} s (mail catcher: ${client.apiUrl})`);
    }
    if (o.onProgress && now - lastProgress >= 1000) {
      lastProgress = now;
      o.onProgress((now - o.since) / 1000);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
