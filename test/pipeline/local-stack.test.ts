// Pure helpers of the local stack (hack/local-stack): the latency bound, the demo objects, how an
// alert email is recognised and how stunnel's log proves a forwarded connection.
import { alertBoundSeconds, demoEndpointSlice, demoMonitoredService, demoTargetObjects, durationSeconds, targetDownBoundSeconds } from '../../hack/local-stack/demo.js';
import { isAlertEmailFor } from '../../hack/local-stack/mailpit.js';
import { countForwardedConnections, stunnelConfig } from '../../hack/local-stack/stunnel.js';
import { urlTable } from '../../hack/local-stack/url-table.js';

test('the bound is S + E + ceil(F/E)*E + 2 s', () => {
  expect(alertBoundSeconds('5s', '5s', '5s')).toBe(17);
  // The original compose stack: S = E = 15 s, F = 5 s.
  expect(alertBoundSeconds('15s', '15s', '5s')).toBe(47);
  expect(alertBoundSeconds('30s', '15s', '1m')).toBe(30 + 15 + 60 + 2);
  expect(alertBoundSeconds('5s', '5s', '7s')).toBe(5 + 5 + 10 + 2);
  expect(durationSeconds('1m30s')).toBe(90);
  expect(durationSeconds('500ms')).toBe(0.5);
});

test("one target's bound adds ServiceTargetDown's termination window, 3 scrape intervals + 10 s", () => {
  expect(targetDownBoundSeconds('5s', '5s', '5s')).toBe(17 + 25);
  expect(targetDownBoundSeconds('30s', '15s', '1m')).toBe(30 + 15 + 60 + 2 + 100);
});

test('the demo MonitoredService has fast timings and its own recipients', () => {
  const ms = demoMonitoredService();
  expect(ms.metadata).toMatchObject({ namespace: 'demo', name: 'demo-target' });
  expect(ms.spec.endpoints[0]?.interval).toBe('5s');
  expect(ms.spec.downAlert.for).toBe('5s');
  expect(ms.spec.notify?.email?.to.length).toBeGreaterThan(0);
});

test('the demo target objects follow the port the stack runs the target on', () => {
  const objects = demoTargetObjects(18000);
  expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'Service', 'EndpointSlice']);
  const service = objects.find((o) => o.kind === 'Service') as unknown as { spec: { selector?: unknown; ports: { name: string; port: number }[] } };
  // No selector: the stack publishes the EndpointSlice itself, as for any non-pod backend.
  expect(service.spec.selector).toBeUndefined();
  expect(service.spec.ports).toEqual([expect.objectContaining({ name: 'http-metrics', port: 18000, targetPort: 18000 })]);
  const slice = demoEndpointSlice(18000) as unknown as { addressType: string; metadata: { labels: Record<string, string> }; ports: { port: number }[] };
  expect(slice.addressType).toBe('FQDN');
  expect(slice.metadata.labels['kubernetes.io/service-name']).toBe('demo-target');
  expect(slice.ports[0]?.port).toBe(18000);
  // The default manifest itself still says 8000.
  expect((demoEndpointSlice(8000) as unknown as { ports: { port: number }[] }).ports[0]?.port).toBe(8000);
});

test('alert emails are recognised by state, namespace and name', () => {
  expect(isAlertEmailFor('[FIRING:1] ServiceDown demo/demo-target (critical)', 'firing', 'demo', 'demo-target')).toBe(true);
  expect(isAlertEmailFor('[FIRING:1] ServiceDown demo/demo-target (critical)', 'resolved', 'demo', 'demo-target')).toBe(false);
  expect(isAlertEmailFor('[RESOLVED] ServiceDown demo/demo-target (critical)', 'resolved', 'demo', 'demo-target')).toBe(true);
  expect(isAlertEmailFor('[FIRING:1] ServiceDown demo/demo-target-2 (critical)', 'firing', 'demo', 'demo-target')).toBe(false);
  expect(isAlertEmailFor('[FIRING:1] ServiceDown shop/demo-target (critical)', 'firing', 'demo', 'demo-target')).toBe(false);
});

test("stunnel's log counts connections it forwarded from its own source address", () => {
  const log = [
    'LOG5[ui]: Configuration successful',
    'LOG5[0]: Service [smtps] accepted connection from 127.0.0.1:42492',
    'LOG5[0]: s_connect: connected 127.0.0.1:11025',
    'LOG5[0]: Service [smtps] connected remote server from 127.0.0.2:50001',
    'LOG5[0]: Connection closed: 319 byte(s) sent to TLS, 83 byte(s) sent to socket',
    'LOG5[1]: Service [smtps] accepted connection from 127.0.0.1:42500',
    'LOG3[1]: SSL_accept: ssl/record/ssl3_record.c:354: error:0A00010B:SSL routines::wrong version number',
  ].join('\n');
  expect(countForwardedConnections(log)).toBe(1);
  const config = stunnelConfig({ pidFile: '/x/stunnel.pid', port: 10465, upstreamPort: 1025, tls: { caCert: '/x/ca.crt', serverCert: '/x/s.crt', serverKey: '/x/s.key' } });
  expect(config).toContain('accept = 127.0.0.1:10465');
  expect(config).toContain('connect = 127.0.0.1:1025');
  expect(config).toContain('local = 127.0.0.2');
  expect(config).toContain('foreground = yes');
});

test('the URL table printed by make local-up closes every row with | (issue #11)', () => {
  const table = urlTable({
    urls: { prometheus: 'http://127.0.0.1:9090', alertmanager: 'http://127.0.0.1:9093', mailUi: 'http://127.0.0.1:8025', target: 'http://127.0.0.1:8000', apiServer: 'https://127.0.0.1:6443' },
    ports: { mailpitSmtp: 1025, smtps: 10465 },
  } as Parameters<typeof urlTable>[0]);
  const lines = table.split('\n');
  expect(lines).toHaveLength(7);
  for (const line of lines) {
    expect(line.startsWith('|')).toBe(true);
    expect(line.endsWith('|')).toBe(true);
    expect(line.split('|')).toHaveLength(5);
  }
  expect(lines[2]).toMatch(/^\| Prometheus +\| http:\/\/127\.0\.0\.1:9090 +\| targets, rules, alerts, graphs +\|$/);
  expect(table).toContain('implicit TLS via stunnel on 127.0.0.1:10465');
});
