// The chart and the programs it runs were written separately; these tests hold them together by
// feeding what the chart renders to the programs' own parsers: the operator's and the sync
// sidecar's container args (with $(VAR) expanded as the kubelet does) go through
// parseOperatorArgs / parseSyncArgs, the settings ConfigMap through settingsFromYaml (which
// refuses unknown keys: a wrong key would crash-loop the operator), and the ports, paths, volumes,
// users and RBAC the flags refer to must exist in the same rendering.
import { dirname, basename, posix } from 'node:path';
import type { KubeObject } from '../../cdk8s/kube.js';
import { synthesize } from '../../cdk8s/synth.js';
import { DEFAULT_VALUES, KIND_RESOLVED_VALUES, mergeValues, parseValues, type VigilValues } from '../../cdk8s/values.js';
import { SETTINGS_CHECKSUM_ANNOTATION, SETTINGS_CONFIGMAP } from '../../cdk8s/components/operator.js';
import { parseOperatorArgs, settingsFromYaml, type OperatorConfig } from '../../operator/cli/operator-command.js';
import { parseSyncArgs, type SyncConfig } from '../../operator/cli/sync-command.js';
import { UNINSTALL_COMMAND } from '../../operator/cli/uninstall-command.js';
import { UNINSTALL_HOOK_NAME } from '../../cdk8s/components/uninstall-hook.js';
import { rbacObjects } from '../../operator/rbac-objects.js';
import { OBJECT_NAMES } from '../../operator/rbac.js';
import { SCRAPE_ERROR_INFO_METRIC, SELF_SCRAPE_JOBS } from '../../operator/render/names.js';
import { parse } from 'yaml';
import { renderConfig } from '../../operator/assemble/config.js';
import type { GlobalSettings } from '../../operator/render/types.js';
import { OTHER_WAY, REAL_CLUSTER } from './value-sets.js';
import { shardObjectName, shardUrl } from '../../operator/contract.js';
import { REPLICA_EXTERNAL_LABEL } from '../../operator/render/names.js';
import { PROMETHEUS_NAME, PROMETHEUS_SHARD_NAME, prometheusShardName, THANOS_QUERY_NAME } from '../../cdk8s/components/prometheus.js';

/** The StatefulSet of Prometheus shard `shard`: shard 0 keeps the name of the install without shards. */
const shardStatefulSet = (shard: number) => (shard === 0 ? PROMETHEUS_NAME : prometheusShardName(shard));

type Json = Record<string, unknown>;
interface Container {
  name: string;
  image?: string;
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name: string; containerPort: number; protocol?: string }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  securityContext?: { runAsUser?: number; runAsGroup?: number };
  restartPolicy?: string;
}
interface PodSpec {
  serviceAccountName?: string;
  securityContext?: { runAsUser?: number; runAsGroup?: number; fsGroup?: number; supplementalGroups?: number[] };
  initContainers?: Container[];
  containers: Container[];
  volumes: (Json & { name: string })[];
}

const POD_NAME = 'pod-0';
const POD_IP = '10.1.2.3';

const CASES: [string, VigilValues, string][] = [
  ['a real cluster (registry, external URLs under path prefixes)', parseValues(mergeValues(DEFAULT_VALUES, REAL_CLUSTER)), 'vigil-system'],
  ['kind values', KIND_RESOLVED_VALUES, 'vigil-system'],
  ['every switch the other way, namespace monitoring', parseValues(mergeValues(DEFAULT_VALUES, OTHER_WAY)), 'monitoring'],
];

function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`the rendering has no ${kind}/${name}`);
  return o;
}

function podSpecOf(workload: KubeObject): PodSpec {
  return (workload.spec as { template: { spec: PodSpec } }).template.spec;
}

function containerOf(spec: PodSpec, name: string): Container {
  const c = [...(spec.initContainers ?? []), ...spec.containers].find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
}

/** The container's environment as the process sees it (downward API fields resolved). */
function processEnv(c: Container, namespace: string): Record<string, string> {
  const fields: Record<string, string> = { 'metadata.namespace': namespace, 'metadata.name': POD_NAME, 'status.podIP': POD_IP };
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const v = e.value ?? (e.valueFrom?.fieldRef ? fields[e.valueFrom.fieldRef.fieldPath] : undefined);
    if (v === undefined) throw new Error(`${c.name}: env ${e.name} has a source this test does not model`);
    env[e.name] = v;
  }
  return env;
}

