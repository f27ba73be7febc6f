// The scrape limits of one service's jobs: spec.limits over the cluster defaults, checked against
// the cluster ceilings (both operator settings, `scrapeLimits`), rendered as Prometheus's
// scrape_config keys. Pure; a service over a ceiling is refused (ScrapeLimitRefusal), never clamped,
// so what a team wrote is what runs or the team is told why not.
import { z } from 'zod';
import {
  BodySizeSchema,
  bodySizeBytes,
  MAX_COUNT_LIMIT,
  PROMETHEUS_LIMIT_KEYS,
  SCRAPE_COUNT_LIMIT_FIELDS,
  SCRAPE_LIMIT_FIELDS,
  type ScrapeLimitField,
  type ScrapeLimits,
} from '../api/scrape-limits.js';

/** A ValidationIssue (render/types.ts), stated here: types.ts re-exports the settings types, which use this module. */
interface ValidationIssue {
  field: string;
  message: string;
}

/** Every limit with a value; 0 (bodySizeLimit '0') = unlimited. */
export type ResolvedScrapeLimits = { [F in ScrapeLimitField]-?: NonNullable<ScrapeLimits[F]> };

const count = z.number().int().min(0).max(MAX_COUNT_LIMIT);
const ScrapeLimitValuesSchema = z
  .object({
    sampleLimit: count,
    targetLimit: count,
    labelLimit: count,
    labelNameLengthLimit: count,
    labelValueLengthLimit: count,
    bodySizeLimit: BodySizeSchema,
  })
  .strict();

/**
 * Defaults and ceilings of the limits. Sized for the chart's Prometheus (1Gi memory limit, a few hundred
 * to a few thousand services): the default sample limit keeps an ordinary service (an app's client
 * library, node_exporter: 1,000-3,000 series) well inside, the ceiling keeps one service from taking
 * much more than a quarter of that memory (a head series costs a few KiB). Raise the ceilings together
 * with prometheus.resources. prometheus-operator's enforced* limits (unset by default in
 * kube-prometheus-stack) play the same role there, but clamp a larger value silently.
 */
export const DEFAULT_SCRAPE_LIMIT_SETTINGS: ScrapeLimitSettings = {
  defaults: { sampleLimit: 10_000, targetLimit: 100, labelLimit: 40, labelNameLengthLimit: 256, labelValueLengthLimit: 2048, bodySizeLimit: '10MB' },
  ceilings: { sampleLimit: 50_000, targetLimit: 1000, labelLimit: 64, labelNameLengthLimit: 1024, labelValueLengthLimit: 8192, bodySizeLimit: '100MB' },
};

/** A limit as a number for comparison: bytes for bodySizeLimit; 0 = unlimited. */
function magnitude(field: ScrapeLimitField, value: number | string): number {
  if (field === 'bodySizeLimit') return bodySizeBytes(String(value)) ?? Number.NaN;
  return Number(value);
}

/** Whether `value` is more than `ceiling` allows (0 = unlimited, above any finite ceiling). */
function exceeds(field: ScrapeLimitField, value: number | string, ceiling: number | string): boolean {
  const c = magnitude(field, ceiling);
  if (c === 0) return false;
  const v = magnitude(field, value);
  return v === 0 || v > c;
}

const unlimited = (value: number | string) => (String(value) === '0' ? '0 (unlimited)' : String(value));

export const ScrapeLimitSettingsSchema = z
  .object({
    /** What a service gets for a limit it leaves out. */
    defaults: ScrapeLimitValuesSchema,
    /** The most a service may ask for each limit; 0 = no ceiling (then a service may also ask 0, unlimited). */
    ceilings: ScrapeLimitValuesSchema,
  })
  .strict()
  .superRefine((settings, ctx) => {
    for (const field of SCRAPE_LIMIT_FIELDS) {
      const value = settings.defaults[field];
      const ceiling = settings.ceilings[field];
      if (exceeds(field, value, ceiling)) {
        ctx.addIssue({ code: 'custom', path: ['defaults', field], message: `${unlimited(value)} is above ceilings.${field} ${ceiling}: a default must be within its ceiling` });
      }
    }
    // A default or ceiling below what every service's own target labels need would fail every scrape
    // of the services that take it (scrapeLimitFloors; job names longer than 259 bytes are checked per service).
    const floors = scrapeLimitFloors([]);
    for (const kind of ['defaults', 'ceilings'] as const) {
      for (const field of ['labelLimit', 'labelNameLengthLimit', 'labelValueLengthLimit'] as const) {
        const value = settings[kind][field];
        if (value === 0 || value >= floors[field]) continue;
        ctx.addIssue({
          code: 'custom',
          path: [kind, field],
          message: `${value} is below ${floorReason(field, floors[field], [])}: Prometheus would fail every scrape of a healthy target (up 0); set at least ${floors[field]}`,
        });
      }
    }
  });

