// Unit test of the pure RBAC object builder shared by the chart and the harness.
import { rbacObjects, type KubeObject } from '../../operator/rbac-objects.js';
import { OBJECT_NAMES, OPERATOR_CLUSTER_RULES, PROMETHEUS_SYNC_NAMESPACE_RULES } from '../../operator/rbac.js';

const names = (objs: KubeObject[], kind: string) =>
  objs
    .filter((o) => o.kind === kind)
    .map((o) => o.metadata.name)
    .sort();

test('one ServiceAccount per identity, namespaced objects in the install namespace', () => {
  const objs = rbacObjects('monitoring');
  expect(names(objs, 'ServiceAccount')).toEqual(['vigil-alertmanager', 'vigil-operator', 'vigil-prometheus', 'vigil-test']);
  expect(names(objs, 'Role')).toEqual(['vigil-alertmanager-sync', 'vigil-operator', 'vigil-operator-partitions', 'vigil-prometheus-sync', 'vigil-prometheus-sync-partitions', 'vigil-test']);
  expect(names(objs, 'ClusterRole')).toEqual(['vigil-operator-monitoring', 'vigil-prometheus-monitoring', 'vigil-scrape-credentials-reader-monitoring']);
  // The scrape-credentials reader is shipped unbound: namespace owners bind it in their namespace.
  expect(names(objs, 'ClusterRoleBinding')).toEqual(['vigil-operator-monitoring', 'vigil-prometheus-monitoring']);
  for (const o of objs) {
    const clusterScoped = o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding';
    expect(o.metadata.namespace).toBe(clusterScoped ? undefined : 'monitoring');
    expect(o.metadata.labels?.['app.kubernetes.io/part-of']).toBe('vigil');
  }
});

test('without a partitioned config: no partition roles', () => {
  expect(names(rbacObjects('monitoring', { configPartitions: false }), 'Role')).toEqual(['vigil-alertmanager-sync', 'vigil-operator', 'vigil-prometheus-sync', 'vigil-test']);
});

test('every binding names an existing role and a ServiceAccount of this install', () => {
  const objs = rbacObjects('vigil-system', { labels: { release: 'r1' } });
  const sas = new Set(names(objs, 'ServiceAccount'));
  for (const b of objs.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
    const roleRef = b.roleRef as { kind: string; name: string };
    expect(names(objs, roleRef.kind)).toContain(roleRef.name);
    const subjects = b.subjects as { kind: string; name: string; namespace: string }[];
    expect(subjects).toHaveLength(1);
    expect(subjects[0]?.kind).toBe('ServiceAccount');
    expect(subjects[0]?.namespace).toBe('vigil-system');
    expect(sas.has(subjects[0]!.name)).toBe(true);
    expect(b.metadata.labels?.release).toBe('r1');
  }
  const promSync = objs.find((o) => o.kind === 'RoleBinding' && o.metadata.name === 'vigil-prometheus-sync');
  expect((promSync?.subjects as { name: string }[])[0]?.name).toBe(OBJECT_NAMES.prometheusServiceAccount);
});

test('rules are the ones from rbac.ts, copied so callers cannot change them', () => {
  const objs = rbacObjects('vigil-system');
  const operatorRole = objs.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'vigil-operator-vigil-system');
  expect(operatorRole?.rules).toEqual(OPERATOR_CLUSTER_RULES);
  const syncRole = objs.find((o) => o.kind === 'Role' && o.metadata.name === 'vigil-prometheus-sync');
  expect(syncRole?.rules).toEqual(PROMETHEUS_SYNC_NAMESPACE_RULES);
  (syncRole?.rules as { verbs: string[] }[])[0]!.verbs.push('delete');
  expect(PROMETHEUS_SYNC_NAMESPACE_RULES[0]?.verbs).not.toContain('delete');
  expect(rbacObjects('vigil-system')).toEqual(rbacObjects('vigil-system'));
});
