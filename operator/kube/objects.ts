// Typed reads/writes of the few object kinds the operator touches.
import type { CoreV1Event, V1ConfigMap, V1ObjectMeta, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, KIND, PLURAL } from '../api/schema.js';
import { MERGE_PATCH, isNotFound, type KubeClients } from './client.js';
import { configMapPayload, secretPayload, type EncodedFiles } from '../assemble/config-bundle.js';
import { eventObject, type EventSource, type InvolvedObject } from './events.js';

export async function readConfigMapOrUndefined(clients: KubeClients, namespace: string, name: string): Promise<V1ConfigMap | undefined> {
  try {
    return await clients.core.readNamespacedConfigMap({ name, namespace });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function readSecretOrUndefined(clients: KubeClients, namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await clients.core.readNamespacedSecret({ name, namespace });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Secret data values decoded from base64. */
export function decodeSecretData(secret: V1Secret | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret?.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  for (const [k, v] of Object.entries(secret?.stringData ?? {})) out[k] = v;
  return out;
}

/** A file set in the form chosen for storage (config-bundle.ts: plain keys, or one gzip bundle). */
export type StoredFiles = Extract<EncodedFiles, { ok: true }>;

/** What the operator wants of a generated object's metadata. */
interface DesiredMetadata {
  namespace: string;
  name: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  /** The owner the object is garbage-collected with (`vigil operator --owner-configmap`), issue #9. */
  ownerReferences?: V1OwnerReference[] | undefined;
}

/** Metadata of a new generated object. */
function creationMetadata(desired: DesiredMetadata): V1ObjectMeta {
  const { namespace, name, labels, annotations, ownerReferences } = desired;
  return { name, namespace, labels, annotations, ...(ownerReferences ? { ownerReferences } : {}) };
}

/** Metadata for replacing a generated object: ours merged over what is there (the sidecar's annotations stay). */
function replacementMetadata(current: V1ObjectMeta | undefined, desired: DesiredMetadata): V1ObjectMeta {
  return {
    ...current,
    name: desired.name,
    namespace: desired.namespace,
    labels: { ...current?.labels, ...desired.labels },
    annotations: { ...current?.annotations, ...desired.annotations },
    ...(desired.ownerReferences ? { ownerReferences: desired.ownerReferences } : {}),
    managedFields: undefined,
  };
}

/**
 * Creates or replaces the ConfigMap with exactly the stored files, setting `annotations` and keeping every
 * other annotation (the sync sidecar's). Replace carries the resourceVersion, so a concurrent
 * change makes it fail with 409 rather than be lost; the caller retries from a fresh read.
 */
export async function writeConfigMap(clients: KubeClients, current: V1ConfigMap | undefined, desired: DesiredMetadata & { files: StoredFiles }, fieldManager: string): Promise<V1ConfigMap> {
  const { namespace, name } = desired;
  // Exactly one of data/binaryData is set: replacing the object drops the keys of the other form.
  const payload = configMapPayload(desired.files);
  if (!current) {
    return clients.core.createNamespacedConfigMap({
      namespace,
      fieldManager,
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: creationMetadata(desired), ...payload },
    });
  }
  return clients.core.replaceNamespacedConfigMap({
    name,
    namespace,
    fieldManager,
    body: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: replacementMetadata(current.metadata, desired),
      ...payload,
    },
  });
}

/** Same as writeConfigMap for a Secret (data base64-encoded here, type Opaque; a bundle is one data key). */
export async function writeSecret(clients: KubeClients, current: V1Secret | undefined, desired: DesiredMetadata & { files: StoredFiles }, fieldManager: string): Promise<V1Secret> {
  const { namespace, name } = desired;
  const data = secretPayload(desired.files);
  if (!current) {
    return clients.core.createNamespacedSecret({
      namespace,
      fieldManager,
      body: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: creationMetadata(desired), data },
    });
  }
  return clients.core.replaceNamespacedSecret({
    name,
    namespace,
    fieldManager,
    body: {
      apiVersion: 'v1',
      kind: 'Secret',
      type: current.type ?? 'Opaque',
      metadata: replacementMetadata(current.metadata, desired),
      data,
    },
  });
}

/** JSON merge patch of a MonitoredService's status subresource. */
export async function patchMonitoredServiceStatus(clients: KubeClients, namespace: string, name: string, body: object, fieldManager: string): Promise<unknown> {
  return clients.custom.patchNamespacedCustomObjectStatus({ group: API_GROUP, version: API_VERSION, plural: PLURAL, namespace, name, body, fieldManager }, MERGE_PATCH);
}

/** Records a core/v1 Event on an object so `kubectl describe` shows it. */
export async function createEvent(
  clients: KubeClients,
  source: EventSource,
  involved: InvolvedObject,
  event: { type: 'Normal' | 'Warning'; reason: string; message: string },
  now: Date = new Date(),
): Promise<CoreV1Event> {
  return clients.core.createNamespacedEvent({ namespace: involved.namespace, body: eventObject(source, involved, event, now) });
}

export const MONITORED_SERVICE_REF = { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: KIND } as const;
