import { describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import { createLogger } from '../observability/logger.js';
import { parse } from 'yaml';
import { TargetsPoller, classifyScrapeError, countTargets, parseJobName, sameCounts, scrapeConfigLoadedQuery } from './targets.js';
import { defaultSettings, renderRuleFile } from '../render/index.js';
import { recordWindow } from '../render/rules.js';
import { validateMonitoredService } from '../validate/index.js';
import { parseRuleGroupName, ruleHealthByService } from './rules-health.js';

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
    // health "unknown": discovered, not scraped yet; not a failure.
    expect([...counts]).toEqual([
      ['shop/checkout', { discovered: 3, healthy: 1, notScraped: 1, failures: [{ reason: 'NoHealthyTargets', error: 'the scrape failed (Prometheus reports no error)', targets: 1, instance: '' }] }],
    ]);
    expect(sameCounts(counts, countTargets({ data: { activeTargets: [] } }))).toBe(false);
    expect(() => countTargets({ status: 'error' })).toThrow(/activeTargets/);
  });
});

describe('scrape errors', () => {
  // lastError texts as Prometheus 3.15.1 reports them (seen in test/status/scrape-health.int.test.ts and Prometheus's scrape.go).
  it.each([
    ['Get "https://10.1.2.3:8443/metrics": tls: failed to verify certificate: x509: certificate is valid for web.shop.svc, not 10.1.2.3', 'TLSError'],
    ['server returned HTTP status 404 Not Found', 'HTTPErrorStatus'],
    ['server returned HTTP status 503 Service Unavailable', 'HTTPErrorStatus'],
    ['Get "http://10.1.2.3:8080/metrics": context deadline exceeded', 'ScrapeTimeout'],
    ['Get "http://10.1.2.3:8080/metrics": dial tcp 10.1.2.3:8080: connect: connection refused', 'ConnectionRefused'],
    ['sample limit exceeded', 'LimitExceeded'],
    ['label_limit exceeded (metric: foo, number of labels: 31, limit: 30)', 'LimitExceeded'],
    ['body size limit exceeded', 'LimitExceeded'],
    ['Get "http://web:8080/metrics": dial tcp: lookup web on 10.96.0.10:53: no such host', 'NoHealthyTargets'],
  ])('%s is %s', (error, reason) => {
    expect(classifyScrapeError(error)).toBe(reason);
  });

  it('groups the same failure on several pods (different URLs and addresses) and keeps the first instance as the example, most targets first', () => {
    const pool = 'vigil/shop/web/metrics';
    const timeout = (ip: string) => `Get "http://${ip}:8080/metrics": context deadline exceeded`;
    const counts = countTargets({
      data: {
        activeTargets: [
          { scrapePool: pool, labels: { instance: '10.0.0.9:8080' }, health: 'down', lastError: timeout('10.0.0.9') },
          { scrapePool: pool, labels: { instance: '10.0.0.2:8080' }, health: 'down', lastError: timeout('10.0.0.2') },
          { scrapePool: pool, labels: { instance: '10.0.0.5:8080' }, health: 'down', lastError: 'server returned HTTP status 404 Not Found' },
          { scrapePool: pool, labels: { instance: '10.0.0.6:8080' }, health: 'unknown', lastError: '' },
        ],
      },
    });
    expect(counts.get('shop/web')).toEqual({
      discovered: 4,
      healthy: 0,
      notScraped: 1,
      failures: [
        { reason: 'ScrapeTimeout', error: timeout('10.0.0.2'), targets: 2, instance: '10.0.0.2:8080' },
        { reason: 'HTTPErrorStatus', error: 'server returned HTTP status 404 Not Found', targets: 1, instance: '10.0.0.5:8080' },
      ],
    });
  });

  it('an HTTP status error keeps the scrape URL of its example, without query or credentials (they may carry tokens)', () => {
    const pool = 'vigil/shop/web/metrics';
    const notFound = 'server returned HTTP status 404 Not Found';
    const counts = countTargets({
      data: {
        activeTargets: [
          { scrapePool: pool, labels: { instance: '10.0.0.9:8080' }, scrapeUrl: 'http://10.0.0.9:8080/metrcs?token=s3cret', health: 'down', lastError: notFound },
          { scrapePool: pool, labels: { instance: '10.0.0.2:8080' }, scrapeUrl: 'http://user:pw@10.0.0.2:8080/metrcs?token=s3cret&x=1', health: 'down', lastError: notFound },
          {
            scrapePool: pool,
            labels: { instance: '10.0.0.3:8080' },
            scrapeUrl: 'http://10.0.0.3:8080/metrcs',
            health: 'down',
            lastError: 'Get "http://10.0.0.3:8080/metrcs": context deadline exceeded',
          },
        ],
      },
    });
    expect(counts.get('shop/web')?.failures).toEqual([
      { reason: 'HTTPErrorStatus', error: notFound, targets: 2, instance: '10.0.0.2:8080', scrapeUrl: 'http://10.0.0.2:8080/metrcs' },
      { reason: 'ScrapeTimeout', error: 'Get "http://10.0.0.3:8080/metrcs": context deadline exceeded', targets: 1, instance: '10.0.0.3:8080' },
    ]);
  });

  it("keeps the errors with the local end's ephemeral port masked, so the same failure reads the same every poll", () => {
    const pool = 'vigil/shop/web/metrics';
    const reset = (port: number) => `Get "http://10.0.0.2:8080/metrics": read tcp 10.0.0.1:${port}->10.0.0.2:8080: read: connection reset by peer`;
    const poll = (port: number) => countTargets({ data: { activeTargets: [{ scrapePool: pool, labels: { instance: '10.0.0.2:8080' }, health: 'down', lastError: reset(port) }] } });
    expect(poll(54321).get('shop/web')?.failures).toEqual([
      { reason: 'NoHealthyTargets', error: 'Get "http://10.0.0.2:8080/metrics": read tcp <local>->10.0.0.2:8080: read: connection reset by peer', targets: 1, instance: '10.0.0.2:8080' },
    ]);
    expect(sameCounts(poll(54321), poll(40000))).toBe(true);
  });
});

