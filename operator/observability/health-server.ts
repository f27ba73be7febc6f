// The operability endpoints every Vigil process serves: /metrics (prom-client), /healthz, /readyz.
// Listens on loopback by default; in a pod the chart passes 0.0.0.0.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServerOptions {
  /** host:port, e.g. 127.0.0.1:8080; port 0 picks a free port (tests). */
  listen: string;
  registry: Registry;
  /** /readyz returns 200 while this is true. Defaults to always ready. */
  ready?: () => boolean;
  /** /healthz returns 200 while this is true (liveness). Defaults to always healthy. */
  healthy?: () => boolean;
}

export interface HealthServer {
  /** The address really bound (useful with port 0). */
  host: string;
  port: number;
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';

export function parseListenAddress(listen: string): { host: string; port: number } {
  const idx = listen.lastIndexOf(':');
  if (idx < 0) throw new Error(`invalid listen address "${listen}": expected host:port, e.g. 127.0.0.1:8080`);
  let host = listen.slice(0, idx);
  const portText = listen.slice(idx + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const port = Number(portText);
  if (!/^[0-9]+$/.test(portText) || port > 65535) throw new Error(`invalid listen address "${listen}": port must be 0-65535`);
  return { host: host === '' ? '0.0.0.0' : host, port };
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const { host, port } = parseListenAddress(options.listen);
  const ready = options.ready ?? (() => true);
  const healthy = options.healthy ?? (() => true);
  // node:http rather than express: three fixed routes, and express added about 10 MiB to every process.
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, contentType: string, body: string) => {
      res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, TEXT, `method ${req.method} not allowed\n`);
    if (path === '/metrics') {
      options.registry.metrics().then(
        (body) => reply(200, options.registry.contentType, body),
        (err: unknown) => reply(500, TEXT, `metrics unavailable: ${(err as Error).message}\n`),
      );
      return;
    }
    if (path === '/healthz') {
      const ok = healthy();
      return reply(ok ? 200 : 503, TEXT, ok ? 'ok\n' : 'unhealthy\n');
    }
    if (path === '/readyz') {
      const ok = ready();
      return reply(ok ? 200 : 503, TEXT, ok ? 'ok\n' : 'not ready\n');
    }
    reply(404, TEXT, 'not found: /metrics, /healthz and /readyz are served\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return {
    host: addr.address,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
