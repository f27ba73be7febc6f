// The shared helpers of the stack module (net.ts, metrics.ts): free ports, polling with a clear
// timeout message, text exposition sums.
import { describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { sumSamples } from './metrics.js';
import { formatWait, freePorts, pollUntil, probePort } from './net.js';

describe('pollUntil', () => {
  it('returns the first value that is not undefined/false, 0 included', async () => {
    let round = 0;
    expect(await pollUntil('the third round', 5000, async () => (++round === 3 ? 0 : false), { intervalMs: 1 })).toBe(0);
    expect(round).toBe(3);
  });

  it('says what it waited for, how long, and the last error when it times out', async () => {
    await expect(
      pollUntil(
        'the answer',
        50,
        async () => {
          throw new Error('connection refused');
        },
        { intervalMs: 10 },
      ),
    ).rejects.toThrow('timed out after 50 ms waiting for the answer (last error: connection refused)');
    await expect(pollUntil('nothing', 1, async () => undefined, { intervalMs: 1 })).rejects.toThrow(/^timed out after 1 ms waiting for nothing$/);
  });

  it('states the timeout in ms below 10 s, else in s', () => {
    expect(formatWait(250)).toBe('250 ms');
    expect(formatWait(9_999)).toBe('9999 ms');
    expect(formatWait(90_000)).toBe('90 s');
  });

  it('stops at once when the check throws (a process died)', async () => {
    const started = Date.now();
    await expect(
      pollUntil('never', 60_000, async () => false, {
        check: () => {
          throw new Error('prometheus exited');
        },
      }),
    ).rejects.toThrow('prometheus exited');
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

describe('freePorts', () => {
  it('gives distinct loopback ports that can be bound', async () => {
    const ports = await freePorts(3);
    expect(new Set(ports).size).toBe(3);
    for (const port of ports) expect(await probePort(port)).toBeNull();
  });

  it('probePort reports a taken port', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      expect(await probePort(port)).toBe('EADDRINUSE');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('sumSamples', () => {
  const exposition = [
    '# HELP alertmanager_notifications_failed_total Failed notifications.',
    '# TYPE alertmanager_notifications_failed_total counter',
    'alertmanager_notifications_failed_total{integration="email",reason="other"} 2',
    'alertmanager_notifications_failed_total{integration="email",reason="serverError"} 3',
    'alertmanager_notifications_failed_total{integration="webhook",reason="other"} 7',
    'alertmanager_notifications_failed_total_extra 100',
    'alertmanager_config_hash 4.2e+14',
  ].join('\n');

  it('sums the samples whose labels contain every given pair', () => {
    expect(sumSamples(exposition, 'alertmanager_notifications_failed_total', { integration: 'email' })).toBe(5);
    expect(sumSamples(exposition, 'alertmanager_notifications_failed_total')).toBe(12);
    expect(sumSamples(exposition, 'alertmanager_config_hash')).toBe(4.2e14);
    expect(sumSamples(exposition, 'alertmanager_notifications_failed_total', { integration: 'slack' })).toBe(0);
    expect(sumSamples(exposition, 'missing_metric')).toBe(0);
  });
});
