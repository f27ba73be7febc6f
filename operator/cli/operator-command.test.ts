import { describe, expect, it } from '@jest/globals';
import { parseOperatorArgs, settingsFromYaml } from './operator-command.js';

describe('parseOperatorArgs', () => {
  it('applies defaults', () => {
    const c = parseOperatorArgs([], { POD_NAME: 'vigil-operator-abc' });
    expect(c).toMatchObject({ namespace: 'vigil-system', watchNamespaces: [], listen: '127.0.0.1:8080', leaderElect: false, logLevel: 'info', identity: 'vigil-operator-abc' });
  });

  it('reads flags, then VIGIL_* environment, then POD_NAMESPACE', () => {
    const c = parseOperatorArgs(['--watch-namespaces', 'a, b', '--leader-elect', '--prometheus-url', 'http://prom:9090'], {
      VIGIL_NAMESPACE: 'mon',
      VIGIL_LOG_LEVEL: 'debug',
      POD_NAMESPACE: 'ignored',
    });
    expect(c).toMatchObject({ namespace: 'mon', watchNamespaces: ['a', 'b'], leaderElect: true, logLevel: 'debug', prometheusUrl: 'http://prom:9090' });
    expect(parseOperatorArgs([], { POD_NAMESPACE: 'pod-ns', VIGIL_LEADER_ELECT: 'true' })).toMatchObject({ namespace: 'pod-ns', leaderElect: true, selector: '' });
    expect(parseOperatorArgs(['--selector', ' vigil.dev/install in (a,b) '], {})).toMatchObject({ selector: 'vigil.dev/install in (a,b)' });
    expect(parseOperatorArgs([], { VIGIL_SELECTOR: 'team=a' })).toMatchObject({ selector: 'team=a' });
  });

  it('reads --prometheus-shards with --config-partitions and a --prometheus-url template, and refuses what cannot work', () => {
    expect(parseOperatorArgs([], {})).not.toHaveProperty('prometheusShards');
    expect(parseOperatorArgs(['--prometheus-shards', '1'], {})).not.toHaveProperty('prometheusShards');
    expect(parseOperatorArgs(['--prometheus-shards', '3', '--config-partitions', '--prometheus-url', 'http://vigil-prometheus-{shard}.vigil-prometheus:9090'], {})).toMatchObject({
      prometheusShards: 3,
      configPartitions: true,
      prometheusUrl: 'http://vigil-prometheus-{shard}.vigil-prometheus:9090',
    });
    expect(() => parseOperatorArgs(['--prometheus-shards', '2'], {})).toThrow('--prometheus-shards 2 needs --config-partitions');
    expect(() => parseOperatorArgs(['--prometheus-shards', '2', '--config-partitions', '--prometheus-url', 'http://prom:9090'], {})).toThrow(
      '--prometheus-url http://prom:9090 names one Prometheus, but --prometheus-shards is 2: give a template with {shard}',
    );
    expect(() => parseOperatorArgs(['--prometheus-url', 'http://prom-{shard}:9090'], {})).toThrow('has {shard}, which goes with --prometheus-shards above 1');
    for (const bad of ['0', '65', '1.5', 'two'])
      expect(() => parseOperatorArgs(['--prometheus-shards', bad], {})).toThrow(`--prometheus-shards: "${bad}" is not a shard count: expected an integer from 1 to 64`);
  });

  it('reads --prometheus-replicas and --alertmanager-replicas (default 1: one report per server, as before)', () => {
    expect(parseOperatorArgs([], {})).not.toHaveProperty('prometheusReplicas');
    expect(parseOperatorArgs(['--alertmanager-replicas', '1'], {})).not.toHaveProperty('alertmanagerReplicas');
    expect(parseOperatorArgs(['--prometheus-replicas', '2', '--alertmanager-replicas', '3'], {})).toMatchObject({ prometheusReplicas: 2, alertmanagerReplicas: 3 });
    expect(parseOperatorArgs([], { VIGIL_ALERTMANAGER_REPLICAS: '2' })).toMatchObject({ alertmanagerReplicas: 2 });
    for (const bad of ['0', '33', '1.5', 'two'])
      expect(() => parseOperatorArgs(['--prometheus-replicas', bad], {})).toThrow(`--prometheus-replicas: "${bad}" is not a replica count: expected an integer from 1 to 32`);
  });

  it('names the flag on bad input', () => {
    expect(() => parseOperatorArgs(['--namespace', 'Bad_NS'], {})).toThrow(/--namespace/);
    expect(() => parseOperatorArgs(['--watch-namespaces', 'ok,NOT OK'], {})).toThrow(/--watch-namespaces/);
    expect(() => parseOperatorArgs(['--prometheus-url', 'prom:9090x'], {})).toThrow(/--prometheus-url/);
    expect(() => parseOperatorArgs(['--log-level', 'loud'], {})).toThrow(/--log-level/);
    expect(() => parseOperatorArgs(['--selector', 'team in a,b'], {})).toThrow(/--selector: "team in a" is not a label selector requirement; accepted: comma-separated requirements/);
    expect(() => parseOperatorArgs([], { VIGIL_LEADER_ELECT: 'maybe' })).toThrow(/VIGIL_LEADER_ELECT/);
    expect(() => parseOperatorArgs(['--bogus'], {})).toThrow(/bogus/);
    expect(parseOperatorArgs(['--help'], {})).toBe('help');
  });

  it('reads --owner-configmap and refuses a name that is not a ConfigMap name', () => {
    expect(parseOperatorArgs(['--owner-configmap', 'vigil-operator-settings'], {})).toMatchObject({ ownerConfigMap: 'vigil-operator-settings' });
    expect(parseOperatorArgs([], {})).not.toHaveProperty('ownerConfigMap');
    expect(() => parseOperatorArgs(['--owner-configmap', 'Not/A-Name'], {})).toThrow(/--owner-configmap: "Not\/A-Name" is not a valid ConfigMap name/);
  });
});

describe('settingsFromYaml', () => {
  it('merges the file over the defaults, smtp field by field', () => {
    const s = settingsFromYaml('profile: demo\nsmtp:\n  smarthost: mail:465\ndefaultRecipients: [ops@example.com]\n', 'settings.yaml');
    expect(s.profile).toBe('demo');
    expect(s.smtp.smarthost).toBe('mail:465');
    expect(s.smtp.from).toBeTruthy();
    expect(s.defaultRecipients).toEqual(['ops@example.com']);
  });

  it('refuses SMTP credentials and unknown keys, naming them', () => {
    expect(() => settingsFromYaml('smtp:\n  authPassword: hunter2\n', 'f.yaml')).toThrow(/smtp\.authPassword.*--smtp-secret/);
    expect(() => settingsFromYaml('scrapeIntervall: 10s\n', 'f.yaml')).toThrow(/f\.yaml: unknown setting "scrapeIntervall"/);
    expect(() => settingsFromYaml('profile: fast\n', 'f.yaml')).toThrow(/demo or production/);
    expect(() => settingsFromYaml('- a\n', 'f.yaml')).toThrow(/mapping/);
  });
});
