// The demo objects of the local stack, read from examples/ (what a person would `kubectl apply`),
// with the target's port adjusted when the stack does not run on the default ports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './cluster.js';

export const DEMO_NAMESPACE = 'demo';
export const DEMO_NAME = 'demo-target';
/** Host name the demo target's EndpointSlice carries; Prometheus resolves it to 127.0.0.1. */
export const DEMO_TARGET_HOST = 'demo-target.vigil.localhost';
export const DEMO_ENDPOINTSLICE = 'demo-target-local';
export const DEMO_TARGET_MANIFEST = join(REPO_ROOT, 'examples', 'demo-target-service.yaml');
export const DEMO_MONITOREDSERVICE_MANIFEST = join(REPO_ROOT, 'examples', 'demo-monitoredservice.yaml');

type Obj = { kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };

function readObjects(file: string): Obj[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

/** Namespace, Service and EndpointSlice of the demo target, pointing at `port`. */
export function demoTargetObjects(port: number): Obj[] {
  return readObjects(DEMO_TARGET_MANIFEST).map((obj) => {
    const o = structuredClone(obj) as Record<string, unknown> & Obj;
    if (o.kind === 'Service') {
      const spec = o.spec as { ports: { name: string; port: number; targetPort: number }[] };
      for (const p of spec.ports) if (p.name === 'http-metrics') Object.assign(p, { port, targetPort: port });
    }
    if (o.kind === 'EndpointSlice') {
      for (const p of o.ports as { name: string; port: number }[]) if (p.name === 'http-metrics') p.port = port;
    }
    return o;
  });
}

/** Only the EndpointSlice: deleting it is the local equivalent of deleting the target's pod. */
export function demoEndpointSlice(port: number): Obj {
  const slice = demoTargetObjects(port).find((o) => o.kind === 'EndpointSlice');
  if (!slice) throw new Error(`${DEMO_TARGET_MANIFEST} has no EndpointSlice`);
  return slice;
}

export function demoMonitoredService(): Obj & { spec: { notify?: { email?: { to: string[] } }; downAlert: { for: string }; endpoints: { interval: string }[] } } {
  const ms = readObjects(DEMO_MONITOREDSERVICE_MANIFEST).find((o) => o.kind === 'MonitoredService');
  if (!ms) throw new Error(`${DEMO_MONITOREDSERVICE_MANIFEST} has no MonitoredService`);
  return ms as ReturnType<typeof demoMonitoredService>;
}

/** Prometheus duration (as in the demo manifests: s/m/h parts) in seconds. */
export function durationSeconds(d: string): number {
  let total = 0;
  const re = /(\d+)(ms|s|m|h|d)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(d)) !== null) {
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n / 1000 : m[2] === 's' ? n : m[2] === 'm' ? n * 60 : m[2] === 'h' ? n * 3600 : n * 86400;
  }
  return total;
}

/** The bound from target down to email: S + E + ceil(F/E)*E + 2 s. */
export function alertBoundSeconds(scrape: string, evaluation: string, forDuration: string): number {
  const s = durationSeconds(scrape);
  const e = durationSeconds(evaluation);
  const f = durationSeconds(forDuration);
  return s + e + Math.ceil(f / e) * e + 2;
}

/**
 * The bound from one target of a multi-target service failing to its ServiceTargetDown email (seconds): the bound
 * above plus the alert's termination window, 3 scrape intervals + 10 s (operator/render/rules.ts
 * terminationWindowMs, issue #14). With the demo's 5 s everywhere: 17 + 25 = 42 s.
 */
export function targetDownBoundSeconds(scrape: string, evaluation: string, forDuration: string): number {
  return alertBoundSeconds(scrape, evaluation, forDuration) + 3 * durationSeconds(scrape) + 10;
}
