// The demo target's HTTP app plus the listen/shutdown plumbing main.ts uses.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { DEFAULT_DEMO_METRICS, registerDemoMetrics, type DemoMetricsOptions } from './demo-metrics.js';
import { DEFAULT_HOST_PATHS, registerHostMetrics, type HostPaths, type TemperatureSensor } from './host-metrics.js';
import { httpMetricsMiddleware, metricsHandler } from './instrumentation.js';

export interface TargetAppOptions {
  /** Where /proc, /sys and the measured disk are (tests point these at fixtures). */
  hostPaths?: Partial<HostPaths>;
  demo?: Partial<DemoMetricsOptions>;
  /** prom-client's process and Node.js runtime metrics (default on). */
  defaultMetrics?: boolean;
}

export interface TargetApp {
  app: Express;
  registry: Registry;
  /** The sensor behind target_host_cpu_temperature_celsius, undefined when there is none. */
  temperatureSensor: TemperatureSensor | undefined;
  /** Stops the timers the metrics need; the HTTP server is the caller's to close. */
  stop: () => void;
}

export async function createTargetApp(options: TargetAppOptions = {}): Promise<TargetApp> {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const { temperatureSensor } = await registerHostMetrics(registry, { ...DEFAULT_HOST_PATHS, ...options.hostPaths });
  const stopDemo = registerDemoMetrics(registry, { ...DEFAULT_DEMO_METRICS, ...options.demo });

  const app = express();
  app.disable('x-powered-by');
  app.use(httpMetricsMiddleware({ registry }));
  app.get('/', (_req, res) => {
    res.json({
      service: 'vigil demo target',
      endpoints: { '/metrics': 'Prometheus metrics', '/healthz': 'liveness/readiness, 200 when serving' },
    });
  });
  app.get('/metrics', metricsHandler(registry));
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  return { app, registry, temperatureSensor, stop: stopDemo };
}

/** Listens and resolves once the port is bound (rejects on EADDRINUSE and the like). */
export function listen(app: Express, port: number, host: string): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(app);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function boundPort(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}

/**
 * Stops accepting connections, lets in-flight requests finish and closes idle keep-alive
 * connections; after `graceMs` the remaining connections are cut. Resolves with whether that
 * was needed.
 */
export function closeGracefully(server: http.Server, graceMs: number): Promise<{ forced: boolean }> {
  return new Promise((resolve) => {
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      server.closeAllConnections();
    }, graceMs);
    timer.unref();
    // close() drops connections idle right now, but a keep-alive connection whose request is
    // still running turns idle only later and would hold close() open for the keep-alive
    // timeout: sweep again until everything is closed.
    const sweeper = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearTimeout(timer);
      clearInterval(sweeper);
      resolve({ forced });
    });
  });
}
