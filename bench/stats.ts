// Summary statistics for the benchmarks' samples.

/**
 * The p-th percentile (0 < p <= 100) by the nearest-rank method: the smallest sample with at least
 * p % of the samples at or below it, so every result is a measured value (no interpolation).
 * Throws on an empty sample or p outside (0, 100].
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of an empty sample');
  if (!(p > 0 && p <= 100)) throw new Error(`percentile must be in (0, 100], got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1] as number;
}

/** min, p50, p95, max of a non-empty sample, in its unit. */
export function summary(values: readonly number[]): { n: number; min: number; p50: number; p95: number; max: number } {
  return { n: values.length, min: Math.min(...values), p50: percentile(values, 50), p95: percentile(values, 95), max: Math.max(...values) };
}
