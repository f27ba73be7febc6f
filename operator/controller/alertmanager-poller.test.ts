import { describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import { createLogger } from '../observability/logger.js';
import { AlertmanagerPoller } from './alertmanager-poller.js';

describe('AlertmanagerPoller', () => {
  it('reports the loaded config hash and when the last successful poll was sent, also when nothing changed (issue #22)', async () => {
    let hash = 123;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`alertmanager_config_hash ${hash}\nalertmanager_config_last_reload_successful 1\n`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    let changes = 0;
    const poller = new AlertmanagerPoller(
      `http://127.0.0.1:${port}`,
      60_000,
      () => void changes++,
      createLogger('test', 'error', () => {}),
    );
    try {
      expect(poller.running).toBeUndefined();
      const before = Date.now();
      await poller.pollOnce();
      const first = poller.running!;
      expect(first).toMatchObject({ configHash: 123, lastReloadSuccessful: true });
      expect(first.polledAt).toBeGreaterThanOrEqual(before);
      await new Promise((r) => setTimeout(r, 5));
      // Same config: no change reported, but the poll time moves (an answer older than a reload says nothing of it).
      await poller.pollOnce();
      expect(changes).toBe(1);
      expect(poller.running!.polledAt).toBeGreaterThan(first.polledAt);
      hash = 456;
      await poller.pollOnce();
      expect(changes).toBe(2);
      expect(poller.running?.configHash).toBe(456);
    } finally {
      poller.stop();
      await new Promise((r) => server.close(r));
    }
  });
});
