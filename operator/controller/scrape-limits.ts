// Which scrape limit (spec.limits) made a target's scrape fail, read from the target's lastError in
// Prometheus's /api/v1/targets. The texts are Prometheus 3.15.1's own (scrape/scrape.go
// refreshTargetLimitErr, verifyLabelLimits and errBodySizeLimit; scrape/target.go errSampleLimit).
// Prometheus fails the whole scrape over any of these: up is 0 and the target's health "down".
//
// How to call it (controller/conditions.ts, wherever TargetsHealthy reports a down target's lastError):
//   const limits = resolveScrapeLimits(service.spec.limits, settings.scrapeLimits); // render/scrape-limits.ts;
//   // the service as running (a valid one: resolveScrapeLimits throws above a ceiling, and such a one is not in the config)
//   const hit = scrapeLimitHit(target.lastError, limits, { samplesScraped });
//   if (hit) message = scrapeLimitMessage(hit);  // else Prometheus's lastError as it is
// `samplesScraped` is optional: Prometheus's lastError for the sample limit carries no count, but
// scrape_samples_scraped{job, instance} of the failed scrape holds every sample the target returned
// (Prometheus keeps parsing past the limit to report it).
import { PROMETHEUS_LIMIT_KEYS, type ScrapeLimitField } from '../api/scrape-limits.js';
import type { ResolvedScrapeLimits } from '../render/scrape-limits.js';

/** A scrape failed by a limit: which one, its configured value and, where known, what the target reached. */
export interface ScrapeLimitHit {
  /** The spec.limits field, e.g. sampleLimit. */
  field: ScrapeLimitField;
  /** The configured limit: Prometheus's own figure where its error gives one, else the service's resolved limit (undefined without one). */
  limit: number | string | undefined;
  /** What the target reached: targets, labels of one series, bytes of a label name or value, samples (from samplesScraped). */
  observed?: number;
  /** The metric (and label) Prometheus names, for label limits; at most 50 characters each, as Prometheus cuts them. */
  metric?: string;
  labelName?: string;
  /** Prometheus's lastError, unchanged. */
  lastError: string;
}

interface Recogniser {
  field: ScrapeLimitField;
  /** Matches the whole lastError; groups as named below. */
  pattern: RegExp;
  observedGroup?: number;
  limitGroup?: number;
  metricGroup?: number;
  labelNameGroup?: number;
}

// Metric and label names are printed with %.50s (no quoting): lazy groups, anchored on the fixed
// text after them. A label value is %.50q and can hold anything, so its message is read from the end.
const RECOGNISERS: readonly Recogniser[] = [
  { field: 'sampleLimit', pattern: /^sample limit exceeded$/ },
  { field: 'targetLimit', pattern: /^target_limit exceeded \(number of targets: (\d+), limit: (\d+)\)$/, observedGroup: 1, limitGroup: 2 },
  { field: 'labelLimit', pattern: /^label_limit exceeded \(metric: (.*?), number of labels: (\d+), limit: (\d+)\)$/s, metricGroup: 1, observedGroup: 2, limitGroup: 3 },
  {
    field: 'labelNameLengthLimit',
    pattern: /^label_name_length_limit exceeded \(metric: (.*?), label name: (.*), length: (\d+), limit: (\d+)\)$/s,
    metricGroup: 1,
    labelNameGroup: 2,
    observedGroup: 3,
    limitGroup: 4,
  },
  {
    field: 'labelValueLengthLimit',
    pattern: /^label_value_length_limit exceeded \(metric: (.*?), label name: (.*?), value: .*, length: (\d+), limit: (\d+)\)$/s,
    metricGroup: 1,
    labelNameGroup: 2,
    observedGroup: 3,
    limitGroup: 4,
  },
  { field: 'bodySizeLimit', pattern: /^body size limit exceeded$/ },
];

/**
 * The limit behind a target's lastError, or undefined when the error is not a scrape limit's
 * (connection refused, timeout, parse errors ...). `limits`: the service's resolved limits, the
 * configured value where Prometheus's text has none (sample and body size limits).
 */
export function scrapeLimitHit(lastError: string | undefined, limits?: ResolvedScrapeLimits, observed?: { samplesScraped?: number }): ScrapeLimitHit | undefined {
  if (!lastError) return undefined;
  for (const r of RECOGNISERS) {
    const match = r.pattern.exec(lastError);
    if (!match) continue;
    const group = (i: number | undefined) => (i === undefined ? undefined : match[i]);
    const number = (i: number | undefined) => (group(i) === undefined ? undefined : Number(group(i)));
    const hit: ScrapeLimitHit = { field: r.field, limit: number(r.limitGroup) ?? limits?.[r.field], lastError };
    const reached = r.field === 'sampleLimit' ? observed?.samplesScraped : number(r.observedGroup);
    if (reached !== undefined) hit.observed = reached;
    if (group(r.metricGroup) !== undefined) hit.metric = group(r.metricGroup);
    if (group(r.labelNameGroup) !== undefined) hit.labelName = group(r.labelNameGroup);
    return hit;
  }
  return undefined;
}

const OBSERVED_UNIT: Readonly<Record<ScrapeLimitField, string>> = {
  sampleLimit: 'samples',
  targetLimit: 'targets',
  labelLimit: 'labels',
  labelNameLengthLimit: 'bytes',
  labelValueLengthLimit: 'bytes',
  bodySizeLimit: 'bytes',
};

/**
 * One line for a condition message: the limit, its value, what was reached, and what to do, e.g.
 * "scrape over spec.limits.sampleLimit 1000 (the target returned 1600 samples): Prometheus drops the
 * whole scrape (up 0) ...".
 */
export function scrapeLimitMessage(hit: ScrapeLimitHit): string {
  const limit = hit.limit === undefined ? '' : ` ${hit.limit}`;
  const where = hit.metric ? ` in ${hit.metric}${hit.labelName ? ` label ${hit.labelName}` : ''}` : '';
  const reached = hit.observed === undefined ? '' : ` (reached ${hit.observed} ${OBSERVED_UNIT[hit.field]}${where})`;
  const fix =
    hit.field === 'targetLimit'
      ? 'every scrape of the job fails until the targets are within the limit; raise spec.limits.targetLimit or select fewer targets'
      : `reduce what the target exposes, or raise spec.limits.${hit.field} (up to the cluster ceiling)`;
  return `scrape over spec.limits.${hit.field}${limit}${reached}: Prometheus fails the whole scrape (up 0, ${PROMETHEUS_LIMIT_KEYS[hit.field]}); ${fix}`;
}
