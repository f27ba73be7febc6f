// Reading Prometheus text exposition (/metrics of Prometheus, Alertmanager, the operator, the sidecars)
// in tests and benchmarks.

/** One sample line: name, optional {label set}, value. */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/;

/**
 * Sum of the samples of metric `name` whose label set contains every `labels` pair; 0 when there is none.
 * `exposition`: the text format (https://prometheus.io/docs/instrumenting/exposition_formats/).
 */
export function sumSamples(exposition: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    const m = SAMPLE.exec(line);
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

/**
 * Every metric of a text exposition whose name starts with `prefix`, each summed over all its
 * label sets (histogram/summary parts by their own names: _sum, _count, _bucket).
 */
export function sumsByPrefix(exposition: string, prefix: string): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (Number.isFinite(value)) sums[m[1] as string] = (sums[m[1] as string] ?? 0) + value;
  }
  return sums;
}

/** Sum of metric `name` grouped by the value of `label` (samples without it under ''). */
export function sumBy(exposition: string, name: string, label: string, where: Record<string, string> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of exposition.split('\n')) {
    const m = SAMPLE.exec(line);
    if (!m || m[1] !== name) continue;
    const set = m[2] ?? '';
    if (!Object.entries(where).every(([k, v]) => set.includes(`${k}=${JSON.stringify(v)}`))) continue;
    const key = new RegExp(`[{,]${label}="([^"]*)"`).exec(set)?.[1] ?? '';
    out[key] = (out[key] ?? 0) + Number(m[3]);
  }
  return out;
}
