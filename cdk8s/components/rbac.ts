// A ServiceAccount with its cluster-wide and install-namespace roles. The rules are operator/rbac.ts,
// the one place that states what each Vigil identity may do.
import { Construct } from 'constructs';
import { kubeObject, type RenderContext } from '../context.js';
import { labels, policyRules } from './common.js';
import type { PolicyRule } from '../../operator/rbac.js';

export interface IdentityProps {
  ctx: RenderContext;
  /** ServiceAccount name; also the name of its ClusterRole/Role unless roleName is given. */
  serviceAccountName: string;
  component: string;
  clusterRules?: readonly PolicyRule[];
  namespaceRules?: readonly PolicyRule[];
  /** Name of the namespaced Role (default: the ServiceAccount name). */
  roleName?: string;
}

export class Identity extends Construct {
  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);
    const { ctx, serviceAccountName: sa } = props;
    const meta = (name: string, namespaced = true) => ({ name, namespaced, labels: labels(props.component) });
    const subject = [{ kind: 'ServiceAccount', name: sa, namespace: ctx.namespace }];
    kubeObject(this, ctx, 'sa', 'v1', 'ServiceAccount', meta(sa), {});
    if (props.clusterRules?.length) {
      kubeObject(this, ctx, 'cr', 'rbac.authorization.k8s.io/v1', 'ClusterRole', meta(sa, false), { rules: policyRules(props.clusterRules) });
      kubeObject(this, ctx, 'crb', 'rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', meta(sa, false), {
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: sa },
        subjects: subject,
      });
    }
    if (props.namespaceRules?.length) {
      const role = props.roleName ?? sa;
      kubeObject(this, ctx, 'role', 'rbac.authorization.k8s.io/v1', 'Role', meta(role), { rules: policyRules(props.namespaceRules) });
      kubeObject(this, ctx, 'rb', 'rbac.authorization.k8s.io/v1', 'RoleBinding', meta(role), {
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
        subjects: subject,
      });
    }
  }
}