export type ScrapeLimitSettings = z.output<typeof ScrapeLimitSettingsSchema>;

/** What a settings file may say: any limit of either, merged field by field over the defaults (mergeScrapeLimitSettings). */
export const ScrapeLimitSettingsOverridesSchema = z
  .object({ defaults: ScrapeLimitValuesSchema.partial().strict().optional(), ceilings: ScrapeLimitValuesSchema.partial().strict().optional() })
  .strict();
export type ScrapeLimitSettingsOverrides = z.output<typeof ScrapeLimitSettingsOverridesSchema>;

/** `overrides` over `base`, field by field; throws naming the field when a default ends up above its ceiling. */
export function mergeScrapeLimitSettings(base: ScrapeLimitSettings, overrides: ScrapeLimitSettingsOverrides | undefined): ScrapeLimitSettings {
  const merged = { defaults: { ...base.defaults, ...overrides?.defaults }, ceilings: { ...base.ceilings, ...overrides?.ceilings } };
  const parsed = ScrapeLimitSettingsSchema.safeParse(merged);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `scrapeLimits.${i.path.join('.')}: ${i.message}`).join('\n'));
  return parsed.data;
}

/**
 * Labels on every series a Vigil job scrapes besides __name__: job and instance (Prometheus sets
 * them) and the three its relabelling adds (prometheus.ts scrapeJob). Their count, name lengths and
 * value lengths are the floor of a service's label limits (scrapeLimitFloors).
 * Here, not in names.ts: names.ts -> types.ts -> settings-schema.ts -> this module would be a cycle.
 */
export const VIGIL_TARGET_LABELS = ['job', 'instance', 'namespace', 'service', 'pod'] as const;

/**
 * Longest value a target label can have without knowing the service's pods (bytes): a pod name is a
 * DNS subdomain (up to 253), and instance is `<address>:<port>`, whose address is an IP or, in an
 * EndpointSlice of addressType FQDN, a DNS subdomain again (253 + `:65535`).
 */
export const LONGEST_TARGET_LABEL_VALUE = 253 + ':65535'.length;

/** The smallest label limits every scrape of a service's jobs can pass (0 = unlimited is always fine). */
export interface ScrapeLimitFloors {
  labelLimit: number;
  labelNameLengthLimit: number;
  labelValueLengthLimit: number;
}

/**
 * Prometheus checks label_limit, label_name_length_limit and label_value_length_limit on each
 * scraped series with its target labels and __name__ (scrape/scrape.go verifyLabelLimits), so a
 * limit below what Vigil's own labels need fails every scrape of a healthy app.
 * `jobNames`: the service's job names (`vigil/<ns>/<name>/<port>`, up to 311 bytes).
 */
export function scrapeLimitFloors(jobNames: readonly string[]): ScrapeLimitFloors {
  return {
    // __name__, the target labels, and at least one label of the app's own.
    labelLimit: 1 + VIGIL_TARGET_LABELS.length + 1,
    labelNameLengthLimit: Math.max('__name__'.length, ...VIGIL_TARGET_LABELS.map((name) => name.length)),
    labelValueLengthLimit: Math.max(LONGEST_TARGET_LABEL_VALUE, ...jobNames.map((job) => Buffer.byteLength(job))),
  };
}

function floorReason(field: keyof ScrapeLimitFloors, floor: number, jobNames: readonly string[]): string {
  const targetLabels = VIGIL_TARGET_LABELS.join(', ');
  switch (field) {
    case 'labelLimit':
      return `${floor} labels: __name__ and ${targetLabels} (set on every series by Vigil's scrape job) and one of the app's own`;
    case 'labelNameLengthLimit':
      return `${floor} bytes: the longest label name on every scraped series (${targetLabels}, __name__)`;
    case 'labelValueLengthLimit': {
      const longestJob = jobNames.reduce((a, b) => (Buffer.byteLength(b) > Buffer.byteLength(a) ? b : a), '');
      return floor > LONGEST_TARGET_LABEL_VALUE
        ? `${floor} bytes: the value of the job label ${longestJob} on every series of that job`
        : `${floor} bytes: the longest value Vigil's target labels can have (pod names up to 253, instance <address>:<port> up to 253 + 6)`;
    }
  }
}