describe('rule health', () => {
  it('parses only vigil rule groups', () => {
    expect(parseRuleGroupName('vigil/shop/web')).toEqual({ namespace: 'shop', name: 'web' });
    expect(parseRuleGroupName('vigil/shop/web/metrics')).toBeUndefined();
    expect(parseRuleGroupName('other')).toBeUndefined();
  });

  it('counts evaluated rules and lists the failing ones with their error; "unknown" is not evaluated yet', () => {
    const rules = ruleHealthByService({
      status: 'success',
      data: {
        groups: [
          {
            name: 'vigil/shop/web',
            rules: [
              { name: 'vigil:scrape_config_loaded:timestamp_seconds', health: 'ok', lastError: '' },
              { name: 'ServiceDown', health: 'ok' },
              { name: 'Ratio', health: 'err', lastError: 'found duplicate series for the match group {} on the right hand-side of the operation' },
            ],
          },
          { name: 'vigil/shop/new', rules: [{ name: 'ServiceDown', health: 'unknown' }] },
          { name: 'watchdog', rules: [{ name: 'Watchdog', health: 'ok' }] },
        ],
      },
    });
    expect([...rules]).toEqual([
      ['shop/web', { rules: 3, evaluated: 3, failures: [{ rule: 'Ratio', error: 'found duplicate series for the match group {} on the right hand-side of the operation' }] }],
      ['shop/new', { rules: 1, evaluated: 0 }],
    ]);
    expect(() => ruleHealthByService({ data: {} })).toThrow(/data\.groups/);
  });
});

