// The Kubernetes RBAC objects for one Vigil installation, built from the rules in rbac.ts.
// Pure data: the cdk8s chart and the integration-test harness both apply exactly these objects,
// so what `kubectl auth can-i` proves in the tests is what the chart installs.
import {
  ALERTMANAGER_SYNC_NAMESPACE_RULES,
  HELM_TEST_NAMESPACE_RULES,
  OBJECT_NAMES,
  OPERATOR_CLUSTER_RULES,
  OPERATOR_NAMESPACE_RULES,
  OPERATOR_PARTITION_RULES,
  PROMETHEUS_CLUSTER_RULES,
  PROMETHEUS_SYNC_NAMESPACE_RULES,
  PROMETHEUS_SYNC_PARTITION_RULES,
  SCRAPE_CREDENTIALS_READER,
  SCRAPE_CREDENTIALS_READER_RULES,
  type PolicyRule,
} from './rbac.js';
import { shardObjectName } from './contract.js';

export interface RbacObjectOptions {
  /** Labels put on every object (the chart adds its standard labels). */
  labels?: Record<string, string>;
  /**
   * A partitioned Prometheus config (`vigil operator --config-partitions`, `vigil sync --partitions`,
   * as the chart runs them): also the operator's delete of ConfigMaps and the Prometheus sidecar's
   * list and watch of them. Default true; false for an operator that writes the config in one object.
   */
  configPartitions?: boolean;
  /**
   * Prometheus shards (`vigil operator --prometheus-shards`, docs/contract.md "Shards"): the
   * Prometheus sidecars' ServiceAccount may read and annotate the main object of every shard. Default 1.
   */
  prometheusShards?: number;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

/** One identity: its ServiceAccount and what it may do, cluster-wide and in the install namespace. */
interface Identity {
  serviceAccount: string;
  component: string;
  clusterRole?: { name: string; rules: PolicyRule[] };
  namespaceRoles: { name: string; rules: PolicyRule[] }[];
  /** ClusterRoles shipped without a binding: namespace owners bind them where they want this identity to have them. */
  unboundClusterRoles?: { name: string; rules: PolicyRule[] }[];
}

/** The ClusterRole names are global: they carry the install namespace so two installs do not collide. */
export function clusterRoleName(base: string, installNamespace: string): string {
  return `${base}-${installNamespace}`;
}

/** PROMETHEUS_SYNC_NAMESPACE_RULES naming the main object of each of `shards` shards where they name shard 0's. */
function prometheusSyncRules(shards: number): PolicyRule[] {
  const names = Array.from({ length: shards }, (_, i) => shardObjectName(OBJECT_NAMES.prometheusConfigMap, i));
  return PROMETHEUS_SYNC_NAMESPACE_RULES.map((r) => (r.resourceNames?.includes(OBJECT_NAMES.prometheusConfigMap) ? { ...r, resourceNames: names } : r));
}

function identities(installNamespace: string, configPartitions: boolean, prometheusShards: number): Identity[] {
  const partitionRole = (name: string, rules: PolicyRule[]) => (configPartitions ? [{ name: `${name}-partitions`, rules }] : []);
  return [
    {
      serviceAccount: OBJECT_NAMES.operatorServiceAccount,
      component: 'operator',
      clusterRole: { name: clusterRoleName(OBJECT_NAMES.operatorServiceAccount, installNamespace), rules: OPERATOR_CLUSTER_RULES },
      namespaceRoles: [{ name: OBJECT_NAMES.operatorServiceAccount, rules: OPERATOR_NAMESPACE_RULES }, ...partitionRole(OBJECT_NAMES.operatorServiceAccount, OPERATOR_PARTITION_RULES)],
      unboundClusterRoles: [{ name: clusterRoleName(SCRAPE_CREDENTIALS_READER, installNamespace), rules: SCRAPE_CREDENTIALS_READER_RULES }],
    },
    {
      // The Prometheus pod's ServiceAccount serves both Prometheus (service discovery) and its sync sidecar.
      serviceAccount: OBJECT_NAMES.prometheusServiceAccount,
      component: 'prometheus',
      clusterRole: { name: clusterRoleName(OBJECT_NAMES.prometheusServiceAccount, installNamespace), rules: PROMETHEUS_CLUSTER_RULES },
      namespaceRoles: [
        { name: `${OBJECT_NAMES.prometheusServiceAccount}-sync`, rules: prometheusSyncRules(prometheusShards) },
        ...partitionRole(`${OBJECT_NAMES.prometheusServiceAccount}-sync`, PROMETHEUS_SYNC_PARTITION_RULES),
      ],
    },
    {
      serviceAccount: OBJECT_NAMES.alertmanagerServiceAccount,
      component: 'alertmanager',
      namespaceRoles: [{ name: `${OBJECT_NAMES.alertmanagerServiceAccount}-sync`, rules: ALERTMANAGER_SYNC_NAMESPACE_RULES }],
    },
    {
      serviceAccount: OBJECT_NAMES.helmTestServiceAccount,
      component: 'helm-test',
      namespaceRoles: [{ name: OBJECT_NAMES.helmTestServiceAccount, rules: HELM_TEST_NAMESPACE_RULES }],
    },
  ];
}

/** Deep copies so that callers (cdk8s constructs mutate) never change the shared rule constants. */
function copyRules(rules: PolicyRule[]): PolicyRule[] {
  return rules.map((r) => ({
    apiGroups: [...r.apiGroups],
    resources: [...r.resources],
    verbs: [...r.verbs],
    ...(r.resourceNames ? { resourceNames: [...r.resourceNames] } : {}),
  }));
}

/**
 * ServiceAccounts, ClusterRoles + ClusterRoleBindings and Roles + RoleBindings (in the install
 * namespace) for the operator, Prometheus (+ its sync sidecar) and Alertmanager's sync sidecar.
 * The install namespace itself is not included: whoever installs creates it.
 */
export function rbacObjects(installNamespace: string, opts: RbacObjectOptions = {}): KubeObject[] {
  const meta = (name: string, component: string, namespaced: boolean) => ({
    name,
    ...(namespaced ? { namespace: installNamespace } : {}),
    labels: { 'app.kubernetes.io/part-of': 'vigil', 'app.kubernetes.io/component': component, ...opts.labels },
  });
  const objects: KubeObject[] = [];
  for (const id of identities(installNamespace, opts.configPartitions ?? true, opts.prometheusShards ?? 1)) {
    const subject = { kind: 'ServiceAccount', name: id.serviceAccount, namespace: installNamespace };
    objects.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(id.serviceAccount, id.component, true) });
    if (id.clusterRole) {
      objects.push(
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(id.clusterRole.name, id.component, false), rules: copyRules(id.clusterRole.rules) },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: meta(id.clusterRole.name, id.component, false),
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: id.clusterRole.name },
          subjects: [subject],
        },
      );
    }
    for (const role of id.unboundClusterRoles ?? []) {
      objects.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(role.name, id.component, false), rules: copyRules(role.rules) });
    }
    for (const role of id.namespaceRoles) {
      objects.push(
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(role.name, id.component, true), rules: copyRules(role.rules) },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: meta(role.name, id.component, true),
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.name },
          subjects: [subject],
        },
      );
    }
  }
  return objects;
}
