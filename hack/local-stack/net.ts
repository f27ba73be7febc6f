// Small network helpers for the local stack: free loopback ports, "is this port taken?", and
// polling an HTTP endpoint until it answers. Everything listens on 127.0.0.1 only.
import { createServer } from 'node:net';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Tries to bind host:port; resolves with the error code (EADDRINUSE, EACCES) or null when free. */
export function probePort(port: number, host = '127.0.0.1'): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen(port, host, () => server.close(() => resolve(null)));
  });
}

/** `count` distinct free loopback ports (all held open together, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((res, rej) => {
          const s = createServer();
          s.once('error', rej);
          s.listen(0, '127.0.0.1', () => res(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const addr = s.address();
    if (addr === null || typeof addr === 'string') throw new Error('unexpected listener address');
    return addr.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((res) => s.close(() => res()))));
  return ports;
}

/** Throws one message listing every port of `ports` that cannot be bound on 127.0.0.1. */
export async function assertPortsFree(ports: Record<string, number>, hint: string): Promise<void> {
  const problems: string[] = [];
  for (const [what, port] of Object.entries(ports)) {
    const code = await probePort(port);
    if (code === 'EACCES') problems.push(`${what}: port ${port} needs root (or CAP_NET_BIND_SERVICE)`);
    else if (code !== null) problems.push(`${what}: 127.0.0.1:${port} is in use (${code})`);
  }
  if (problems.length > 0) throw new Error(`${problems.join('; ')}. ${hint}`);
}

export async function httpGet(url: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text() };
}

export async function getJson<T>(url: string, timeoutMs = 5000): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return (await res.json()) as T;
}

/** 250 -> "250 ms", 90000 -> "90 s": a timeout as a person reads it. */
export function formatWait(ms: number): string {
  return ms < 10_000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

/**
 * Polls `probe` every `intervalMs` until it returns a value other than undefined/false, or throws
 * after `timeoutMs` with the last error seen. `check` runs first on every round (e.g. "did the
 * process die?") and may throw to stop waiting early.
 */
export async function pollUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>, opts: { intervalMs?: number; check?: () => void } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    opts.check?.();
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = (err as Error).message;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${formatWait(timeoutMs)} waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}`);
    await sleep(opts.intervalMs ?? 250);
  }
}
