// Reusable express instrumentation: a request duration histogram and a /metrics handler.
// Any express 5 service can use it the same way the demo target does (see README.md).
import type { Request, RequestHandler, Response } from 'express';
import { Histogram, type Registry } from 'prom-client';

export interface HttpMetricsOptions {
  /** The registry the histogram is registered in (and that metricsHandler serves). */
  registry: Registry;
  /** Metric name; the Prometheus convention for this measurement is the default. */
  name?: string;
  /** Bucket upper bounds in seconds. */
  buckets?: number[];
}

/** Route label of requests no route matched (404s, scanners): one series instead of one per URL. */
export const UNMATCHED_ROUTE = 'unmatched';

export const DEFAULT_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The route pattern that handled the request (`/users/:id`, including the mount path of the
 * router it sits in), never the raw URL, so the label's cardinality stays bounded by the code.
 */
export function routeLabel(req: Request): string {
  const route = (req as Request & { route?: { path?: unknown } }).route;
  if (route?.path === undefined) return UNMATCHED_ROUTE;
  const pattern = Array.isArray(route.path) ? route.path.map(String).join('|') : String(route.path);
  return `${req.baseUrl ?? ''}${pattern}` || '/';
}

/**
 * Middleware timing every request from its arrival to the end of the response (or to the client
 * going away) into `http_request_duration_seconds{method, route, status_code}`. Mount it before
 * the routes.
 */
export function httpMetricsMiddleware(options: HttpMetricsOptions): RequestHandler {
  const histogram = new Histogram({
    name: options.name ?? 'http_request_duration_seconds',
    help: 'Duration of HTTP requests from arrival to the end of the response, seconds',
    labelNames: ['method', 'route', 'status_code'],
    buckets: options.buckets ?? DEFAULT_DURATION_BUCKETS,
    registers: [options.registry],
  });
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    let recorded = false;
    const record = () => {
      if (recorded) return;
      recorded = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      histogram.observe({ method: req.method, route: routeLabel(req), status_code: String(res.statusCode) }, seconds);
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}

/** Handler for GET /metrics serving the registry in the Prometheus text format. */
export function metricsHandler(registry: Registry): (req: Request, res: Response) => Promise<void> {
  return async (_req, res) => {
    try {
      const body = await registry.metrics();
      res.set('Content-Type', registry.contentType).send(body);
    } catch (err) {
      res
        .status(500)
        .type('text/plain')
        .send(`collecting metrics failed: ${(err as Error).message}\n`);
    }
  };
}