describe("the status's grace clock", () => {
  it("reads each service's record over the window its ServiceDown rule reads it over, all windows in one query", () => {
    const settings = defaultSettings();
    const services = ['15s', '1m'].map((interval) => {
      const r = validateMonitoredService({
        apiVersion: 'vigil.dev/v1alpha1',
        kind: 'MonitoredService',
        metadata: { name: `every-${interval}`, namespace: 'a', generation: 1, uid: interval },
        spec: { selector: { matchLabels: { app: 'x' } }, endpoints: [{ port: 'metrics', interval }] },
      });
      if (!r.ok) throw new Error(`invalid fixture: ${JSON.stringify(r.issues)}`);
      return r.service;
    });
    const query = scrapeConfigLoadedQuery(services.map((s) => recordWindow(s, settings)))!;
    const windows = services.map((service) => {
      const rules = (parse(renderRuleFile(service, settings)) as { groups: { rules: { alert?: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);
      const down = rules.find((r) => r.alert === 'ServiceDown')!.expr;
      return /min_over_time\(vigil:scrape_config_loaded:timestamp_seconds\{[^}]*\}\[([^\]]+)\]\)/.exec(down)![1]!;
    });
    expect(new Set(windows).size).toBe(2);
    for (const w of windows) expect(query).toContain(`min_over_time(vigil:scrape_config_loaded:timestamp_seconds[${w}])`);
    expect(query.split(' or ')).toHaveLength(2);
    expect(scrapeConfigLoadedQuery([])).toBeUndefined();
  });
});

describe('TargetsPoller', () => {
  it('polls /api/v1/targets, reports changes only, and keeps the last counts when Prometheus fails', async () => {
    let body: unknown = { status: 'success', data: { activeTargets: [{ scrapePool: 'vigil/a/b/metrics', health: 'up' }] } };
    let status = 200;
    const requests: string[] = [];
    let rules: unknown = { status: 'success', data: { groups: [{ name: 'vigil/a/b', rules: [{ name: 'ServiceDown', health: 'ok' }] }] } };
    // One window (W = 1m grace + 2 x 30 s evaluation interval): what ServiceDown reads for this service.
    const windows = [{ windowMs: 120_000, graceMs: 60_000 }];
    const record = (first: number, at: number) => ({
      metric: { vigil_namespace: 'a', vigil_monitoredservice: 'b', vigil_scrape_config: 'h1', vigil_record_window: '120000' },
      value: [at, String(first)],
    });
    let loaded: unknown = { status: 'success', data: { resultType: 'vector', result: [record(1000, 1030)] } };
    const server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const answer = req.url?.startsWith('/api/v1/rules') ? rules : req.url?.startsWith('/api/v1/query') ? loaded : body;
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    let changes = 0;
    const poller = new TargetsPoller(
      `http://127.0.0.1:${port}`,
      60_000,
      () => void changes++,
      createLogger('test', 'error', () => {}),
      () => windows,
    );
    try {
      expect(poller.countsFor('a', 'b')).toBeUndefined();
      await poller.pollOnce();
      // One poll for every service: targets, rules and when each scrape config was first evaluated, three requests.
      expect(requests.sort()).toEqual([
        `/api/v1/query?query=${encodeURIComponent('label_replace(min_over_time(vigil:scrape_config_loaded:timestamp_seconds[2m]), "vigil_record_window", "120000", "", "")')}`,
        '/api/v1/rules?exclude_alerts=true',
        '/api/v1/targets?state=active',
      ]);
      expect(poller.scrapeConfigLoaded('a', 'b', 'h1', 120_000)).toBe(1_000_000);
      // No record of that scrape config (not evaluated yet), or of that service, or over that window.
      expect(poller.scrapeConfigLoaded('a', 'b', 'h2', 120_000)).toBeNull();
      expect(poller.scrapeConfigLoaded('a', 'other', 'h1', 120_000)).toBeNull();
      expect(poller.scrapeConfigLoaded('a', 'b', 'h1', 180_000)).toBeNull();
      expect(poller.countsFor('a', 'b')).toEqual({ discovered: 1, healthy: 1 });
      expect(poller.countsFor('a', 'other')).toEqual({ discovered: 0, healthy: 0 });
      expect(poller.rulesFor('a', 'b')).toEqual({ rules: 1, evaluated: 1 });
      expect(poller.rulesFor('a', 'other')).toEqual({ loaded: false });
      await poller.pollOnce();
      expect(changes).toBe(1);
      // The window's oldest sample moves with every poll once the first record is older than the grace: read as long ago, no change after that.
      loaded = { status: 'success', data: { resultType: 'vector', result: [record(1000, 1000 + 60)] } };
      await poller.pollOnce();
      expect(changes).toBe(2);
      expect(poller.scrapeConfigLoaded('a', 'b', 'h1', 120_000)).toBe(0);
      loaded = { status: 'success', data: { resultType: 'vector', result: [record(1005, 1000 + 100)] } };
      await poller.pollOnce();
      expect(changes).toBe(2);
      changes = 1;
      rules = { status: 'success', data: { groups: [{ name: 'vigil/a/b', rules: [{ name: 'ServiceDown', health: 'err', lastError: 'boom' }] }] } };
      await poller.pollOnce();
      expect(changes).toBe(2);
      expect(poller.rulesFor('a', 'b')).toEqual({ rules: 1, evaluated: 1, failures: [{ rule: 'ServiceDown', error: 'boom' }] });
      changes = 1;
      body = {
        status: 'success',
        data: { activeTargets: [{ scrapePool: 'vigil/a/b/metrics', labels: { instance: 'b:80' }, health: 'down', lastError: 'server returned HTTP status 404 Not Found' }] },
      };
      await poller.pollOnce();
      expect(changes).toBe(2);
      const down = { discovered: 1, healthy: 0, failures: [{ reason: 'HTTPErrorStatus', error: 'server returned HTTP status 404 Not Found', targets: 1, instance: 'b:80' }] };
      expect(poller.countsFor('a', 'b')).toEqual(down);
      status = 503;
      await expect(poller.pollOnce()).rejects.toThrow(/HTTP 503/);
      expect(poller.countsFor('a', 'b')).toEqual(down);
      expect(poller.scrapeConfigLoaded('a', 'b', 'h1', 120_000)).toBe(0);
    } finally {
      poller.stop();
      await new Promise((r) => server.close(r));
    }
  });

  it('a failing grace-clock query leaves targets and rules polled: the previous records stand, a missing one is unknown (no grace), not a failed poll', async () => {
    const record = (hash: string, first: number, at: number) => ({
      metric: { vigil_namespace: 'a', vigil_monitoredservice: 'b', vigil_scrape_config: hash, vigil_record_window: '120000' },
      value: [at, String(first)],
    });
    let query: () => unknown = () => ({ status: 'success', data: { resultType: 'vector', result: [record('h1', 1000, 1030)] } });
    const answers = (url: string): unknown => {
      if (url.includes('/api/v1/targets')) return { status: 'success', data: { activeTargets: [{ scrapePool: 'vigil/a/b/metrics', health: 'up' }] } };
      if (url.includes('/api/v1/rules')) return { status: 'success', data: { groups: [] } };
      return query();
    };
    let changes = 0;
    const poller = new TargetsPoller(
      'http://prometheus.invalid:9090',
      60_000,
      () => void changes++,
      createLogger('test', 'error', () => {}),
      () => [{ windowMs: 120_000, graceMs: 60_000 }],
      async (url) => answers(url),
    );
    await poller.pollOnce();
    expect(poller.scrapeConfigLoaded('a', 'b', 'h2', 120_000)).toBeNull();
    // The query alone times out (or hits a query limit).
    query = () => {
      throw new Error('GET http://prometheus.invalid:9090/api/v1/query: HTTP 503');
    };
    await poller.pollOnce();
    expect(poller.failure).toBeUndefined();
    expect(poller.countsFor('a', 'b')).toEqual({ discovered: 1, healthy: 1 });
    expect(poller.scrapeConfigLoaded('a', 'b', 'h1', 120_000)).toBe(1_000_000);
    expect(poller.scrapeConfigLoaded('a', 'b', 'h2', 120_000)).toBeUndefined();
    expect(changes).toBe(2);
    // A second failure in a row changes nothing; an answer again reads as before.
    await poller.pollOnce();
    expect(changes).toBe(2);
    query = () => ({ status: 'success', data: { resultType: 'vector', result: [record('h1', 1000, 1040)] } });
    await poller.pollOnce();
    expect(poller.scrapeConfigLoaded('a', 'b', 'h2', 120_000)).toBeNull();
    expect(changes).toBe(3);
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
