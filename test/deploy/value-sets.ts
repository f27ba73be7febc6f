// Value sets the deployment tests render the chart with: between them they flip every switch.
import type { VigilValuesInput } from '../../cdk8s/values.js';

/** Everything the other way round from the production defaults. */
export const OTHER_WAY: VigilValuesInput = {
  // Not demo: demo with several Alertmanager replicas is refused (cdk8s/values.ts, HA_DEMO_REFUSAL);
  // the kind values cover the demo profile, this set the clustered Alertmanager.
  profile: 'production',
  smtp: {
    smarthost: 'smtp.example.com:587',
    hello: 'alerts.example.com',
    credentialsSecret: 'smtp-credentials',
    defaultRecipients: ['a@example.com', 'b@example.com'],
    insecureSkipVerify: true,
  },
  operator: { replicas: 3, watchNamespaces: ['team-a', 'team-b'], selector: 'vigil.dev/install in (team-a,shared)', logLevel: 'debug', extraArgs: ['--log-level=debug'] },
  prometheus: { extraArgs: ['--query.timeout=1m'], persistence: { enabled: true, size: '50Gi', storageClassName: 'fast-ssd' }, service: { type: 'NodePort', nodePort: null } },
  alertmanager: { replicas: 3, extraArgs: ['--log.level=debug'] },
  mailCatcher: { enabled: true, kind: 'mailhog' },
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'monitoring', operator: 'Exists', effect: 'NoSchedule' }],
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'monitoring', operator: 'In', values: ['dedicated'] }] }] } } },
  priorityClassName: 'monitoring-critical',
  imagePullSecrets: [{ name: 'regcred' }],
  podAnnotations: { 'example.com/team': 'sre' },
};
