// The core/v1 Event Vigil records on an object, as a plain object: shared by the operator (through
// client-node) and the sync sidecar (kube/rest.ts), so both write the same Events.
import { API_GROUP } from '../api/group.js';

export interface EventSource {
  /** e.g. vigil-operator */
  component: string;
  /** Identity of this replica (pod name). */
  instance: string;
}

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string | undefined;
}

/** Kubernetes limits an Event message to 1 KiB in the events.k8s.io API; stay within it everywhere. */
const MAX_EVENT_MESSAGE = 1024;

export function truncateEventMessage(message: string): string {
  return message.length <= MAX_EVENT_MESSAGE ? message : `${message.slice(0, MAX_EVENT_MESSAGE - 14)}… (truncated)`;
}

/** The Event body: named <object>.<time in hex><random>, count 1, first and last timestamp `now`. */
export function eventObject(source: EventSource, involved: InvolvedObject, event: { type: 'Normal' | 'Warning'; reason: string; message: string }, now: Date = new Date()) {
  const suffix = `${now.getTime().toString(16)}${Math.floor(Math.random() * 0xffff)
    .toString(16)
    .padStart(4, '0')}`;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${involved.name}.${suffix}`, namespace: involved.namespace },
    involvedObject: {
      apiVersion: involved.apiVersion,
      kind: involved.kind,
      namespace: involved.namespace,
      name: involved.name,
      ...(involved.uid ? { uid: involved.uid } : {}),
    },
    type: event.type,
    reason: event.reason,
    message: truncateEventMessage(event.message),
    count: 1,
    firstTimestamp: now,
    lastTimestamp: now,
    source: { component: source.component },
    reportingComponent: `${API_GROUP}/${source.component}`,
    reportingInstance: source.instance,
  };
}