/** The kubelet's $(VAR) expansion of args: defined variables are replaced, $$ escapes, others stay. */
function expand(args: string[], env: Record<string, string>): string[] {
  return args.map((a) => a.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name?: string) => (m === '$$' ? '$' : name !== undefined && name in env ? (env[name] as string) : m)));
}

/** argv of `vigil <command>` in a container of the operator image (its entrypoint is `node operator/bin/vigil.js`). */
function commandArgv(c: Container, command: string, namespace: string): { argv: string[]; env: Record<string, string> } {
  expect({ container: c.name, command: c.command, first: c.args?.[0] }).toEqual({ container: c.name, command: undefined, first: command });
  const env = processEnv(c, namespace);
  return { argv: expand((c.args ?? []).slice(1), env), env };
}

function portNumber(c: Container, port: string | number): number {
  if (typeof port === 'number') return port;
  const p = c.ports?.find((x) => x.name === port);
  if (!p) throw new Error(`${c.name} has no port named ${port}`);
  return p.containerPort;
}

function hostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i), port: Number(listen.slice(i + 1)) };
}

/** The volume mounted at exactly `dir` (or the directory holding `file`) in a container. */
function mountAt(c: Container, dir: string): { name: string; readOnly?: boolean } {
  const m = c.volumeMounts?.find((x) => x.mountPath === dir);
  if (!m) throw new Error(`${c.name} mounts nothing at ${dir}`);
  return m;
}

function flagValue(args: string[] | undefined, flag: string): string | undefined {
  const a = args?.find((x) => x.startsWith(`${flag}=`));
  return a?.slice(flag.length + 1);
}

/** Where a Prometheus or Alertmanager serves: the path of its --web.external-url, trailing slashes dropped (their own rule). */
function routePrefixOf(server: Container): string {
  return new URL(flagValue(server.args, '--web.external-url') ?? '').pathname.replace(/\/+$/, '');
}

