// Endpoint tlsConfig, authorization, basicAuth and nativeHistograms as validateMonitoredService
// sees them: what Prometheus refuses (confirmed with promtool in render/scrape-auth.int.test.ts),
// what would be inert, and references that try to leave the MonitoredService's namespace.
import { validateMonitoredService } from './index.js';

const object = (endpoint: Record<string, unknown>) => ({
  apiVersion: 'vigil.dev/v1alpha1',
  kind: 'MonitoredService',
  metadata: { name: 'orders', namespace: 'shop' },
  spec: { selector: { matchLabels: { app: 'orders' } }, endpoints: [{ port: 'metrics', ...endpoint }] },
});

function issues(endpoint: Record<string, unknown>): string[] {
  const result = validateMonitoredService(object(endpoint));
  return result.ok ? [] : result.issues.map((i) => `${i.field}: ${i.message}`);
}

const secret = (name: string, key: string) => ({ name, key });

describe('scrape TLS and authorization', () => {
  it('accepts the full ServiceMonitor-like set and fills the authorization type', () => {
    const endpoint = {
      scheme: 'https',
      tlsConfig: {
        ca: { configMap: secret('orders-ca', 'ca.crt') },
        cert: { secret: secret('orders-client', 'tls.crt') },
        keySecret: secret('orders-client', 'tls.key'),
        serverName: 'orders.shop.svc',
      },
      authorization: { credentials: secret('orders-token', 'token') },
      nativeHistograms: true,
    };
    const result = validateMonitoredService(object(endpoint));
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.service.spec.endpoints[0]!.authorization).toEqual({ type: 'Bearer', credentials: { name: 'orders-token', key: 'token' } });
    expect(issues({ basicAuth: { username: secret('a', 'user'), password: secret('a', 'password') } })).toEqual([]);
    expect(issues({ scheme: 'https', tlsConfig: { insecureSkipVerify: true, serverName: 'orders.shop.svc' } })).toEqual([]);
  });

  it('refuses what Prometheus refuses, naming the field and what works', () => {
    expect(issues({ authorization: { credentials: secret('t', 'token') }, basicAuth: { username: secret('a', 'u'), password: secret('a', 'p') } })).toEqual([
      'spec.endpoints[0].basicAuth: authorization and basicAuth cannot be used together (Prometheus accepts at most one of basic_auth and authorization): keep the one the target checks',
    ]);
    expect(issues({ scheme: 'https', tlsConfig: { cert: { secret: secret('c', 'tls.crt') } } })).toEqual([
      'spec.endpoints[0].tlsConfig.cert: cert needs keySecret: a client certificate is useless without its private key (Prometheus refuses cert_file without key_file)',
    ]);
    expect(issues({ scheme: 'https', tlsConfig: { keySecret: secret('c', 'tls.key') } })).toEqual([
      'spec.endpoints[0].tlsConfig.keySecret: keySecret needs cert: a client key is useless without its certificate (Prometheus refuses key_file without cert_file)',
    ]);
    expect(issues({ authorization: { type: 'basic', credentials: secret('t', 'token') } })).toEqual([
      'spec.endpoints[0].authorization.type: must not be Basic (Prometheus refuses it in authorization): use basicAuth with username and password instead',
    ]);
  });

  it('refuses settings that would do nothing', () => {
    expect(issues({ tlsConfig: { serverName: 'orders.shop.svc' } })).toEqual([
      'spec.endpoints[0].tlsConfig: has no effect with scheme http (Prometheus never starts TLS on a plain-HTTP scrape): set scheme: https, or remove tlsConfig',
    ]);
    expect(issues({ scheme: 'https', tlsConfig: { ca: { secret: secret('ca', 'ca.crt') }, insecureSkipVerify: true } })).toEqual([
      'spec.endpoints[0].tlsConfig.ca: ca has no effect while insecureSkipVerify is true (nothing is verified): drop insecureSkipVerify to verify the target with ca (and serverName), or drop ca',
    ]);
  });

  it('takes alwaysScrapeClassicHistograms only with nativeHistograms', () => {
    expect(issues({ nativeHistograms: true, alwaysScrapeClassicHistograms: true })).toEqual([]);
    expect(issues({ alwaysScrapeClassicHistograms: true })).toEqual([
      'spec.endpoints[0].alwaysScrapeClassicHistograms: has no effect without nativeHistograms: true (without it Prometheus scrapes the text format, where every histogram is classic): set nativeHistograms: true, or remove alwaysScrapeClassicHistograms',
    ]);
  });

  it('takes a certificate from exactly one of secret or configMap', () => {
    const both = { secret: secret('ca', 'ca.crt'), configMap: secret('ca', 'ca.crt') };
    expect(issues({ scheme: 'https', tlsConfig: { ca: both } })).toEqual(['spec.endpoints[0].tlsConfig.ca: must name exactly one of secret or configMap']);
    expect(issues({ scheme: 'https', tlsConfig: { ca: {} } })).toEqual(['spec.endpoints[0].tlsConfig.ca: must name exactly one of secret or configMap']);
  });

  it('has no way to name another namespace: a namespace field is refused as unknown', () => {
    const [problem] = issues({ authorization: { credentials: { name: 'token', key: 'token', namespace: 'kube-system' } } });
    expect(problem).toMatch(/^spec\.endpoints\[0\]\.authorization\.credentials\.namespace: unknown field.*accepted fields here: name, key$/);
    const [caProblem] = issues({ scheme: 'https', tlsConfig: { ca: { secret: { name: 'ca', key: 'ca.crt', namespace: 'other' } } } });
    expect(caProblem).toMatch(/^spec\.endpoints\[0\]\.tlsConfig\.ca\.secret\.namespace: unknown field/);
  });

  it('refuses names and keys the API server would not accept', () => {
    expect(issues({ authorization: { credentials: secret('Token', 'token') } })).toEqual([
      'spec.endpoints[0].authorization.credentials.name: must be a Secret name: lowercase letters, digits, - and ., starting and ending with a letter or digit',
    ]);
    expect(issues({ authorization: { credentials: secret('token', '../etc/passwd') } })).toEqual([
      'spec.endpoints[0].authorization.credentials.key: must be a Secret data key: letters, digits, -, _ and .',
    ]);
  });
});
