// Per-service scrape limits (spec.limits): Prometheus's scrape_config limits under the names
// prometheus-operator gives them (sampleLimit, targetLimit, ...). The cluster's defaults and ceilings
// for them are operator settings (render/settings-schema.ts `scrapeLimits`), resolved by
// render/scrape-limits.ts.
import { z } from 'zod';

/** Field names of spec.limits, in the order they are documented and rendered. */
export const SCRAPE_LIMIT_FIELDS = ['sampleLimit', 'targetLimit', 'labelLimit', 'labelNameLengthLimit', 'labelValueLengthLimit', 'bodySizeLimit'] as const;
export type ScrapeLimitField = (typeof SCRAPE_LIMIT_FIELDS)[number];
/** The count limits (integers); bodySizeLimit is a size string. */
export type ScrapeCountLimitField = Exclude<ScrapeLimitField, 'bodySizeLimit'>;
export const SCRAPE_COUNT_LIMIT_FIELDS = SCRAPE_LIMIT_FIELDS.filter((f): f is ScrapeCountLimitField => f !== 'bodySizeLimit');

/** Each field's key in a Prometheus scrape_config (config/config.go ScrapeConfig). */
export const PROMETHEUS_LIMIT_KEYS: Readonly<Record<ScrapeLimitField, string>> = {
  sampleLimit: 'sample_limit',
  targetLimit: 'target_limit',
  labelLimit: 'label_limit',
  labelNameLengthLimit: 'label_name_length_limit',
  labelValueLengthLimit: 'label_value_length_limit',
  bodySizeLimit: 'body_size_limit',
};

/** Largest count limit accepted (Prometheus reads them as uint; far above any useful value). */
export const MAX_COUNT_LIMIT = 1_000_000_000;

/**
 * Units of a body size, in bytes, as Prometheus 3.15.1 reads body_size_limit (units.Base2Bytes of
 * github.com/alecthomas/units): base 2 whether written KB or KiB (1KB = 1024 bytes; "kB" is refused there).
 * Vigil accepts one integer and one unit, e.g. 10MB or 512KiB, or 0 (unlimited).
 */
export const BYTE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1024,
  KiB: 1024,
  MB: 1024 ** 2,
  MiB: 1024 ** 2,
  GB: 1024 ** 3,
  GiB: 1024 ** 3,
};
export const BODY_SIZE_PATTERN = '^(0|[1-9][0-9]{0,8}(B|KB|KiB|MB|MiB|GB|GiB))$';

/** Bytes of a body size matching BODY_SIZE_PATTERN (0 = unlimited); undefined for anything else. */
export function bodySizeBytes(size: string): number | undefined {
  if (size === '0') return 0;
  const match = /^([1-9][0-9]{0,8})(B|KB|KiB|MB|MiB|GB|GiB)$/.exec(size);
  return match ? Number(match[1]) * BYTE_UNITS[match[2]!]! : undefined;
}

const countLimit = (what: string) =>
  z
    .number()
    .int({ message: 'must be a whole number' })
    .min(0, { message: 'must be 0 or more' })
    .max(MAX_COUNT_LIMIT, { message: `must be at most ${MAX_COUNT_LIMIT}` })
    .optional()
    .describe(`${what} Absent: the cluster default; above the cluster ceiling the object is refused; 0 means unlimited and is accepted only where the cluster sets no ceiling.`);

export const BodySizeSchema = z
  .string()
  .max(16, { abort: true })
  .regex(new RegExp(BODY_SIZE_PATTERN), { message: 'must be a size such as 512KB, 10MB or 1GB (units B, KB, MB, GB, KiB, MiB, GiB; KB = KiB = 1024 bytes, as Prometheus reads them), or 0' });

export const ScrapeLimitsSchema = z
  .object({
    sampleLimit: countLimit(
      'Most samples one scrape of one target may return (after metric relabelling; Prometheus sample_limit). Above it the whole scrape fails: up is 0 and no sample of that scrape is stored.',
    ),
    targetLimit: countLimit(
      'Most targets one scrape job may have (Prometheus target_limit; each endpoint is one job). Above it every scrape of the job fails (up 0 on all its targets) until targets go away.',
    ),
    labelLimit: countLimit('Most labels one series may carry, __name__ and the target labels included (Prometheus label_limit). Above it the whole scrape fails.'),
    labelNameLengthLimit: countLimit('Longest label name, in bytes (Prometheus label_name_length_limit). Above it the whole scrape fails.'),
    labelValueLengthLimit: countLimit('Longest label value, in bytes (Prometheus label_value_length_limit). Above it the whole scrape fails.'),
    bodySizeLimit: BodySizeSchema.optional().describe(
      'Largest uncompressed response body of one scrape, e.g. 10MB (Prometheus body_size_limit; KB and KiB both mean 1024 bytes). A body of this size or more fails the scrape. Absent: the cluster default; above the cluster ceiling the object is refused; 0 means unlimited and is accepted only where the cluster sets no ceiling.',
    ),
  })
  .describe(
    "Scrape limits of every job of this service, as Prometheus's scrape_config has them. A scrape over a limit fails as a whole (up 0, the target's lastError names the limit), so one service's cardinality burst cannot grow the shared Prometheus; other services are not affected. Each absent field takes the cluster default; a value above the cluster ceiling is refused.",
  );

export type ScrapeLimits = z.output<typeof ScrapeLimitsSchema>;
