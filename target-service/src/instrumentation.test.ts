import type http from 'node:http';
import express from 'express';
import { Registry } from 'prom-client';
import { httpMetricsMiddleware, metricsHandler, UNMATCHED_ROUTE } from './instrumentation.js';
import { listen } from './server.js';
import { baseUrl, getText, sampleValue } from '../test/support/http.js';

describe('httpMetricsMiddleware', () => {
  let server: http.Server;
  let registry: Registry;

  beforeAll(async () => {
    registry = new Registry();
    const app = express();
    app.use(httpMetricsMiddleware({ registry, buckets: [0.05, 1] }));
    app.get('/users/:id', (_req, res) => {
      res.send('user');
    });
    const api = express.Router();
    api.post('/orders/:orderId', (_req, res) => {
      res.status(201).send('created');
    });
    app.use('/api', api);
    app.get('/slow', (_req, res) => {
      setTimeout(() => res.send('slow'), 120);
    });
    app.get('/boom', () => {
      throw new Error('boom');
    });
    app.get('/metrics', metricsHandler(registry));
    server = await listen(app, 0, '127.0.0.1');
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('labels requests with the route pattern, not the URL, and counts each one', async () => {
    await fetch(`${baseUrl(server)}/users/1`);
    await fetch(`${baseUrl(server)}/users/2`);
    await fetch(`${baseUrl(server)}/api/orders/77`, { method: 'POST' });
    await fetch(`${baseUrl(server)}/no/such/page?x=1`);
    await fetch(`${baseUrl(server)}/another/missing/page`);
    await fetch(`${baseUrl(server)}/boom`);
    await fetch(`${baseUrl(server)}/slow`);

    const { status, body, contentType } = await getText(`${baseUrl(server)}/metrics`);
    expect(status).toBe(200);
    expect(contentType).toBe(registry.contentType);
    const count = (labels: string) => sampleValue(body, `http_request_duration_seconds_count{${labels}}`);
    expect(count('method="GET",route="/users/:id",status_code="200"')).toBe(2);
    expect(count('method="POST",route="/api/orders/:orderId",status_code="201"')).toBe(1);
    expect(count(`method="GET",route="${UNMATCHED_ROUTE}",status_code="404"`)).toBe(2);
    expect(count('method="GET",route="/boom",status_code="500"')).toBe(1);
    expect(body).not.toContain('/users/1');
    expect(body).not.toContain('/no/such/page');
    // The slow request took at least 120 ms: outside the 0.05 s bucket, inside the 1 s one.
    expect(sampleValue(body, 'http_request_duration_seconds_bucket{le="0.05",method="GET",route="/slow",status_code="200"}')).toBe(0);
    expect(sampleValue(body, 'http_request_duration_seconds_bucket{le="1",method="GET",route="/slow",status_code="200"}')).toBe(1);
    expect(sampleValue(body, 'http_request_duration_seconds_sum{method="GET",route="/slow",status_code="200"}')).toBeGreaterThanOrEqual(0.1);
  });

  it('refuses a second histogram of the same name in one registry', () => {
    expect(() => httpMetricsMiddleware({ registry })).toThrow(/already been registered/);
  });
});
