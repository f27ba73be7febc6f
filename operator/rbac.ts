// Least-privilege RBAC for every Vigil identity, as data. The cdk8s app renders these rules into
// the chart, and the integration tests check them with `kubectl auth can-i` against a real API server.
// Cluster-wide rules go in ClusterRoles; anything touching ConfigMaps, Secrets or Leases is
// namespaced (the install namespace) so nothing can read Secrets outside its own namespace, except
// the operator's read of other installs' Leases, by name only.

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

import { OBJECT_NAMES } from './contract.js';

/** Names of the objects Vigil creates in its install namespace (operator/contract.ts). */
export { OBJECT_NAMES };

/**
 * Operator, cluster-wide: read MonitoredServices everywhere, write their status, emit Events; read
 * Services to say in status what a selector and port find (a missing port, no matching Service,
 * Services over the same pods; issue #15).
 */
export const OPERATOR_CLUSTER_RULES: PolicyRule[] = [
  { apiGroups: ['vigil.dev'], resources: ['monitoredservices'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['vigil.dev'], resources: ['monitoredservices/status'], verbs: ['get', 'patch', 'update'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  // Whether the install holding a claim still runs (controller/install-liveness.ts): one GET of its Lease, by name.
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get'], resourceNames: [OBJECT_NAMES.leaderLease] },
];

/**
 * Reading the Secrets/ConfigMaps a MonitoredService's tlsConfig, authorization and basicAuth name
 * (controller/scrape-credentials.ts: one watch per object, by name, in the MonitoredService's own
 * namespace). Granted per namespace by the namespace's owners, never cluster-wide: the chart ships
 * this ClusterRole without any binding, and a team binds it in its own namespace to the operator's
 * ServiceAccount (RoleBinding), or writes a Role naming only the Secrets it uses (resourceNames:
 * the operator's list and watch select by metadata.name, which such a Role permits).
 */
export const SCRAPE_CREDENTIALS_READER_RULES: PolicyRule[] = [{ apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['get', 'list', 'watch'] }];

/** Base name of that ClusterRole (rbac-objects.ts clusterRoleName adds the install namespace). */
export const SCRAPE_CREDENTIALS_READER = 'vigil-scrape-credentials-reader';

/** Operator, install namespace only: the generated ConfigMap/Secret, SMTP credentials, its leader Lease. */
export const OPERATOR_NAMESPACE_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];

/**
 * The `helm test` pod: makes itself owned by the settings ConfigMap so that `helm uninstall` garbage-collects it.
 * Helm never deletes test hooks on uninstall, and deleting the pod on success breaks `helm test --logs` (issue #9).
 */
export const HELM_TEST_NAMESPACE_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: [OBJECT_NAMES.settingsConfigMap] },
  { apiGroups: [''], resources: ['pods'], verbs: ['patch'], resourceNames: [OBJECT_NAMES.helmTestPod] },
];

/** Prometheus service discovery, cluster-wide read of what it scrapes. */
export const PROMETHEUS_CLUSTER_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['services', 'endpoints', 'pods'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
];

/**
 * Sync sidecar in the Prometheus pod: its one ConfigMap, read and annotate with the applied hash;
 * the operator's scrape-credentials Secret, read only.
 */
export const PROMETHEUS_SYNC_NAMESPACE_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'patch'], resourceNames: [OBJECT_NAMES.prometheusConfigMap] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'], resourceNames: [OBJECT_NAMES.scrapeCredentialsSecret] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];

/**
 * The Prometheus sync sidecar with `--partitions` (sync/partitions.ts): the partition objects are
 * found by label, and RBAC cannot limit list or watch to a label, so this is read access to the
 * install namespace's ConfigMaps (no Secrets: those hold the SMTP and scrape credentials; no
 * write: the sidecar patches only its main object, by name). Bound together with the operator's
 * writing of partitioned configs (not yet in the chart).
 */
export const PROMETHEUS_SYNC_PARTITION_RULES: PolicyRule[] = [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] }];

/**
 * The operator with `--config-partitions`: partition objects the main object no longer names are
 * deleted (their names are not known in advance, so no resourceNames). Bound only with that flag.
 */
export const OPERATOR_PARTITION_RULES: PolicyRule[] = [{ apiGroups: [''], resources: ['configmaps'], verbs: ['delete'] }];

/** Sync sidecar in the Alertmanager pod: its one Secret, read and annotate with the applied hash. */
export const ALERTMANAGER_SYNC_NAMESPACE_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'patch'], resourceNames: [OBJECT_NAMES.alertmanagerSecret] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];
