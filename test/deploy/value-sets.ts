// Value sets the deployment tests render the chart with: between them they flip every switch.
import { REAL_CLUSTER_VALUES, type VigilValuesInput } from '../../cdk8s/values.js';
import { IMAGE_DEFAULTS } from '../../cdk8s/versions.js';

/** What a real cluster sets (docs/deployment.md): registry, external URLs under path prefixes, SMTP server, default recipients. */
export const REAL_CLUSTER: VigilValuesInput = REAL_CLUSTER_VALUES;

/** Everything the other way round from the production defaults. */
export const OTHER_WAY: VigilValuesInput = {
  // Not demo: demo with several Alertmanager replicas is refused (cdk8s/values.ts, HA_DEMO_REFUSAL);
  // the kind values cover the demo profile, this set the clustered Alertmanager.
  profile: 'production',
  global: { imageRegistry: 'registry.example.com:5000/platform' },
  smtp: {
    smarthost: 'smtp.example.com:587',
    hello: 'alerts.example.com',
    credentialsSecret: 'smtp-credentials',
    defaultRecipients: ['a@example.com', 'b@example.com'],
    insecureSkipVerify: true,
  },
  operator: { replicas: 3, watchNamespaces: ['team-a', 'team-b'], selector: 'vigil.dev/install in (team-a,shared)', logLevel: 'debug', extraArgs: ['--log-level=debug'] },
  prometheus: {
    // A route prefix with a trailing slash and an upstream image from a mirror.
    externalUrl: 'https://example.com/monitoring/prometheus/',
    image: { registry: 'mirror.example.com', repository: 'prometheus/prometheus', tag: IMAGE_DEFAULTS.prometheus.tag },
    extraArgs: ['--query.timeout=1m'],
    persistence: { enabled: true, size: '50Gi', storageClassName: 'fast-ssd' },
    service: { type: 'NodePort', nodePort: null },
    replicas: 2,
    shards: 3,
    remoteWrite: [{ url: 'https://metrics.example.com/api/v1/write', queue_config: { max_shards: 10 }, write_relabel_configs: [{ source_labels: ['__name__'], regex: 'up', action: 'keep' }] }],
  },
  thanos: { enabled: true, query: { replicas: 2, service: { type: 'NodePort', nodePort: 30902 }, extraArgs: ['--query.timeout=1m'] } },
  alertmanager: {
    replicas: 3,
    externalUrl: 'http://alertmanager.example.com:8080/am',
    extraArgs: ['--log.level=debug'],
    maintenanceInterval: '30s',
    persistence: { enabled: true, size: '2Gi', storageClassName: 'fast-ssd' },
  },
  mailCatcher: { enabled: true, kind: 'mailhog' },
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'monitoring', operator: 'Exists', effect: 'NoSchedule' }],
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'monitoring', operator: 'In', values: ['dedicated'] }] }] } } },
  priorityClassName: 'monitoring-critical',
  imagePullSecrets: [{ name: 'regcred' }],
  podAnnotations: { 'example.com/team': 'sre' },
  // Merged field by field over the defaults; 0 = no ceiling.
  scrapeLimits: { defaults: { sampleLimit: 20000, bodySizeLimit: '16MiB' }, ceilings: { sampleLimit: 0, labelLimit: 100 } },
};
