// Reading Prometheus text exposition (/metrics of Prometheus, Alertmanager, the operator, the sidecars)
// in tests and benchmarks.

/**
 * Sum of the samples of metric `name` whose label set contains every `labels` pair; 0 when there is none.
 * `exposition`: the text format (https://prometheus.io/docs/instrumenting/exposition_formats/).
 */
export function sumSamples(exposition: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const set = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}=${JSON.stringify(v)}`))) sum += Number(m[3]);
  }
  return sum;
}

/** The text of `<baseUrl>/metrics`; throws naming the URL on an HTTP error (5 s timeout). */
export async function metricsText(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET ${baseUrl}/metrics: HTTP ${res.status}`);
  return res.text();
}
