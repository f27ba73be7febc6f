// Watches exactly one ConfigMap or Secret through the API (list + watch with the field selector
// metadata.name=<name>, which RBAC with resourceNames permits), or the ConfigMaps/Secrets of a
// label selector (a partitioned config's partition objects). A watch ends on server timeouts,
// API server restarts and network errors; this loop then re-lists (level-triggered: the list
// result alone says what the object is now) with capped exponential backoff, forever, until stopped.
import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import type { Logger } from '../observability/index.js';
import { describeRestError as describeApiError, type RestClient, type WatchEvent } from '../kube/rest.js';

export type WatchedKind = 'ConfigMap' | 'Secret';
export type WatchedObject = V1ConfigMap | V1Secret;

export interface WatchOneOptions {
  /** The sidecar's API client (kube/rest.ts: no @kubernetes/client-node in the sidecar). */
  client: RestClient;
  kind: WatchedKind;
  namespace: string;
  name: string;
  /** Called with every version of the object, undefined when it does not exist (or was deleted). */
  onObject(object: WatchedObject | undefined): void;
  log: Logger;
  /** Reconnect backoff bounds (ms). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Server-side watch timeout; must stay below the client's 30 s inactivity abort. */
  watchTimeoutSeconds?: number;
}

export interface ObjectsWatchOptions extends Omit<WatchOneOptions, 'name' | 'onObject'> {
  /** Kubernetes label selector, e.g. vigil.dev/config-partition-of=vigil-prometheus-config. */
  labelSelector: string;
  /** Called with every object of the selector (by name) after each list and each change. */
  onObjects(objects: ReadonlyMap<string, WatchedObject>): void;
}

export interface OneObjectWatch {
  /** True while a watch connection is open (for /healthz detail and tests). */
  connected(): boolean;
  stop(): Promise<void>;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

type WatchEnd = { relist: boolean; error?: string };

export function watchOneObject(options: WatchOneOptions): OneObjectWatch {
  const { name } = options;
  return watchSelected(options, { fieldSelector: `metadata.name=${name}` }, name, (objects) => options.onObject(objects.get(name)));
}

/** Watches every object of `labelSelector` (list + watch), keeping the set by name. */
export function watchObjects(options: ObjectsWatchOptions): OneObjectWatch {
  return watchSelected(options, { labelSelector: options.labelSelector }, options.labelSelector, options.onObjects);
}

type Selector = { fieldSelector: string } | { labelSelector: string };

function watchSelected(options: Omit<WatchOneOptions, 'name' | 'onObject'>, selector: Selector, name: string, onObjects: (objects: ReadonlyMap<string, WatchedObject>) => void): OneObjectWatch {
  const { client, kind, namespace, log } = options;
  const stopSignal = new AbortController();
  /** The selected objects by name, as of the last list and the events since. */
  let objects = new Map<string, WatchedObject>();
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/${kind === 'ConfigMap' ? 'configmaps' : 'secrets'}`;
  const minBackoff = options.minBackoffMs ?? 250;
  const maxBackoff = options.maxBackoffMs ?? 5000;
  let isConnected = false;
  let currentRequest: AbortController | undefined;

  async function list(): Promise<{ objects: Map<string, WatchedObject>; resourceVersion: string }> {
    const result = await client.request<{ items: WatchedObject[]; metadata?: { resourceVersion?: string } }>({ method: 'GET', path, query: selector });
    const items = result.items;
    return { objects: new Map(items.map((o) => [o.metadata?.name ?? '', o])), resourceVersion: result.metadata?.resourceVersion ?? '' };
  }

  /** One watch request from `resourceVersion`; resolves when it ends, with the last version seen. */
  function watchFrom(resourceVersion: string, seen: (rv: string) => void): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve) => {
      let end: WatchEnd | undefined;
      const finish = (result: WatchEnd) => {
        if (!end) end = result;
        resolve(end);
      };
      const request = new AbortController();
      currentRequest = request;
      if (stopSignal.signal.aborted) request.abort();
      client
        .watch<WatchedObject & { code?: number; message?: string }>(
          path,
          { ...selector, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: options.watchTimeoutSeconds ?? 25 },
          ({ type, object }: WatchEvent<WatchedObject & { code?: number; message?: string }>) => {
            if (type === 'ADDED' || type === 'MODIFIED') {
              seen(object.metadata?.resourceVersion ?? resourceVersion);
              objects.set(object.metadata?.name ?? '', object);
              onObjects(objects);
            } else if (type === 'DELETED') {
              seen(object.metadata?.resourceVersion ?? resourceVersion);
              objects.delete(object.metadata?.name ?? '');
              onObjects(objects);
            } else if (type === 'BOOKMARK') {
              seen(object.metadata?.resourceVersion ?? resourceVersion);
            } else if (type === 'ERROR') {
              // 410 Gone: our resourceVersion is too old; anything else: start over from a list too.
              finish({ relist: true, error: `watch error ${object.code ?? ''}: ${object.message ?? 'unknown'}` });
              request.abort();
            }
          },
          request.signal,
        )
        .then(
          () => finish({ relist: false }),
          (err: unknown) => finish({ relist: true, error: describeApiError(err) }),
        );
    });
  }

  const loop = (async () => {
    let backoff = minBackoff;
    while (!stopSignal.signal.aborted) {
      let listed;
      try {
        listed = await list();
      } catch (err) {
        log.warn('listing the watched object failed; retrying', { kind, namespace, name, error: describeApiError(err), retryInMs: backoff });
        await sleep(backoff, stopSignal.signal);
        backoff = Math.min(maxBackoff, backoff * 2);
        continue;
      }
      if (stopSignal.signal.aborted) break;
      objects = listed.objects;
      onObjects(objects);
      let resourceVersion = listed.resourceVersion;
      // Watch until a watch ends with an error (or 410), re-watching from the last version after
      // clean server-side timeouts.
      for (;;) {
        isConnected = true;
        const started = Date.now();
        const end = await watchFrom(resourceVersion, (rv) => (resourceVersion = rv));
        isConnected = false;
        if (stopSignal.signal.aborted) break;
        // A watch that stayed open a while proves the server is back: start backoff over.
        if (Date.now() - started >= 5000) backoff = minBackoff;
        if (end.relist) {
          log.warn('watch ended; re-listing', { kind, namespace, name, error: end.error, retryInMs: backoff });
          await sleep(backoff, stopSignal.signal);
          backoff = Math.min(maxBackoff, backoff * 2);
          break;
        }
        // A watch that closes "cleanly" right away means the server is going away: relist after a pause.
        if (Date.now() - started < 1000) {
          await sleep(backoff, stopSignal.signal);
          backoff = Math.min(maxBackoff, backoff * 2);
          break;
        }
      }
    }
  })();

  return {
    connected: () => isConnected,
    async stop() {
      stopSignal.abort();
      currentRequest?.abort();
      await loop;
    },
  };
}
