import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { sineAt } from './demo-metrics.js';
import { closeGracefully, createTargetApp, listen, type TargetApp } from './server.js';
import { makeFakeSysfs, type FakeSysfs } from '../test/support/fake-sysfs.js';
import { baseUrl, getText, sampleValue } from '../test/support/http.js';

const fixtures = path.join(import.meta.dirname, '..', 'test', 'fixtures', 'proc');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A target app on 127.0.0.1 with an ephemeral port, its /proc copied from the fixtures so tests can change it. */
async function startTarget(sys: FakeSysfs) {
  const procRoot = mkdtempSync(path.join(os.tmpdir(), 'vigil-proc-'));
  copyFileSync(path.join(fixtures, 'meminfo'), path.join(procRoot, 'meminfo'));
  copyFileSync(path.join(fixtures, 'stat'), path.join(procRoot, 'stat'));
  const target = await createTargetApp({
    hostPaths: { procRoot, sysRoot: sys.root, diskPath: procRoot },
    demo: { tickIntervalMs: 20, sinePeriodMs: 60_000 },
  });
  const server = await listen(target.app, 0, '127.0.0.1');
  return {
    target,
    server,
    url: baseUrl(server),
    procRoot,
    async stop() {
      target.stop();
      await closeGracefully(server, 1000);
      rmSync(procRoot, { recursive: true, force: true });
    },
  };
}

describe('demo target app without temperature sensors', () => {
  let sys: FakeSysfs;
  let running: Awaited<ReturnType<typeof startTarget>>;

  beforeAll(async () => {
    sys = makeFakeSysfs();
    running = await startTarget(sys);
  });
  afterAll(async () => {
    try {
      await running?.stop();
    } finally {
      sys.remove();
    }
  });

  it('answers /healthz and /', async () => {
    expect(await getText(`${running.url}/healthz`)).toMatchObject({ status: 200, body: 'ok\n' });
    const root = await getText(`${running.url}/`);
    expect(root.status).toBe(200);
    expect(JSON.parse(root.body)).toMatchObject({ endpoints: { '/metrics': expect.any(String), '/healthz': expect.any(String) } });
  });

  it('exports the request histogram, ticks, the sine wave, host gauges and default metrics', async () => {
    await fetch(`${running.url}/healthz`);
    await sleep(150); // several 20 ms ticks
    const { status, body } = await getText(`${running.url}/metrics`);
    expect(status).toBe(200);
    expect(sampleValue(body, 'http_request_duration_seconds_count{method="GET",route="/healthz",status_code="200"}')).toBeGreaterThanOrEqual(1);
    expect(body).toContain('# TYPE http_request_duration_seconds histogram');
    expect(sampleValue(body, 'target_ticks_total')).toBeGreaterThanOrEqual(3);
    const sine = sampleValue(body, 'target_sine_wave');
    expect(sine).toBeGreaterThanOrEqual(-1);
    expect(sine).toBeLessThanOrEqual(1);
    expect(sampleValue(body, 'target_host_memory_used_percent')).toBe(75);
    expect(sampleValue(body, `target_host_disk_used_percent{path="${running.procRoot}"}`)).toBeGreaterThan(0);
    // prom-client's default process and runtime metrics
    expect(body).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(body).toMatch(/^process_resident_memory_bytes \d/m);
    expect(body).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    // This machine has no sensor: the series does not exist, not even as HELP/TYPE.
    expect(running.target.temperatureSensor).toBeUndefined();
    expect(body).not.toContain('target_host_cpu_temperature_celsius');
  });

  it('reports CPU use from the /proc/stat delta between scrapes', async () => {
    // Baseline: the fixture (idle 8100 of 9500), then 400 more jiffies of which 100 idle: 75 % busy.
    await fetch(`${running.url}/metrics`);
    writeFileSync(path.join(running.procRoot, 'stat'), 'cpu  1200 50 400 8090 110 10 40 0 200 0\n');
    const { body } = await getText(`${running.url}/metrics`);
    expect(sampleValue(body, 'target_host_cpu_used_percent')).toBe(75);
  });
});

describe('demo target app with a CPU temperature sensor', () => {
  let sys: FakeSysfs;
  let running: Awaited<ReturnType<typeof startTarget>> | undefined;

  beforeAll(async () => {
    sys = makeFakeSysfs();
    sys.thermalZone(0, 'acpitz', '30000');
    sys.hwmon(0, 'k10temp', { temp1: { input: '61125', label: 'Tctl' } });
    running = await startTarget(sys);
  });
  afterAll(async () => {
    try {
      await running?.stop();
    } finally {
      sys.remove();
    }
  });

  it('exports the sensor reading in degrees Celsius and follows changes', async () => {
    expect(running?.target.temperatureSensor?.name).toBe('k10temp Tctl');
    let { body } = await getText(`${running?.url}/metrics`);
    expect(sampleValue(body, 'target_host_cpu_temperature_celsius{sensor="k10temp Tctl"}')).toBe(61.125);
    sys.hwmon(0, 'k10temp', { temp1: { input: '70500', label: 'Tctl' } });
    ({ body } = await getText(`${running?.url}/metrics`));
    expect(sampleValue(body, 'target_host_cpu_temperature_celsius{sensor="k10temp Tctl"}')).toBe(70.5);
  });
});

describe('sineAt', () => {
  it('follows the wall clock with the given period', () => {
    expect(sineAt(0, 60_000)).toBe(0);
    expect(sineAt(15_000, 60_000)).toBeCloseTo(1, 10);
    expect(sineAt(45_000 + 60_000 * 1000, 60_000)).toBeCloseTo(-1, 10);
  });
});

describe('closeGracefully', () => {
  it('lets an in-flight request finish, refuses new connections and needs no force', async () => {
    const app = express();
    app.get('/slow', (_req, res) => {
      setTimeout(() => res.send('finished'), 300);
    });
    const server: http.Server = await listen(app, 0, '127.0.0.1');
    const url = baseUrl(server);
    const inFlight = getText(`${url}/slow`);
    await sleep(50); // the request has arrived
    const started = Date.now();
    const closing = closeGracefully(server, 5000);
    await expect(inFlight).resolves.toMatchObject({ status: 200, body: 'finished' });
    await expect(fetch(`${url}/slow`)).rejects.toThrow();
    await expect(closing).resolves.toEqual({ forced: false });
    // Not held open by the now idle keep-alive connection until the grace period runs out.
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('cuts a request that outlives the grace period', async () => {
    const app = express();
    app.get('/hang', () => {
      /* never answers */
    });
    const server = await listen(app, 0, '127.0.0.1');
    const hanging = fetch(`${baseUrl(server)}/hang`).catch((err: unknown) => err);
    await sleep(50);
    const started = Date.now();
    await expect(closeGracefully(server, 200)).resolves.toEqual({ forced: true });
    expect(Date.now() - started).toBeLessThan(2000);
    // fetch's TypeError comes from another realm under jest, so compare by message.
    expect(String(await hanging)).toMatch(/fetch failed/);
  });
});
