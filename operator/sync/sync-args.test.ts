import { parseSyncArgs, toObservedObject } from '../cli/sync-command.js';

describe('vigil sync flags', () => {
  const base = ['--dir', '/cfg', '--reload-url', 'http://127.0.0.1:9090/-/reload'];

  it('parses a ConfigMap sidecar with defaults', () => {
    expect(parseSyncArgs(['--configmap', 'vigil-prometheus-config', ...base], {})).toEqual({
      namespace: 'vigil-system',
      kind: 'ConfigMap',
      name: 'vigil-prometheus-config',
      dir: '/cfg',
      reloadUrl: 'http://127.0.0.1:9090/-/reload',
      listen: '127.0.0.1:8081',
      logLevel: 'info',
      replica: 0,
    });
  });

  it('reports as the StatefulSet ordinal of POD_NAME (replica 0 without one), or as --replica', () => {
    const prom = ['--configmap', 'vigil-prometheus-config', ...base];
    expect(parseSyncArgs(prom, { POD_NAME: 'vigil-prometheus-1' })).toMatchObject({ replica: 1, podName: 'vigil-prometheus-1' });
    expect(parseSyncArgs(prom, { POD_NAME: 'vigil-alertmanager-0' })).toMatchObject({ replica: 0, podName: 'vigil-alertmanager-0' });
    expect(parseSyncArgs(prom, { POD_NAME: 'vigil-prometheus-7d9fc-abcde' })).toMatchObject({ replica: 0 });
    expect(parseSyncArgs(prom, {})).not.toHaveProperty('podName');
    expect(parseSyncArgs([...prom, '--replica', '2'], { POD_NAME: 'vigil-prometheus-1' })).toMatchObject({ replica: 2 });
    expect(parseSyncArgs(prom, { VIGIL_REPLICA: '3' })).toMatchObject({ replica: 3 });
    for (const bad of ['-1', '1.5', 'one', '1234567'])
      expect(() => parseSyncArgs([...prom, `--replica=${bad}`], {})).toThrow(`--replica: "${bad}" is not a replica ordinal: expected an integer from 0 to 999999`);
  });

  it('reads VIGIL_* and POD_NAMESPACE from the environment, flags win', () => {
    const cfg = parseSyncArgs(['--namespace', 'flag-ns'], {
      VIGIL_SECRET: 's',
      VIGIL_DIR: '/am',
      VIGIL_RELOAD_URL: 'http://127.0.0.1:9093/-/reload',
      VIGIL_READY_URL: 'http://127.0.0.1:9093/-/ready',
      POD_NAMESPACE: 'pod-ns',
    });
    expect(cfg).toMatchObject({ kind: 'Secret', name: 's', namespace: 'flag-ns', dir: '/am', readyUrl: 'http://127.0.0.1:9093/-/ready' });
    expect(parseSyncArgs(['--secret', 's', ...base], { POD_NAMESPACE: 'pod-ns' })).toMatchObject({ namespace: 'pod-ns' });
  });

  it('takes --partitions with a ConfigMap only (partitions are ConfigMaps)', () => {
    expect(parseSyncArgs(['--configmap', 'vigil-prometheus-config', '--partitions', ...base], {})).toMatchObject({ kind: 'ConfigMap', partitions: true });
    expect(parseSyncArgs(['--configmap', 'c', ...base], { VIGIL_PARTITIONS: 'true' })).toMatchObject({ partitions: true });
    expect(() => parseSyncArgs(['--secret', 's', '--partitions', ...base], {})).toThrow('--partitions goes with --configmap <name>');
  });

  it('names the flag on bad input', () => {
    expect(() => parseSyncArgs(base, {})).toThrow('exactly one of --configmap <name> or --secret <name> is required');
    expect(() => parseSyncArgs(['--configmap', 'a', '--secret', 'b', ...base], {})).toThrow('exactly one of');
    expect(() => parseSyncArgs(['--configmap', 'a', '--reload-url', 'http://x/-/reload'], {})).toThrow('--dir <dir> is required');
    expect(() => parseSyncArgs(['--configmap', 'a', '--dir', 'd', '--reload-url', 'localhost:9090'], {})).toThrow('--reload-url: "localhost:9090" must be an http(s) URL');
    expect(() => parseSyncArgs(['--configmap', 'a', ...base, '--server', 'thanos'], {})).toThrow('--server: "thanos"');
    expect(() => parseSyncArgs(['--configmap', 'a', ...base, '--log-level', 'loud'], {})).toThrow('invalid log level');
    expect(() => parseSyncArgs(['--configmap', 'a', ...base, '--bogus', 'x'], {})).toThrow(/bogus/);
    expect(parseSyncArgs(['--help'], {})).toBe('help');
  });
});

describe('toObservedObject', () => {
  it('decodes a Secret and copies its annotations', () => {
    const o = toObservedObject('Secret', { metadata: { annotations: { a: 'b' } }, data: { 'alertmanager.yml': Buffer.from('x').toString('base64') } });
    expect(o).toEqual({ annotations: { a: 'b' }, files: { 'alertmanager.yml': 'x' } });
  });
  it('turns a decoding problem into a reportable error instead of throwing', () => {
    expect(toObservedObject('ConfigMap', { data: { '.x': 'y' } }).files).toEqual({ error: expect.stringContaining('key ".x"') });
  });
});
