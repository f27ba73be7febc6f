import { describe, expect, it } from '@jest/globals';
import { Registry, Counter } from 'prom-client';
import { createLogger, parseLogLevel } from './logger.js';
import { parseListenAddress, startHealthServer } from './health-server.js';
import { createOperatorMetrics } from './metrics.js';

describe('createLogger', () => {
  it('writes one JSON line per call with ts, level, component, msg and fields, filtered by level', () => {
    const lines: string[] = [];
    const log = createLogger('operator', 'info', (l) => lines.push(l));
    log.debug('hidden');
    log.info('config written', { hash: 'abc', services: 3 });
    log.error('failed', { error: Object.assign(new Error('boom'), { code: 409 }) });
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ level: 'info', component: 'operator', msg: 'config written', hash: 'abc', services: 3 });
    expect(new Date(first.ts).toString()).not.toBe('Invalid Date');
    expect(JSON.parse(lines[1]!).error).toEqual({ message: 'boom', name: 'Error', code: 409 });
    expect(lines.every((l) => !l.includes('\n'))).toBe(true);
  });

  it('fields cannot override the fixed keys; child loggers add fields', () => {
    const lines: string[] = [];
    const log = createLogger('sync', 'debug', (l) => lines.push(l)).child({ object: 'ConfigMap/x' });
    log.debug('hello', { level: 'error', msg: 'spoofed' });
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'debug', msg: 'hello', component: 'sync', object: 'ConfigMap/x' });
  });

  it('survives circular fields', () => {
    const lines: string[] = [];
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    createLogger('x', 'info', (l) => lines.push(l)).warn('odd', { circular });
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'odd', fieldsError: 'unserializable fields' });
  });

  it('rejects unknown levels with the accepted ones', () => {
    expect(parseLogLevel('WARN')).toBe('warn');
    expect(() => parseLogLevel('verbose')).toThrow(/debug, info, warn, error/);
  });
});

describe('startHealthServer', () => {
  it('serves /metrics from the registry and /healthz, /readyz from the callbacks', async () => {
    const registry = new Registry();
    new Counter({ name: 'test_things_total', help: 'things', registers: [registry] }).inc(2);
    let ready = false;
    const server = await startHealthServer({ listen: '127.0.0.1:0', registry, ready: () => ready });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^test_things_total 2$/m);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('parses listen addresses', () => {
    expect(parseListenAddress('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListenAddress(':9000')).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(parseListenAddress('[::1]:1')).toEqual({ host: '::1', port: 1 });
    expect(() => parseListenAddress('8080')).toThrow(/host:port/);
    expect(() => parseListenAddress('x:99999')).toThrow(/port/);
  });
});

describe('createOperatorMetrics', () => {
  it('registers the documented metrics on its own registry', async () => {
    const m = createOperatorMetrics({ defaultMetrics: false });
    m.configWrites.inc({ object: 'configmap' });
    m.reloads.inc({ target: 'prometheus', result: 'success' });
    m.monitoredServices.set({ state: 'invalid' }, 2);
    m.leader.set(1);
    const text = await m.registry.metrics();
    for (const name of ['vigil_reconcile_duration_seconds', 'vigil_workqueue_depth', 'vigil_config_writes_total', 'vigil_reloads_total', 'vigil_monitoredservices', 'vigil_leader']) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    expect(text).toMatch(/^vigil_monitoredservices\{state="invalid"\} 2$/m);
    // Two operators in one process (tests) must not collide.
    expect(() => createOperatorMetrics({ defaultMetrics: false })).not.toThrow();
  });
});
