// Installs Vigil's RBAC (operator/rbac-objects.ts, the same objects the chart ships) into a harness cluster.
import { rbacObjects } from '../../operator/rbac-objects.js';
import { OBJECT_NAMES } from '../../operator/rbac.js';
import type { Cluster } from './cluster.js';

export const DEFAULT_INSTALL_NAMESPACE = 'vigil-system';

/** The user name Kubernetes gives a ServiceAccount, for `--as` and RBAC subjects. */
export function serviceAccountUser(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** Creates the install namespace and applies every ServiceAccount, (Cluster)Role and binding. */
export async function installRbac(cluster: Cluster, installNamespace = DEFAULT_INSTALL_NAMESPACE, opts: { configPartitions?: boolean } = {}): Promise<void> {
  await cluster.ensureNamespace(installNamespace);
  // As the chart: with the roles of a partitioned Prometheus config unless told otherwise.
  await cluster.apply(rbacObjects(installNamespace, { configPartitions: opts.configPartitions ?? true }), { fieldManager: 'vigil-rbac' });
}

/** Kubeconfigs authenticating as Vigil's ServiceAccounts (token from the TokenRequest API). */
export async function vigilKubeconfigs(cluster: Cluster, installNamespace = DEFAULT_INSTALL_NAMESPACE) {
  return {
    operator: await cluster.createServiceAccountKubeconfig(installNamespace, OBJECT_NAMES.operatorServiceAccount),
    prometheus: await cluster.createServiceAccountKubeconfig(installNamespace, OBJECT_NAMES.prometheusServiceAccount),
    alertmanager: await cluster.createServiceAccountKubeconfig(installNamespace, OBJECT_NAMES.alertmanagerServiceAccount),
  };
}
