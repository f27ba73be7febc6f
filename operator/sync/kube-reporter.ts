// The Reporter of the syncer, backed by the API: merge-patches annotations on the watched object
// and records Events on it (RBAC: patch on that one name, create events in the namespace).
import type { KubeConfig } from '@kubernetes/client-node';
import { MERGE_PATCH, makeClients } from '../kube/client.js';
import { createEvent } from '../kube/objects.js';
import { annotationMergePatch } from './annotations.js';
import type { Reporter } from './syncer.js';
import type { WatchedKind } from './watcher.js';

export const FIELD_MANAGER = 'vigil-sync';

export function createKubeReporter(options: {
  kc: KubeConfig;
  kind: WatchedKind;
  namespace: string;
  name: string;
  /** uid of the object for Events (optional; the latest seen is used). */
  uid: () => string | undefined;
  instance: string;
}): Reporter {
  const clients = makeClients(options.kc);
  const { namespace, name, kind } = options;
  return {
    async patchAnnotations(changes) {
      const body = annotationMergePatch(changes);
      if (kind === 'ConfigMap') {
        await clients.core.patchNamespacedConfigMap({ name, namespace, body, fieldManager: FIELD_MANAGER }, MERGE_PATCH);
      } else {
        await clients.core.patchNamespacedSecret({ name, namespace, body, fieldManager: FIELD_MANAGER }, MERGE_PATCH);
      }
    },
    async event(type, reason, message) {
      await createEvent(clients, { component: FIELD_MANAGER, instance: options.instance }, { apiVersion: 'v1', kind, namespace, name, uid: options.uid() }, { type, reason, message });
    },
  };
}
