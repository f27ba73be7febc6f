import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ApiError, inClusterRestConfig, restConfigFromKubeconfig } from './rest.js';

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
