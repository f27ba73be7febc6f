// The pre-delete hook of `helm uninstall`: a Job running `vigil uninstall` with the operator image and
// the operator's own ServiceAccount (it still exists while pre-delete hooks run), so that the
// MonitoredServices this install claims say InstallRemoved and are free for another install instead of
// keeping the removed install's last (green) status (issue 22, operator/controller/uninstall.ts).
import { Construct } from 'constructs';
import { kubeObject, type RenderContext } from '../context.js';
import { container, labels, podSpec, POD_IDENTITY_ENV, type ImageRef, type Resources, type Scheduling } from './common.js';
import { OBJECT_NAMES } from '../../operator/rbac.js';

export const UNINSTALL_HOOK_NAME = 'vigil-uninstall';

/**
 * Deleted before a new one is created and once it succeeded: it leaves nothing behind. A failed hook
 * stops `helm uninstall` (the release stays, so does the Job for `kubectl logs job/vigil-uninstall`);
 * `helm uninstall` again retries it.
 */
export const UNINSTALL_HOOK_ANNOTATIONS = {
  'helm.sh/hook': 'pre-delete',
  'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
} as const;

/** Longest wait of the hook for the operator to stop writing (vigil uninstall --timeout); the Job's deadline is above it. */
export const UNINSTALL_TIMEOUT_SECONDS = 120;

export interface UninstallHookProps {
  ctx: RenderContext;
  image: ImageRef;
  /** The operator's --watch-namespaces (comma-separated; empty = all). */
  watchNamespaces: string;
  logLevel: string;
  resources: Resources;
  scheduling: Scheduling;
}

export class UninstallHook extends Construct {
  constructor(scope: Construct, id: string, props: UninstallHookProps) {
    super(scope, id);
    const name = UNINSTALL_HOOK_NAME;
    kubeObject(
      this,
      props.ctx,
      'job',
      'batch/v1',
      'Job',
      { name, labels: labels(name), annotations: { ...UNINSTALL_HOOK_ANNOTATIONS } },
      {
        spec: {
          backoffLimit: 1,
          activeDeadlineSeconds: UNINSTALL_TIMEOUT_SECONDS + 60,
          template: {
            metadata: { labels: labels(name) },
            spec: podSpec(props.scheduling, {
              restartPolicy: 'Never',
              serviceAccountName: OBJECT_NAMES.operatorServiceAccount,
              containers: [
                container({
                  name: 'uninstall',
                  image: props.image,
                  args: ['uninstall', '--namespace=$(POD_NAMESPACE)', `--watch-namespaces=${props.watchNamespaces}`, `--timeout=${UNINSTALL_TIMEOUT_SECONDS}s`, `--log-level=${props.logLevel}`],
                  env: POD_IDENTITY_ENV,
                  resources: props.resources,
                }),
              ],
            }),
          },
        },
      },
    );
  }
}
