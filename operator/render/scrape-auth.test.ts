import { MonitoredServiceSchema, type MonitoredServiceInput } from '../api/schema.js';
import { defaultSettings } from './index.js';
import { scrapeJobs } from './prometheus.js';
import { credentialFileName, DEFAULT_SCRAPE_CREDENTIALS_DIR, scrapeAuthFields, serviceCredentialRefs } from './scrape-auth.js';

const service = (endpoints: MonitoredServiceInput['spec']['endpoints']) =>
  MonitoredServiceSchema.parse({
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace: 'shop', name: 'orders' },
    spec: { selector: { matchLabels: { app: 'orders' } }, endpoints },
  });

const full = service([
  {
    port: 'https',
    scheme: 'https',
    tlsConfig: {
      ca: { configMap: { name: 'orders-ca', key: 'ca.crt' } },
      cert: { secret: { name: 'client', key: 'tls.crt' } },
      keySecret: { name: 'client', key: 'tls.key' },
      serverName: 'orders.shop.svc',
    },
    authorization: { credentials: { name: 'token', key: 'token' } },
    nativeHistograms: true,
  },
  { port: 'admin', basicAuth: { username: { name: 'admin', key: 'user' }, password: { name: 'admin', key: 'password' } } },
  { port: 'debug', scheme: 'https', authorization: { type: 'Token', credentials: { name: 'token', key: 'token' } } },
]);

describe('scrape job TLS and authorization', () => {
  it('names files in the credentials directory, never the values', () => {
    const jobs = scrapeJobs(full, defaultSettings({ scrapeCredentialsDir: '/creds' }));
    const https = jobs.find((j) => j.job_name === 'vigil/shop/orders/https')!;
    expect(https).toMatchObject({
      scheme: 'https',
      tls_config: {
        ca_file: '/creds/shop__configmap__orders-ca__ca.crt',
        cert_file: '/creds/shop__secret__client__tls.crt',
        key_file: '/creds/shop__secret__client__tls.key',
        server_name: 'orders.shop.svc',
      },
      authorization: { type: 'Bearer', credentials_file: '/creds/shop__secret__token__token' },
      scrape_native_histograms: true,
    });
    expect(jobs.find((j) => j.job_name === 'vigil/shop/orders/admin')).toMatchObject({
      basic_auth: { username_file: '/creds/shop__secret__admin__user', password_file: '/creds/shop__secret__admin__password' },
    });
    expect(jobs.find((j) => j.job_name === 'vigil/shop/orders/debug')).toMatchObject({ authorization: { type: 'Token', credentials_file: '/creds/shop__secret__token__token' } });
  });

  it('adds nothing to a job that sets none of them; the default directory is the chart mount', () => {
    const plain = service([{ port: 'metrics' }]);
    expect(scrapeAuthFields('shop', plain.spec.endpoints[0]!, DEFAULT_SCRAPE_CREDENTIALS_DIR)).toEqual({});
    const job = scrapeJobs(service([{ port: 'metrics', authorization: { credentials: { name: 't', key: 'k' } } }]), defaultSettings())[0]!;
    expect(job.authorization).toEqual({ type: 'Bearer', credentials_file: '/etc/prometheus/scrape-credentials/shop__secret__t__k' });
    expect(scrapeAuthFields('shop', service([{ port: 'm', nativeHistograms: false }]).spec.endpoints[0]!, '/d')).toEqual({ scrape_native_histograms: false });
    expect(scrapeAuthFields('shop', service([{ port: 'm', nativeHistograms: true, alwaysScrapeClassicHistograms: true }]).spec.endpoints[0]!, '/d')).toEqual({
      scrape_native_histograms: true,
      always_scrape_classic_histograms: true,
    });
  });

  it('lists every referenced value once, in the service namespace', () => {
    expect(serviceCredentialRefs(full)).toEqual([
      { kind: 'ConfigMap', namespace: 'shop', name: 'orders-ca', key: 'ca.crt' },
      { kind: 'Secret', namespace: 'shop', name: 'admin', key: 'password' },
      { kind: 'Secret', namespace: 'shop', name: 'admin', key: 'user' },
      { kind: 'Secret', namespace: 'shop', name: 'client', key: 'tls.crt' },
      { kind: 'Secret', namespace: 'shop', name: 'client', key: 'tls.key' },
      { kind: 'Secret', namespace: 'shop', name: 'token', key: 'token' },
    ]);
  });

  it('keeps file names within 253 characters and distinct', () => {
    const long = { kind: 'Secret' as const, namespace: 'shop', name: 'n'.repeat(200), key: 'k'.repeat(200) };
    const name = credentialFileName(long);
    expect(name).toMatch(/^shop__secret__sha256-[0-9a-f]{64}$/);
    expect(credentialFileName({ ...long, key: `${'k'.repeat(199)}x` })).not.toBe(name);
    // Namespace and name hold no _, so a key with __ cannot collide with another name.
    expect(credentialFileName({ kind: 'Secret', namespace: 'a', name: 'b', key: 'c__d' })).toBe('a__secret__b__c__d');
  });
});
