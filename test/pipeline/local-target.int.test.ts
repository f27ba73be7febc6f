// `make local-target` (issue #11): a process of one's own on a loopback port, registered with the running
// local stack, is discovered and scraped by the real Prometheus and its MonitoredService becomes Ready.
// Needs root (Prometheus runs in a private mount namespace); every listener is a free loopback port.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { localTargetHost, parseLocalTarget, registerLocalTarget } from '../../hack/local-stack/local-target.js';
import { freePorts, getJson, pollUntil } from '../../hack/local-stack/net.js';
import { useStack } from '../../hack/local-stack/fixture.js';

let server: Server | undefined;
let port = 0;

beforeAll(async () => {
  [port] = (await freePorts(1)) as [number];
  // Someone's own process: plain Prometheus text on 127.0.0.1:<port>/metrics.
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end('# TYPE my_app_ready gauge\nmy_app_ready 1\n');
  });
  await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
});

afterAll(() => {
  server?.close();
});

// Started before the tests, stopped after them (hack/local-stack/fixture.ts).
const theStack = useStack({ name: 'local-target', applyDemo: false });

test('the variables are checked, naming each one and what is accepted', () => {
  expect(() => parseLocalTarget({ NAME: 'My_App', PORT: '70000', INTERVAL: 'often' })).toThrow(
    /NAME="My_App": a DNS-1123 label.*PORT="70000": the process's port on 127.0.0.1 is accepted, 1 to 65535.*INTERVAL="often"/,
  );
  expect(parseLocalTarget({ NAME: 'my-app', PORT: '9100', TO: 'a@example.com, b@example.com' })).toEqual({
    name: 'my-app',
    namespace: 'default',
    port: 9100,
    to: ['a@example.com', 'b@example.com'],
    interval: '5s',
  });
});

test('a registered loopback port is scraped by Prometheus and its MonitoredService is Ready', async () => {
  const s = theStack();
  const hostsFile = join(s.stateDir, 'prometheus', 'hosts');
  const target = parseLocalTarget({ NAME: 'my-app', NAMESPACE: 'my-team', PORT: String(port), TO: 'me@example.com' });
  const kubectl = (args: string[], input?: string) => s.kubectl(args, input);
  await registerLocalTarget(target, { hostsFile, kubectl });
  // Twice is harmless: one hosts line, the objects unchanged.
  await registerLocalTarget(target, { hostsFile, kubectl });
  const hosts = await readFile(hostsFile, 'utf8');
  expect(hosts.split('\n').filter((l) => l.includes(localTargetHost('my-app')))).toEqual([`127.0.0.1 ${localTargetHost('my-app')}`]);

  const up = await pollUntil(
    'the target of my-team/my-app up in Prometheus',
    120_000,
    async () => {
      const r = await getJson<{ data: { activeTargets: { scrapePool: string; health: string; scrapeUrl: string }[] } }>(`${s.prometheus.url}/api/v1/targets?state=active`);
      return r.data.activeTargets.find((t) => t.scrapePool === 'vigil/my-team/my-app/metrics' && t.health === 'up');
    },
    { intervalMs: 500 },
  );
  expect(up.scrapeUrl).toBe(`http://${localTargetHost('my-app')}:${port}/metrics`);
  await pollUntil(
    'my-team/my-app Ready',
    120_000,
    async () => (await s.kubectl(['get', 'monitoredservice', 'my-app', '-n', 'my-team', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).trim() === 'True',
    { intervalMs: 1000 },
  );
  const value = await getJson<{ data: { result: { value: [number, string] }[] } }>(`${s.prometheus.url}/api/v1/query?query=${encodeURIComponent('my_app_ready{namespace="my-team"}')}`);
  expect(value.data.result.map((r) => r.value[1])).toEqual(['1']);
}, 300_000);
