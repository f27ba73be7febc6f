// A component's ServiceAccount and roles, taken verbatim from operator/rbac-objects.ts: that module
// is the one place RBAC objects are built (from the rules in operator/rbac.ts), and the integration
// tests prove those very objects with `kubectl auth can-i` against a real API server. Here they only
// get the chart's labels and the Helm namespace (in helm mode `ctx.namespace` is a token, so the
// ClusterRole names become `vigil-operator-{{ .Release.Namespace }}`: two releases in two
// namespaces do not collide).
import { Construct } from 'constructs';
import { kubeObject, type Count, type RenderContext } from '../context.js';
import { labels } from './common.js';
import { rbacObjects } from '../../operator/rbac-objects.js';
import { OBJECT_NAMES, type PolicyRule } from '../../operator/rbac.js';

/** The `app.kubernetes.io/component` values rbacObjects gives each identity. */
export type RbacComponent = 'operator' | 'prometheus' | 'alertmanager' | 'helm-test';

export interface IdentityProps {
  ctx: RenderContext;
  /** Which identity of rbacObjects this is. */
  component: RbacComponent;
  /** `app.kubernetes.io/name` of the workload (labels and manifest grouping). */
  name: string;
  /** prometheus.shards: the Prometheus sidecars may read the main object of every shard. */
  prometheusShards?: Count;
}

/**
 * In the chart, the resourceNames naming the shards' main objects (operator/contract.ts
 * shardObjectName) as a `range` over prometheus.shards; concrete, rbacObjects has listed them.
 */
function shardedResourceNames(ctx: RenderContext, rules: PolicyRule[], shards: Count | undefined): PolicyRule[] {
  if (!ctx.isHelm || shards === undefined) return rules;
  const main = OBJECT_NAMES.prometheusConfigMap;
  const pad = (indent: number) => ' '.repeat(indent);
  const names = (indent: number) => [
    `${pad(indent)}- ${main}`,
    `${pad(indent)}{{- range $shard := untilStep 1 (int ${shards.expr}) 1 }}`,
    `${pad(indent)}- ${main}-shard-{{ $shard }}`,
    `${pad(indent)}{{- end }}`,
  ];
  return rules.map((r) => (r.resourceNames?.includes(main) ? { ...r, resourceNames: ctx.block(names, r.resourceNames) } : r));
}

export class Identity extends Construct {
  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);
    const { ctx } = props;
    const objects = rbacObjects(ctx.namespace, { labels: labels(props.name), configPartitions: true, prometheusShards: props.prometheusShards?.value }).filter(
      (o) => o.metadata.labels?.['app.kubernetes.io/component'] === props.component,
    );
    if (objects.length === 0) throw new Error(`operator/rbac-objects.ts has no objects for component ${props.component}`);
    for (const { apiVersion, kind, metadata, ...rest } of objects) {
      const body = kind === 'Role' ? { ...rest, rules: shardedResourceNames(ctx, rest.rules as PolicyRule[], props.prometheusShards) } : rest;
      kubeObject(this, ctx, `${kind}-${metadata.name}`, apiVersion, kind, { name: metadata.name, namespaced: metadata.namespace !== undefined, labels: metadata.labels }, body);
    }
  }
}
