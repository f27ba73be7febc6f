// The shape of a MonitoredService as the API server sends it, before validation: what the controller
// reads and what operator/assemble/ keys its caches by.
import type { MonitoredServiceStatus } from './schema.js';

/** A MonitoredService as it comes from the API (not yet validated). */
export interface RawMonitoredService {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    generation?: number;
    uid?: string;
    resourceVersion?: string;
    deletionTimestamp?: unknown;
    labels?: Record<string, string>;
  };
  spec?: unknown;
  status?: MonitoredServiceStatus;
}
