import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, globalAgent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ApiError, inClusterRestConfig, RestClient, restConfigFromKubeconfig } from './rest.js';

const kubeconfig = (cluster: Record<string, unknown>, user: Record<string, unknown>) =>
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'other', cluster: { server: 'https://other:6443' } },
      { name: 'c', cluster },
    ],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'ctx',
  });

describe('restConfigFromKubeconfig', () => {
  it('takes the current context: server, inline CA and client certificate', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const config = restConfigFromKubeconfig(
      kubeconfig({ server: 'https://127.0.0.1:6443', 'certificate-authority-data': b64('CA') }, { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') }),
      '/x/config',
    );
    expect(config.server).toBe('https://127.0.0.1:6443');
    expect(config.ca?.toString()).toBe('CA');
    expect(config.cert?.toString()).toBe('CERT');
    expect(config.key?.toString()).toBe('KEY');
    expect(config.token).toBeUndefined();
  });

  it('reads files relative to the kubeconfig, and a tokenFile again on every call (rotation)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-rest-'));
    writeFileSync(join(dir, 'ca.crt'), 'FILE-CA');
    writeFileSync(join(dir, 'token'), 'one\n');
    const config = restConfigFromKubeconfig(kubeconfig({ server: 'https://h:1', 'certificate-authority': 'ca.crt', 'tls-server-name': 'api' }, { tokenFile: 'token' }), join(dir, 'config'));
    expect(config.ca?.toString()).toBe('FILE-CA');
    expect(config.tlsServerName).toBe('api');
    expect(config.token?.()).toBe('one');
    writeFileSync(join(dir, 'token'), 'two\n');
    expect(config.token?.()).toBe('two');
  });

  it('takes a token, basic auth and insecure-skip-tls-verify', () => {
    expect(restConfigFromKubeconfig(kubeconfig({ server: 'https://h:1', 'insecure-skip-tls-verify': true }, { token: 't' }), 'k').token?.()).toBe('t');
    const basic = restConfigFromKubeconfig(kubeconfig({ server: 'https://h:1', 'insecure-skip-tls-verify': true }, { username: 'a', password: 'b' }), 'k');
    expect(basic.basicAuth).toEqual({ username: 'a', password: 'b' });
    expect(basic.insecureSkipTlsVerify).toBe(true);
  });

  it('refuses what it does not implement, naming the file, the entry and the field', () => {
    expect(() => restConfigFromKubeconfig(kubeconfig({ server: 'https://h:1' }, { exec: { command: 'aws' } }), '/k')).toThrow(
      'kubeconfig /k: user "u" sets exec, which vigil sync does not support; accepted: client-certificate/client-key, token, tokenFile, username/password',
    );
    expect(() => restConfigFromKubeconfig(kubeconfig({ server: 'https://h:1', 'proxy-url': 'http://p:3128' }, {}), '/k')).toThrow('kubeconfig /k: cluster "c" sets proxy-url');
    expect(() => restConfigFromKubeconfig(stringify({ contexts: [] }), '/k')).toThrow('kubeconfig /k: no current-context');
    expect(() => restConfigFromKubeconfig(stringify({ 'current-context': 'x', contexts: [] }), '/k')).toThrow('current-context "x" is not in contexts');
  });
});

describe('inClusterRestConfig', () => {
  it('uses KUBERNETES_SERVICE_HOST/PORT, the mounted CA and the token file (IPv6 host bracketed)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-sa-'));
    writeFileSync(join(dir, 'ca.crt'), 'SA-CA');
    writeFileSync(join(dir, 'token'), 'sa-token');
    const config = inClusterRestConfig({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    expect(config.server).toBe('https://[fd00::1]:443');
    expect(config.ca?.toString()).toBe('SA-CA');
    expect(config.token?.()).toBe('sa-token');
  });
});

describe('ApiError', () => {
  it("says the status and the Status object's message", () => {
    expect(new ApiError(403, JSON.stringify({ kind: 'Status', message: 'configmaps "x" is forbidden' })).message).toBe('HTTP 403: configmaps "x" is forbidden');
    expect(new ApiError(502, 'bad gateway').message).toBe('HTTP 502: bad gateway');
  });
});

describe('RestClient against a loopback HTTP server', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/forbidden') {
        res.writeHead(403, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ kind: 'Status', message: 'secrets "s" is forbidden' }));
      }
      if (url.pathname === '/silent') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return res.flushHeaders(); // headers, then nothing: a server that went away without closing
      }
      expect(url.searchParams.get('watch')).toBe('true');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // One event split across writes, a second in the same write as the end of the first.
      res.write('{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}}\n{"type":"MOD');
      res.end('IFIED","object":{"metadata":{"name":"a","resourceVersion":"2"}}}\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('delivers every event line, and leaves nothing on a reused keep-alive socket over many watches', async () => {
    const client = new RestClient({ server: base });
    const events: string[] = [];
    for (let i = 0; i < 15; i++)
      await client.watch<{ metadata: { resourceVersion: string } }>('/w', { resourceVersion: '0' }, (e) => events.push(`${e.type}:${e.object.metadata.resourceVersion}`), new AbortController().signal);
    await new Promise((resolve) => setImmediate(resolve)); // the socket goes back to the pool
    expect(events).toHaveLength(30);
    expect(events.slice(0, 2)).toEqual(['ADDED:1', 'MODIFIED:2']);
    // Plain http here uses Node's global keep-alive agent: one socket served all 15 watches. Its own
    // 'timeout' listener is the agent's; a watch's idle timer must not stay behind.
    const pooled = Object.values(globalAgent.freeSockets).flat();
    expect(pooled.length).toBeGreaterThan(0);
    for (const socket of pooled) expect(socket?.listenerCount('timeout')).toBeLessThanOrEqual(1);
    client.close();
  });

  it('rejects a watch with the Status message of a refusal, and one that stays silent past its idle timeout', async () => {
    const client = new RestClient({ server: base });
    try {
      await expect(client.watch('/forbidden', {}, () => undefined, new AbortController().signal)).rejects.toThrow('HTTP 403: secrets "s" is forbidden');
      await expect(client.watch('/silent', {}, () => undefined, new AbortController().signal, 300)).rejects.toThrow('watch /silent: no data for 0.3 s');
    } finally {
      client.close();
    }
  });
});