/**
 * Problems of a service's spec.limits under `settings`: one per limit above its ceiling (0 counts as
 * above a finite one), and one per label limit below its floor (scrapeLimitFloors of `jobNames`).
 */
export function scrapeLimitIssues(limits: ScrapeLimits | undefined, settings: ScrapeLimitSettings, jobNames: readonly string[] = []): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const floors = scrapeLimitFloors(jobNames);
  for (const field of ['labelLimit', 'labelNameLengthLimit', 'labelValueLengthLimit'] as const) {
    const value = limits?.[field];
    if (value === undefined || value === 0 || value >= floors[field]) continue;
    issues.push({
      field: `spec.limits.${field}`,
      message: `${value} is below ${floorReason(field, floors[field], jobNames)}: Prometheus would fail every scrape of a healthy target (up 0); ask for at least ${floors[field]}`,
    });
  }
  for (const field of SCRAPE_LIMIT_FIELDS) {
    const value = limits?.[field];
    const ceiling = settings.ceilings[field];
    if (value === undefined || !exceeds(field, value, ceiling)) continue;
    issues.push({
      field: `spec.limits.${field}`,
      message: `${unlimited(value)} is above the cluster ceiling ${ceiling} (operator setting scrapeLimits.ceilings.${field}); ask for at most ${ceiling}, or ask the cluster's administrators to raise the ceiling`,
    });
  }
  return issues;
}

/** A service whose spec is well-formed but refused by the cluster's settings (validate/index.ts reports its issues). */
export class ScrapeLimitRefusal extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
  }
}

/**
 * The limits every job of a service runs with: each field of spec.limits, or the cluster default.
 * Throws ScrapeLimitRefusal when a field is above its ceiling.
 */
export function resolveScrapeLimits(limits: ScrapeLimits | undefined, settings: ScrapeLimitSettings, jobNames: readonly string[] = []): ResolvedScrapeLimits {
  const issues = scrapeLimitIssues(limits, settings, jobNames);
  if (issues.length > 0) throw new ScrapeLimitRefusal(issues);
  const resolved = { ...settings.defaults };
  for (const field of SCRAPE_COUNT_LIMIT_FIELDS) resolved[field] = limits?.[field] ?? resolved[field];
  resolved.bodySizeLimit = limits?.bodySizeLimit ?? resolved.bodySizeLimit;
  return resolved;
}

/**
 * The scrape_config keys of `limits` (sample_limit: 10000, body_size_limit: 10MB, ...). An unlimited
 * one is left out: Prometheus reads 0 or absent alike as "the global value", and Vigil sets no global
 * limits, so both mean unlimited.
 */
export function scrapeLimitFields(limits: ResolvedScrapeLimits): Record<string, number | string> {
  const fields: Record<string, number | string> = {};
  for (const field of SCRAPE_LIMIT_FIELDS) {
    const value = limits[field];
    if (String(value) !== '0') fields[PROMETHEUS_LIMIT_KEYS[field]] = value;
  }
  return fields;
}

/**
 * Go template text for a down alert's description (render/rules.ts): says, for each target whose
 * last scrape returned more samples than `sampleLimit`, that the limit is why it is down. Alert
 * rules see `up`, not the scrape error; scrape_samples_scraped of a scrape failed by the limit still
 * counts every sample returned, and is 0 for a scrape that failed otherwise. Expands to nothing when
 * no target is over (or the limit is unlimited), so other outages read as before.
 * `samplesSelector`: scrape_samples_scraped{...} of the service's jobs; `perInstance`: only the
 * alert's own instance ($labels.job, $labels.instance), for ServiceTargetDown.
 */
export function sampleLimitReasonTemplate(samplesSelector: string, sampleLimit: number, perInstance: boolean): string {
  if (sampleLimit === 0) return '';
  const reason = `returned {{ .Value | printf "%.0f" }} samples, more than its spec.limits.sampleLimit ${sampleLimit}: Prometheus fails such a scrape as a whole (up 0). Cut the series it exposes or raise the limit.`;
  if (perInstance) {
    return `{{ with printf "scrape_samples_scraped{job=%q, instance=%q} > ${sampleLimit}" $labels.job $labels.instance | query }}{{ range . }} Its last scrape ${reason}{{ end }}{{ end }}`;
  }
  return `{{ range query \`${samplesSelector} > ${sampleLimit}\` }} Target {{ .Labels.instance }} ${reason}{{ end }}`;
}
