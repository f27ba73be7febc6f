// "ConfigApplied" as every stack waits for it: the operator has written its config (vigil.dev/config-hash
// on the generated ConfigMap and Secret) and both sync sidecars report that their server runs exactly
// that config (vigil.dev/applied-hash equal to it, or vigil.dev/reader-applied-hash for a sidecar
// that reads partitions: readSyncReport). The annotations are the operator-sidecar contract
// (operator/contract.ts, docs/contract.md).
import { ANNOTATIONS, OBJECT_NAMES } from '../../operator/contract.js';
import { readSyncReport } from '../../operator/controller/annotations.js';
import type { Cluster } from './cluster.js';
import { pollUntil } from './net.js';

/** The generated objects, as kubectl names their kinds: the Prometheus ConfigMap, the Alertmanager Secret. */
export type GeneratedKind = 'configmap' | 'secret';

const GENERATED_NAME: Record<GeneratedKind, string> = {
  configmap: OBJECT_NAMES.prometheusConfigMap,
  secret: OBJECT_NAMES.alertmanagerSecret,
};

/** Annotations of the generated ConfigMap or Secret in `namespace`; {} while it does not exist (or cannot be read). */
export async function generatedAnnotations(cluster: Cluster, namespace: string, kind: GeneratedKind): Promise<Record<string, string>> {
  const r = await cluster.kubectlResult(['get', kind, GENERATED_NAME[kind], '-n', namespace, '-o', 'jsonpath={.metadata.annotations}']);
  if (r.code !== 0) return {};
  return (r.stdout.trim() ? JSON.parse(r.stdout) : {}) as Record<string, string>;
}

/**
 * Polls (every 500 ms, up to `timeoutMs`, default 90 s) until both sidecars run the config the operator
 * wrote last; resolves with both config hashes. `check` runs on every round and may throw to stop early
 * (e.g. a process of the stack died). The timeout error says what was awaited (net.ts pollUntil).
 */
export async function waitForConfigApplied(cluster: Cluster, namespace: string, opts: { timeoutMs?: number; check?: () => void } = {}): Promise<{ prometheus: string; alertmanager: string }> {
  return pollUntil(
    'both sync sidecars to apply the operator config',
    opts.timeoutMs ?? 90_000,
    async () => {
      const hashes: string[] = [];
      for (const kind of ['configmap', 'secret'] as const) {
        const a = await generatedAnnotations(cluster, namespace, kind);
        const desired = a[ANNOTATIONS.configHash];
        if (!desired || readSyncReport(a).appliedHash !== desired) return false;
        hashes.push(desired);
      }
      return { prometheus: hashes[0] as string, alertmanager: hashes[1] as string };
    },
    { intervalMs: 500, ...(opts.check ? { check: opts.check } : {}) },
  );
}
