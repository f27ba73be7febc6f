import { describe, expect, it } from '@jest/globals';
import { defaultSettings } from '../render/index.js';
import { renderConfig } from '../assemble/config.js';
import { credentialFileName, type CredentialRef } from '../render/scrape-auth.js';
import { formatIssue, validateMonitoredService } from '../validate/index.js';
import { planReconcile, type RawMonitoredService, type ReconcileInput } from './plan.js';
import { generateKeyPairSync } from 'node:crypto';
import { contentProblem, resolveCredentials, type SourceState } from './scrape-credentials.js';

const token: CredentialRef = { kind: 'Secret', namespace: 'shop', name: 'orders-token', key: 'token' };
const ca: CredentialRef = { kind: 'ConfigMap', namespace: 'shop', name: 'orders-ca', key: 'ca.crt' };

describe('contentProblem', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  it('refuses what Prometheus could not load, by use', () => {
    expect(contentProblem('not a certificate', new Set(['certificates']))).toBe('does not hold PEM certificates (-----BEGIN CERTIFICATE-----)');
    expect(contentProblem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', new Set(['certificates']))).toBe('does not hold PEM certificates (-----BEGIN CERTIFICATE-----)');
    expect(contentProblem('secret', new Set(['privateKey']))).toBe('does not hold a PEM private key');
    expect(contentProblem(key, new Set(['privateKey']))).toBeUndefined();
    expect(contentProblem(' \n', new Set(['text']))).toBe('is empty');
    expect(contentProblem('t0ken\n', new Set(['text']))).toBeUndefined();
  });
  it('names the key in the service status', () => {
    const result = resolveCredentials([ca], () => ({ synced: true, data: { 'ca.crt': 'nope' } }), new Map([[credentialFileName(ca), new Set(['certificates' as const])]]));
    expect(result).toEqual({ problem: expect.stringMatching(/^ConfigMap shop\/orders-ca key "ca.crt" does not hold PEM certificates/) });
  });
});

describe('resolveCredentials', () => {
  it('gives every value under its file name', () => {
    const states: Record<string, SourceState> = { 'orders-token': { synced: true, data: { token: 't0ken' } }, 'orders-ca': { synced: true, data: { 'ca.crt': 'PEM' } } };
    expect(resolveCredentials([token, ca], (r) => states[r.name]!)).toEqual({ files: { [credentialFileName(token)]: 't0ken', [credentialFileName(ca)]: 'PEM' } });
  });

  it('names each missing object and key with its namespace', () => {
    const result = resolveCredentials([token, ca], (r) => (r.name === 'orders-token' ? { synced: true, data: { other: 'x' } } : { synced: true, data: undefined }));
    expect(result).toEqual({
      problem:
        'Secret shop/orders-token has no key "token"; ConfigMap shop/orders-ca does not exist: the scrape settings (tlsConfig, authorization, basicAuth) read it; left out of the config until it is fixed',
    });
  });

  it('waits for a watch that has not listed yet, and gives up on one that cannot', () => {
    expect(resolveCredentials([token], () => ({ synced: false }))).toEqual({ pending: true });
    expect(resolveCredentials([token], () => ({ synced: false, unreadable: true }))).toEqual({
      problem: expect.stringMatching(/^Secret shop\/orders-token cannot be read by the operator/),
    });
  });
});

function service(name: string, endpoint: Record<string, unknown>): RawMonitoredService {
  return {
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace: 'shop', name, generation: 1, uid: name, resourceVersion: '1' },
    spec: { selector: { matchLabels: { app: name } }, endpoints: [{ port: 'metrics', ...endpoint }] },
  };
}

function input(objects: RawMonitoredService[], over: Partial<ReconcileInput>): ReconcileInput {
  return {
    objects,
    settings: defaultSettings(),
    validate: validateMonitoredService,
    formatIssue,
    render: renderConfig,
    prometheus: {},
    alertmanager: {},
    targetsFor: () => undefined,
    now: '2025-01-01T00:00:00Z',
    ...over,
  };
}

describe('planReconcile with scrape credentials', () => {
  const objects = [
    service('orders', { authorization: { credentials: { name: 'orders-token', key: 'token' } } }),
    service('plain', {}),
    service('broken', { authorization: { credentials: { name: 'gone', key: 'token' } } }),
  ];
  /** Each service reads the Secret its authorization names; only orders-token exists. */
  const resolve: ReconcileInput['scrapeCredentials'] = (s) => {
    const name = s.spec.endpoints[0]!.authorization?.credentials.name;
    const refs: CredentialRef[] = name ? [{ kind: 'Secret', namespace: s.metadata.namespace, name, key: 'token' }] : [];
    return resolveCredentials(refs, (r) => (r.name === 'orders-token' ? { synced: true, data: { token: 'secret-token' } } : { synced: true, data: undefined }));
  };

  it('leaves out only the service whose Secret is missing, with ConfigApplied=False naming it; the value never enters the ConfigMap', () => {
    const plan = planReconcile(input(objects, { scrapeCredentials: resolve }));
    expect(plan.rendered.included.map((r) => r.name)).toEqual(['orders', 'plain']);
    expect(plan.scrapeCredentialFiles).toEqual({ 'shop__secret__orders-token__token': 'secret-token' });
    expect(plan.credentialsPending).toBe(false);
    expect(JSON.stringify(plan.rendered.prometheus)).not.toContain('secret-token');
    const conditions = (name: string) =>
      (plan.statusUpdates.find((u) => u.name === name)!.patch.status as { conditions: { type: string; status: string; reason: string; message: string }[] }).conditions;
    expect(conditions('broken').find((c) => c.type === 'ConfigApplied')).toMatchObject({
      status: 'False',
      reason: 'CredentialsNotFound',
      message: expect.stringContaining('Secret shop/gone does not exist'),
    });
    expect(conditions('broken').find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'CredentialsNotFound' });
    expect(plan.statusUpdates.find((u) => u.name === 'broken')!.events).toContainEqual({
      type: 'Warning',
      reason: 'CredentialsNotFound',
      message: expect.stringContaining('Secret shop/gone does not exist'),
    });
    expect(conditions('orders').find((c) => c.type === 'ConfigApplied')!.reason).not.toBe('CredentialsNotFound');
  });

  it('says when a referenced object has not been read yet', () => {
    const plan = planReconcile(input(objects, { scrapeCredentials: () => ({ pending: true }) }));
    expect(plan.credentialsPending).toBe(true);
  });
});