describe.each(CASES)('the chart and the programs agree (%s)', (_name, values, namespace) => {
  const { objects } = synthesize('concrete', values, namespace);
  /** Every Prometheus StatefulSet: one per shard. */
  const prometheusStatefulSets = () => objects.filter((o) => o.kind === 'StatefulSet' && (o.metadata.name === PROMETHEUS_NAME || o.metadata.name.startsWith(`${PROMETHEUS_SHARD_NAME}-`)));
  /** Whether a selector matches the pod template labels of a workload. */
  const selects = (selector: Record<string, string>, workload: KubeObject) => {
    const podLabels = (workload.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    return Object.entries(selector).every(([k, v]) => podLabels[k] === v);
  };
  const operatorPod = podSpecOf(find(objects, 'Deployment', OBJECT_NAMES.operatorServiceAccount));
  const operatorContainer = containerOf(operatorPod, 'operator');
  // Parsed per test (cheap), so that one failure does not cascade into confusing ones.
  const operatorConfig = (): OperatorConfig => {
    const { argv, env } = commandArgv(operatorContainer, 'operator', namespace);
    const parsed = parseOperatorArgs(argv, env);
    if (parsed === 'help') throw new Error('the chart asks for --help');
    return parsed;
  };
  const settingsText = (): string => {
    const file = operatorConfig().settingsFile ?? '';
    const mount = mountAt(operatorContainer, dirname(file));
    const volume = operatorPod.volumes.find((v) => v.name === mount.name) as { configMap?: { name: string } };
    expect(volume.configMap?.name).toBe(SETTINGS_CONFIGMAP);
    const text = (find(objects, 'ConfigMap', SETTINGS_CONFIGMAP).data as Record<string, string>)[basename(file)];
    if (typeof text !== 'string') throw new Error(`--settings=${file}: the ConfigMap has no key ${basename(file)}`);
    return text;
  };
  const chartSettings = (): GlobalSettings => settingsFromYaml(settingsText(), 'settings ConfigMap');

  test('the operator args parse with the real parser and say what the values say', () => {
    const operator = operatorConfig();
    expect(operator).toMatchObject({
      namespace,
      watchNamespaces: values.operator.watchNamespaces,
      selector: values.operator.selector,
      leaderElect: true,
      logLevel: values.operator.logLevel,
      identity: POD_NAME,
    });
    expect(operator.smtpSecret).toBe(values.smtp.credentialsSecret || undefined);
    expect(operator.kubeconfig).toBeUndefined(); // in-cluster
  });

  test("the operator waits for as many sync sidecar reports as the servers' StatefulSets have pods", () => {
    const replicasOf = (name: string) => (find(objects, 'StatefulSet', name).spec as { replicas: number }).replicas;
    const operator = operatorConfig();
    expect({ prometheus: operator.prometheusReplicas ?? 1, alertmanager: operator.alertmanagerReplicas ?? 1 }).toEqual({
      prometheus: replicasOf('vigil-prometheus'),
      alertmanager: replicasOf('vigil-alertmanager'),
    });
  });

  test("the uninstall hook runs vigil uninstall before anything is deleted, as the operator's ServiceAccount, on the operator's namespace and scope, and leaves nothing", () => {
    const job = find(objects, 'Job', UNINSTALL_HOOK_NAME);
    expect(job.metadata.annotations).toEqual({ 'helm.sh/hook': 'pre-delete', 'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded' });
    const pod = podSpecOf(job);
    expect({ serviceAccountName: pod.serviceAccountName, restartPolicy: (pod as { restartPolicy?: string }).restartPolicy }).toEqual({
      serviceAccountName: OBJECT_NAMES.operatorServiceAccount,
      restartPolicy: 'Never',
    });
    const c = containerOf(pod, 'uninstall');
    expect(c.image).toBe(operatorContainer.image);
    const { argv, env } = commandArgv(c, 'uninstall', namespace);
    const parsed = UNINSTALL_COMMAND.parse(argv, env);
    if (parsed === 'help') throw new Error('the chart asks for --help');
    expect({ namespace: parsed.namespace, watchNamespaces: parsed['watch-namespaces'], logLevel: parsed['log-level'], kubeconfig: parsed.kubeconfig }).toEqual({
      namespace: operatorConfig().namespace,
      watchNamespaces: operatorConfig().watchNamespaces,
      logLevel: values.operator.logLevel,
      kubeconfig: undefined,
    });
    // Helm waits for the Job: its deadline is above the command's own wait for the operator.
    expect((job.spec as { activeDeadlineSeconds: number }).activeDeadlineSeconds * 1000).toBeGreaterThan(parsed.timeout);
  });

  test("the operator's scrape job drops the namespace label of every service's scrape errors (the only guard keeping them from tenant rules in the install's namespace)", () => {
    const job = chartSettings().selfScrapeJobs.find((j) => j.job_name === SELF_SCRAPE_JOBS.operator) as { relabel_configs?: Json[]; metric_relabel_configs?: Json[] };
    // The target label it drops: the install's namespace, which every other metric of the operator keeps.
    expect(job.relabel_configs).toContainEqual({ source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' });
    expect(job.metric_relabel_configs).toEqual([{ source_labels: ['__name__'], regex: SCRAPE_ERROR_INFO_METRIC, target_label: 'namespace', replacement: '' }]);
  });

  test('the operator listens where its probes and its scrape job look', () => {
    const operator = operatorConfig();
    const { host, port } = hostPort(operator.listen);
    expect(host).toBe('0.0.0.0');
    expect(operatorContainer.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(operatorContainer.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(portNumber(operatorContainer, operatorContainer.readinessProbe?.httpGet?.port ?? -1)).toBe(port);
    expect(portNumber(operatorContainer, operatorContainer.livenessProbe?.httpGet?.port ?? -1)).toBe(port);
    // --prometheus-url names each shard's Service, on a port that reaches that shard's Prometheus's web port.
    for (let shard = 0; shard < values.prometheus.shards; shard++) {
      const url = new URL(shardUrl(operator.prometheusUrl ?? '', shard));
      const service = find(objects, 'Service', url.hostname).spec as { selector: Record<string, string>; ports: { port: number; targetPort: string }[] };
      const servicePort = service.ports.find((p) => p.port === Number(url.port));
      const workload = find(objects, 'StatefulSet', shardStatefulSet(shard));
      const prometheus = containerOf(podSpecOf(workload), 'prometheus');
      expect(portNumber(prometheus, servicePort?.targetPort ?? -1)).toBe(Number(url.port));
      // It selects the pods of that shard and of no other.
      expect(
        prometheusStatefulSets()
          .filter((w) => selects(service.selector, w))
          .map((w) => w.metadata.name),
      ).toEqual([shardStatefulSet(shard)]);
    }
  });

  test("prometheus.shards: one StatefulSet per shard of prometheus.replicas pods, each sidecar on its shard's main object with its partitions, readable by its ServiceAccount; the operator shards as many", () => {
    const shards = values.prometheus.shards;
    expect(operatorConfig().prometheusShards ?? 1).toBe(shards);
    expect(prometheusStatefulSets().map((w) => w.metadata.name)).toEqual(Array.from({ length: shards }, (_, i) => shardStatefulSet(i)));
    const roleNames = (sa: string) =>
      objects
        .filter((o) => o.kind === 'RoleBinding' && (o.subjects as { name: string }[]).some((x) => x.name === sa))
        .flatMap((b) => find(objects, 'Role', (b.roleRef as { name: string }).name).rules as { resources: string[]; resourceNames?: string[] }[])
        .filter((r) => r.resources.includes('configmaps'))
        .flatMap((r) => r.resourceNames ?? []);
    for (let shard = 0; shard < shards; shard++) {
      const workload = find(objects, 'StatefulSet', shardStatefulSet(shard));
      expect((workload.spec as { replicas: number }).replicas).toBe(values.prometheus.replicas);
      const pod = podSpecOf(workload);
      const { argv, env } = commandArgv(containerOf(pod, 'config-sync'), 'sync', namespace);
      const sync = parseSyncArgs(argv, env);
      expect(sync).toMatchObject({ kind: 'ConfigMap', name: shardObjectName(OBJECT_NAMES.prometheusConfigMap, shard), partitions: true });
      expect(roleNames(pod.serviceAccountName ?? '')).toContain(shardObjectName(OBJECT_NAMES.prometheusConfigMap, shard));
      // Its pods are its own: no other shard's StatefulSet selects them.
      expect(
        prometheusStatefulSets()
          .filter((w) => selects((w.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels, workload))
          .map((w) => w.metadata.name),
      ).toEqual([shardStatefulSet(shard)]);
    }
    expect(roleNames(OBJECT_NAMES.prometheusServiceAccount).filter((n) => n.startsWith(OBJECT_NAMES.prometheusConfigMap))).toEqual(
      Array.from({ length: shards }, (_, i) => shardObjectName(OBJECT_NAMES.prometheusConfigMap, i)),
    );
  });

  test('thanos.enabled: Thanos Query reads every Prometheus pod of every shard (a dns+ endpoint per headless Service selecting them), deduplicating on the replica label', () => {
    const query = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === THANOS_QUERY_NAME);
    if (!values.thanos.enabled) {
      expect(query).toBeUndefined();
      return;
    }
    const args = containerOf(podSpecOf(query as KubeObject), 'thanos-query').args ?? [];
    expect(args).toContain(`--query.replica-label=${REPLICA_EXTERNAL_LABEL}`);
    const endpoints = args.filter((a) => a.startsWith('--endpoint=')).map((a) => /^--endpoint=dns\+([^.]+)\.([^.]+)\.svc:(\d+)$/.exec(a));
    const reached = endpoints.map((m) => {
      expect(m?.[2]).toBe(namespace);
      const service = find(objects, 'Service', m?.[1] ?? '').spec as { clusterIP?: string; selector: Record<string, string>; ports: { port: number; targetPort: string }[] };
      expect(service.clusterIP).toBe('None');
      expect(service.ports.find((p) => p.port === Number(m?.[3]))?.targetPort).toBe('grpc');
      return prometheusStatefulSets()
        .filter((w) => selects(service.selector, w))
        .map((w) => w.metadata.name);
    });
    expect(reached.flat().sort()).toEqual(Array.from({ length: values.prometheus.shards }, (_, i) => shardStatefulSet(i)).sort());
    for (const w of prometheusStatefulSets()) expect(containerOf(podSpecOf(w), 'thanos-sidecar').ports?.find((p) => p.name === 'grpc')).toBeDefined();
  });

  test('the settings ConfigMap is what --settings points at, and the operator accepts it', () => {
    const settings = chartSettings();
    expect(settings).toMatchObject({
      profile: values.profile,
      scrapeInterval: values.scrapeInterval,
      evaluationInterval: values.evaluationInterval,
      defaultRecipients: values.smtp.defaultRecipients,
      prometheusUrl: values.prometheus.externalUrl,
      alertmanagerUrl: values.alertmanager.externalUrl,
      externalLabels: { cluster: values.clusterName },
      smtp: { from: values.smtp.from, hello: values.smtp.hello },
    });
    if (values.mailCatcher.enabled) expect(settings.smtp).toMatchObject({ smarthost: 'vigil-mail-catcher:465', requireTls: false });
    else expect(settings.smtp).toMatchObject({ smarthost: values.smtp.smarthost, requireTls: values.smtp.requireTls, tlsInsecureSkipVerify: values.smtp.insecureSkipVerify });
    expect(settings.smtp.authUsername).toBeUndefined();
    expect(settings.smtp.authPassword).toBeUndefined();
  });

  test('new settings restart the operator: the pod template carries their checksum', () => {
    const annotations = (find(objects, 'Deployment', OBJECT_NAMES.operatorServiceAccount).spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata.annotations;
    expect(annotations?.[SETTINGS_CHECKSUM_ANNOTATION]).toMatch(/^[0-9a-f]{64}$/);
    const other = synthesize('concrete', { ...values, scrapeInterval: values.scrapeInterval === '30s' ? '20s' : '30s' }, namespace).objects;
    const otherAnnotations = (find(other, 'Deployment', OBJECT_NAMES.operatorServiceAccount).spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata
      .annotations;
    expect(otherAnnotations?.[SETTINGS_CHECKSUM_ANNOTATION]).toMatch(/^[0-9a-f]{64}$/);
    expect(otherAnnotations?.[SETTINGS_CHECKSUM_ANNOTATION]).not.toBe(annotations?.[SETTINGS_CHECKSUM_ANNOTATION]);
  });

  test("the operator polls, Prometheus's self-scrape and alerts, and helm test all go under the servers' route prefixes", () => {
    const prometheus = containerOf(podSpecOf(find(objects, 'StatefulSet', 'vigil-prometheus')), 'prometheus');
    const alertmanager = containerOf(podSpecOf(find(objects, 'StatefulSet', 'vigil-alertmanager')), 'alertmanager');
    const [promPrefix, amPrefix] = [routePrefixOf(prometheus), routePrefixOf(alertmanager)];
    const operator = operatorConfig();
    expect(new URL(operator.prometheusUrl ?? '').pathname.replace(/\/$/, '')).toBe(promPrefix);
    expect(new URL(operator.alertmanagerUrl ?? '').pathname.replace(/\/$/, '')).toBe(amPrefix);
    const settings = chartSettings();
    const rendered = renderConfig([], settings).prometheus['prometheus.yml'] ?? '';
    const doc = parse(rendered) as { alerting: { alertmanagers: { path_prefix?: string }[] }; scrape_configs: { job_name: string; metrics_path?: string }[] };
    expect(doc.alerting.alertmanagers[0]?.path_prefix ?? '').toBe(amPrefix);
    expect(doc.scrape_configs.find((j) => j.job_name === 'prometheus')?.metrics_path ?? '/metrics').toBe(`${promPrefix}/metrics`);
    const helmTest = (find(objects, 'Pod', OBJECT_NAMES.helmTestPod).spec as PodSpec).containers[0]?.args ?? [];
    expect(helmTest.map((u) => new URL(u).pathname)).toEqual([`${promPrefix}/-/ready`, `${amPrefix}/-/ready`]);
  });

  test('the settings point at this rendering: every Alertmanager replica, the rules directory, the SMTP CA', () => {
    const settings = chartSettings();
    const am = find(objects, 'StatefulSet', 'vigil-alertmanager');
    const amSpec = am.spec as { replicas: number; serviceName: string };
    expect(settings.alertmanagerTargets).toEqual(Array.from({ length: amSpec.replicas }, (_, i) => `vigil-alertmanager-${i}.${amSpec.serviceName}.${namespace}.svc:9093`));
    expect(find(objects, 'Service', amSpec.serviceName).spec).toMatchObject({ clusterIP: 'None' });
    const promSync = containerOf(podSpecOf(find(objects, 'StatefulSet', 'vigil-prometheus')), 'config-sync');
    expect(settings.rulesDir).toBe(flagValue(promSync.args, '--dir'));
    if (settings.smtp.tlsCaFile) {
      const alertmanager = containerOf(podSpecOf(am), 'alertmanager');
      expect(alertmanager.volumeMounts?.some((m) => posix.dirname(settings.smtp.tlsCaFile as string) === m.mountPath)).toBe(true);
    }
    // And the operator can render with them: rule files land where Prometheus looks.
    const rendered = renderConfig([], settings);
    expect(rendered.prometheus['prometheus.yml']).toContain(`${settings.rulesDir}/*`);
    expect(rendered.alertmanager['alertmanager.yml']).toBeDefined();
  });

  describe.each([
    ['vigil-prometheus', 'prometheus', 'ConfigMap', OBJECT_NAMES.prometheusConfigMap, 'prometheus.yml'],
    ['vigil-alertmanager', 'alertmanager', 'Secret', OBJECT_NAMES.alertmanagerSecret, 'alertmanager.yml'],
  ] as const)('%s and its sync sidecar', (workload, server, kind, objectName, configFile) => {
    const pod = podSpecOf(find(objects, 'StatefulSet', workload));
    const sync = containerOf(pod, 'config-sync');
    const serverContainer = containerOf(pod, server);
    const syncConfig = (): SyncConfig => {
      const { argv, env } = commandArgv(sync, 'sync', namespace);
      const parsed = parseSyncArgs(argv, env);
      if (parsed === 'help') throw new Error('the chart asks for --help');
      return parsed;
    };

    test('the sync args parse with the real parser and name the generated object', () => {
      const config = syncConfig();
      expect(config).toMatchObject({ namespace, kind, name: objectName, server });
      expect(config.kubeconfig).toBeUndefined();
    });

    test("each pod's sidecar reports as its StatefulSet ordinal, from its pod name", () => {
      const { argv, env } = commandArgv(sync, 'sync', namespace);
      expect(env.POD_NAME).toBe(POD_NAME); // the downward API's metadata.name
      expect(parseSyncArgs(argv, { ...env, POD_NAME: `${workload}-1` })).toMatchObject({ replica: 1, podName: `${workload}-1` });
      expect(parseSyncArgs(argv, { ...env, POD_NAME: `${workload}-0` })).toMatchObject({ replica: 0 });
    });

    test('it writes into the volume the server reads its config from, and a bootstrap config is there first', () => {
      const config = syncConfig();
      const configPath = flagValue(serverContainer.args, '--config.file');
      expect(configPath).toBe(posix.join(config.dir, configFile));
      const syncMount = mountAt(sync, config.dir);
      const serverMount = mountAt(serverContainer, config.dir);
      expect(serverMount.name).toBe(syncMount.name);
      expect(syncMount.readOnly).toBeFalsy();
      // Prometheus and Alertmanager refuse to start without a config file, and the sidecar writes the
      // generated one only once it has read it from the API: an init container puts a bootstrap
      // config in place before either container starts.
      const bootstrap = (pod.initContainers ?? []).find((c) => c.command?.[0] === 'cp');
      expect(bootstrap?.command?.at(-1)).toBe(configPath);
      expect(bootstrap && mountAt(bootstrap, config.dir).name).toBe(syncMount.name);
      expect(bootstrap?.restartPolicy).toBeUndefined(); // a plain init container: it finishes before the server starts
    });

    test('it reloads and waits for the server in the same pod', () => {
      const config = syncConfig();
      const web = serverContainer.ports?.find((p) => p.name === 'http-web')?.containerPort;
      const prefix = routePrefixOf(serverContainer);
      expect(config.reloadUrl).toBe(`http://127.0.0.1:${web}${prefix}/-/reload`);
      expect(config.readyUrl).toBe(`http://127.0.0.1:${web}${prefix}/-/ready`);
      // The external URL is the one of the values (the links in the emails), its path the route prefix.
      expect(flagValue(serverContainer.args, '--web.external-url')).toBe(values[server].externalUrl);
    });

    test("the server's probes look under its route prefix", () => {
      const prefix = routePrefixOf(serverContainer);
      expect(serverContainer.readinessProbe?.httpGet?.path).toBe(`${prefix}/-/ready`);
      expect(serverContainer.livenessProbe?.httpGet?.path).toBe(`${prefix}/-/healthy`);
      if (server === 'prometheus') expect(serverContainer.args).toContain('--web.enable-lifecycle'); // POST /-/reload
    });

    test('it listens where its probe looks', () => {
      const config = syncConfig();
      const { host, port } = hostPort(config.listen);
      expect(host).toBe('0.0.0.0');
      expect(sync.livenessProbe?.httpGet?.path).toBe('/healthz');
      expect(portNumber(sync, sync.livenessProbe?.httpGet?.port ?? -1)).toBe(port);
    });

    test('the server can read the files the sidecar writes (Secret files are mode 0640)', () => {
      const uid = (c: Container) => c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
      const gid = (c: Container) => c.securityContext?.runAsGroup ?? pod.securityContext?.runAsGroup;
      // Owner read: the same user writes and reads. The pod's fsGroup is also the group of every file
      // in the emptyDir (its setgid bit), so group read would hold too if the users ever diverged.
      expect({ writer: [uid(sync), gid(sync)], reader: [uid(serverContainer), gid(serverContainer)] }).toEqual({ writer: [65534, 65534], reader: [65534, 65534] });
      expect(pod.securityContext?.fsGroup).toBe(65534);
    });

    test('its ServiceAccount may read and annotate exactly that object', () => {
      const sa = pod.serviceAccountName;
      const bindings = objects.filter((o) => o.kind === 'RoleBinding' && (o.subjects as { name: string; namespace: string }[]).some((s) => s.name === sa && s.namespace === namespace));
      const rules = bindings.flatMap((b) => find(objects, 'Role', (b.roleRef as { name: string }).name).rules as { resources: string[]; verbs: string[]; resourceNames?: string[] }[]);
      const resource = kind === 'ConfigMap' ? 'configmaps' : 'secrets';
      const rule = rules.find((r) => r.resources.includes(resource));
      // Prometheus's: also the other shards' main objects (the test above).
      expect(rule).toMatchObject({ resourceNames: kind === 'ConfigMap' ? expect.arrayContaining([objectName]) : [objectName], verbs: expect.arrayContaining(['get', 'list', 'watch', 'patch']) });
      expect(rules.some((r) => r.resources.includes('events'))).toBe(true);
    });
  });
});

describe('RBAC: the chart installs exactly operator/rbac-objects.ts', () => {
  const RBAC_KINDS = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
  /** The chart adds `app.kubernetes.io/name` (its component grouping); everything else must match. */
  const withoutNameLabel = (o: KubeObject): KubeObject => {
    const copy = structuredClone(o);
    delete copy.metadata.labels?.['app.kubernetes.io/name'];
    return copy;
  };
  const key = (o: KubeObject) => `${o.kind}/${o.metadata.name}`;

  test.each(['vigil-system', 'monitoring'])('install namespace %s', (namespace) => {
    const chart = synthesize('concrete', DEFAULT_VALUES, namespace)
      .objects.filter((o) => RBAC_KINDS.includes(o.kind))
      .map(withoutNameLabel)
      .sort((a, b) => key(a).localeCompare(key(b)));
    const expected = (rbacObjects(namespace) as KubeObject[]).slice().sort((a, b) => key(a).localeCompare(key(b)));
    expect(chart.map(key)).toEqual(expected.map(key));
    chart.forEach((o, i) => expect(o).toEqual(expected[i]));
    // ClusterRoles are global: their names carry the namespace so two installs do not collide.
    expect(chart.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name)).toEqual([
      `vigil-operator-${namespace}`,
      `vigil-prometheus-${namespace}`,
      `vigil-scrape-credentials-reader-${namespace}`,
    ]);
    // The scrape-credentials reader is bound by namespace owners, never by the chart.
    expect(chart.filter((o) => o.kind === 'ClusterRoleBinding').map((o) => (o as { roleRef?: { name: string } }).roleRef?.name)).not.toContain(`vigil-scrape-credentials-reader-${namespace}`);
  });
});
