// The operability endpoints every Vigil process serves: /metrics (prom-client), /healthz, /readyz.
// Listens on loopback by default; in a pod the chart passes 0.0.0.0.
import express from 'express';
import type { Server } from 'node:http';
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
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (_req, res) => {
    try {
      const body = await options.registry.metrics();
      res.setHeader('Content-Type', options.registry.contentType);
      res.status(200).send(body);
    } catch (err) {
      res
        .status(500)
        .type('text/plain')
        .send(`metrics unavailable: ${(err as Error).message}\n`);
    }
  });
  app.get('/healthz', (_req, res) => {
    const ok = healthy();
    res
      .status(ok ? 200 : 503)
      .type('text/plain')
      .send(ok ? 'ok\n' : 'unhealthy\n');
  });
  app.get('/readyz', (_req, res) => {
    const ok = ready();
    res
      .status(ok ? 200 : 503)
      .type('text/plain')
      .send(ok ? 'ok\n' : 'not ready\n');
  });

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once('error', reject);
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
