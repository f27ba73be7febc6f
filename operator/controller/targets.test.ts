import { describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import { createLogger } from '../observability/logger.js';
import { TargetsPoller, countTargets, parseJobName, sameCounts } from './targets.js';

describe('targets', () => {
  it('parses only vigil jobs', () => {
    expect(parseJobName('vigil/shop/checkout/metrics')).toEqual({ namespace: 'shop', name: 'checkout', port: 'metrics' });
    expect(parseJobName('prometheus')).toBeUndefined();
    expect(parseJobName('vigil/shop/checkout')).toBeUndefined();
  });

  it('counts discovered and healthy targets per service across its ports', () => {
    const counts = countTargets({
      status: 'success',
      data: {
        activeTargets: [
          { scrapePool: 'vigil/shop/checkout/metrics', labels: { job: 'vigil/shop/checkout/metrics' }, health: 'up' },
          { scrapePool: 'vigil/shop/checkout/metrics', labels: { job: 'vigil/shop/checkout/metrics' }, health: 'down' },
          { scrapePool: 'vigil/shop/checkout/admin', labels: { job: 'vigil/shop/checkout/admin' }, health: 'unknown' },
          { scrapePool: 'prometheus', labels: { job: 'prometheus' }, health: 'up' },
        ],
      },
    });
    expect([...counts]).toEqual([['shop/checkout', { discovered: 3, healthy: 1 }]]);
    expect(sameCounts(counts, countTargets({ data: { activeTargets: [] } }))).toBe(false);
    expect(() => countTargets({ status: 'error' })).toThrow(/activeTargets/);
  });
});

describe('TargetsPoller', () => {
  it('polls /api/v1/targets, reports changes only, and keeps the last counts when Prometheus fails', async () => {
    let body: unknown = { status: 'success', data: { activeTargets: [{ scrapePool: 'vigil/a/b/metrics', health: 'up' }] } };
    let status = 200;
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(req.url ?? '');
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    let changes = 0;
    const poller = new TargetsPoller(
      `http://127.0.0.1:${port}`,
      60_000,
      () => void changes++,
      createLogger('test', 'error', () => {}),
    );
    try {
      expect(poller.countsFor('a', 'b')).toBeUndefined();
      await poller.pollOnce();
      expect(requests[0]).toBe('/api/v1/targets?state=active');
      expect(poller.countsFor('a', 'b')).toEqual({ discovered: 1, healthy: 1 });
      expect(poller.countsFor('a', 'other')).toEqual({ discovered: 0, healthy: 0 });
      await poller.pollOnce();
      expect(changes).toBe(1);
      body = { status: 'success', data: { activeTargets: [{ scrapePool: 'vigil/a/b/metrics', health: 'down' }] } };
      await poller.pollOnce();
      expect(changes).toBe(2);
      expect(poller.countsFor('a', 'b')).toEqual({ discovered: 1, healthy: 0 });
      status = 503;
      await expect(poller.pollOnce()).rejects.toThrow(/HTTP 503/);
      expect(poller.countsFor('a', 'b')).toEqual({ discovered: 1, healthy: 0 });
    } finally {
      poller.stop();
      await new Promise((r) => server.close(r));
    }
  });

  it('reports a refused connection at once, any other failure only when the next poll fails too', () => {
    let changes = 0;
    const poller = new TargetsPoller(
      'http://127.0.0.1:1',
      60_000,
      () => void changes++,
      createLogger('test', 'error', () => {}),
    );
    poller.recordFailure('GET …: HTTP 503', false);
    expect(poller.failure).toBeUndefined();
    expect(changes).toBe(0);
    poller.recordFailure('The operation was aborted due to timeout', false);
    expect(poller.failure?.error).toBe('The operation was aborted due to timeout');
    expect(changes).toBe(1);

    const dead = new TargetsPoller(
      'http://127.0.0.1:1',
      60_000,
      () => void changes++,
      createLogger('test', 'error', () => {}),
    );
    dead.recordFailure('fetch failed: connect ECONNREFUSED 127.0.0.1:1', true);
    expect(dead.failure?.error).toMatch(/ECONNREFUSED/);
    expect(changes).toBe(2);
  });

  it('a refused connection (real socket, nothing listening) is reported at the first failed poll', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    let changes = 0;
    const poller = new TargetsPoller(
      `http://127.0.0.1:${port}`,
      60_000,
      () => void changes++,
      createLogger('test', 'error', () => {}),
    );
    poller.start();
    try {
      const deadline = Date.now() + 5000;
      while (!poller.failure && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(poller.failure?.error).toMatch(/ECONNREFUSED/);
      expect(changes).toBe(1);
    } finally {
      poller.stop();
    }
  });
});
