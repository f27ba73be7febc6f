// The Reporter of the syncer, backed by the API: merge-patches annotations on the watched object
// and records Events on it (RBAC: patch on that one name, create events in the namespace).
import { eventObject } from '../kube/events.js';
import type { RestClient } from '../kube/rest.js';
import { annotationMergePatch } from './annotations.js';
import type { Reporter } from './syncer.js';
import type { WatchedKind } from './watcher.js';

export const FIELD_MANAGER = 'vigil-sync';

export function createKubeReporter(options: {
  client: RestClient;
  kind: WatchedKind;
  namespace: string;
  name: string;
  /** uid of the object for Events (optional; the latest seen is used). */
  uid: () => string | undefined;
  instance: string;
}): Reporter {
  const { client, namespace, name, kind } = options;
  const ns = `/api/v1/namespaces/${encodeURIComponent(namespace)}`;
  return {
    async patchAnnotations(changes) {
      const path = `${ns}/${kind === 'ConfigMap' ? 'configmaps' : 'secrets'}/${encodeURIComponent(name)}`;
      await client.request({ method: 'PATCH', path, query: { fieldManager: FIELD_MANAGER }, body: annotationMergePatch(changes), contentType: 'application/merge-patch+json' });
    },
    async event(type, reason, message) {
      const body = eventObject({ component: FIELD_MANAGER, instance: options.instance }, { apiVersion: 'v1', kind, namespace, name, uid: options.uid() }, { type, reason, message });
      await client.request({ method: 'POST', path: `${ns}/events`, body });
    },
  };
}
