import { readFileSync } from 'node:fs';
import { bodySizeBytes, PROMETHEUS_LIMIT_KEYS, SCRAPE_LIMIT_FIELDS } from '../api/scrape-limits.js';
import { defaultSettings } from './index.js';
import { scrapeJobs } from './prometheus.js';
import { DEFAULT_SCRAPE_LIMIT_SETTINGS, mergeScrapeLimitSettings, resolveScrapeLimits, ScrapeLimitRefusal, scrapeLimitFields, scrapeLimitIssues } from './scrape-limits.js';
import { settingsFromObject } from './settings.js';
import { validateMonitoredService } from '../validate/index.js';
import { renderConfig } from '../assemble/config.js';

const settings = DEFAULT_SCRAPE_LIMIT_SETTINGS;

const service = (limits?: Record<string, unknown>, endpoints = [{ port: 'metrics' }, { port: 'admin' }]) => ({
  apiVersion: 'vigil.dev/v1alpha1',
  kind: 'MonitoredService',
  metadata: { name: 'web', namespace: 'team' },
  spec: { selector: { matchLabels: { app: 'web' } }, endpoints, ...(limits ? { limits } : {}) },
});

describe('bodySizeBytes', () => {
  it('reads sizes as Prometheus 3.15.1 does: KB and KiB alike are 1024 bytes', () => {
    expect(bodySizeBytes('10MB')).toBe(10 * 1024 * 1024);
    expect(bodySizeBytes('10MiB')).toBe(10 * 1024 * 1024);
    expect(bodySizeBytes('512KB')).toBe(512 * 1024);
    expect(bodySizeBytes('1GB')).toBe(1024 ** 3);
    expect(bodySizeBytes('100B')).toBe(100);
    expect(bodySizeBytes('0')).toBe(0);
  });
  it('refuses what it does not read exactly (kB, decimals, no unit)', () => {
    for (const s of ['10kB', '1.5MB', '1000', '10 MB', '', '0MB', '010MB']) expect(bodySizeBytes(s)).toBeUndefined();
  });
});

describe('resolveScrapeLimits', () => {
  it('gives a service asking nothing the cluster defaults', () => {
    expect(resolveScrapeLimits(undefined, settings)).toEqual(settings.defaults);
    expect(resolveScrapeLimits({}, settings)).toEqual(settings.defaults);
  });
  it('takes each field the service sets, the default for the others', () => {
    expect(resolveScrapeLimits({ sampleLimit: 500, bodySizeLimit: '1MB' }, settings)).toEqual({ ...settings.defaults, sampleLimit: 500, bodySizeLimit: '1MB' });
  });
  it('accepts a value equal to the ceiling', () => {
    expect(resolveScrapeLimits({ sampleLimit: 50_000, bodySizeLimit: '100MB' }, settings).sampleLimit).toBe(50_000);
    // 100MB written another way is the same size.
    expect(resolveScrapeLimits({ bodySizeLimit: '102400KB' }, settings).bodySizeLimit).toBe('102400KB');
  });
  it('refuses each field above its ceiling, naming field, value and ceiling', () => {
    const issues = scrapeLimitIssues({ sampleLimit: 50_001, labelLimit: 65, bodySizeLimit: '101MB', targetLimit: 10 }, settings);
    expect(issues).toEqual([
      {
        field: 'spec.limits.sampleLimit',
        message: "50001 is above the cluster ceiling 50000 (operator setting scrapeLimits.ceilings.sampleLimit); ask for at most 50000, or ask the cluster's administrators to raise the ceiling",
      },
      {
        field: 'spec.limits.labelLimit',
        message: "65 is above the cluster ceiling 64 (operator setting scrapeLimits.ceilings.labelLimit); ask for at most 64, or ask the cluster's administrators to raise the ceiling",
      },
      {
        field: 'spec.limits.bodySizeLimit',
        message: "101MB is above the cluster ceiling 100MB (operator setting scrapeLimits.ceilings.bodySizeLimit); ask for at most 100MB, or ask the cluster's administrators to raise the ceiling",
      },
    ]);
    expect(() => resolveScrapeLimits({ sampleLimit: 50_001 }, settings)).toThrow(ScrapeLimitRefusal);
  });
  it('refuses label limits below what the labels Vigil puts on every series need (__name__, job, instance, namespace, service, pod), saying the minimum and why', () => {
    const issues = scrapeLimitIssues({ labelLimit: 5, labelNameLengthLimit: 8, labelValueLengthLimit: 20 }, settings, ['vigil/team/web/metrics']);
    expect(issues).toEqual([
      {
        field: 'spec.limits.labelLimit',
        message:
          "5 is below 7 labels: __name__ and job, instance, namespace, service, pod (set on every series by Vigil's scrape job) and one of the app's own: Prometheus would fail every scrape of a healthy target (up 0); ask for at least 7",
      },
      {
        field: 'spec.limits.labelNameLengthLimit',
        message:
          '8 is below 9 bytes: the longest label name on every scraped series (job, instance, namespace, service, pod, __name__): Prometheus would fail every scrape of a healthy target (up 0); ask for at least 9',
      },
      {
        field: 'spec.limits.labelValueLengthLimit',
        message:
          "20 is below 259 bytes: the longest value Vigil's target labels can have (pod names up to 253, instance <address>:<port> up to 253 + 6): Prometheus would fail every scrape of a healthy target (up 0); ask for at least 259",
      },
    ]);
    // The minimums themselves, and 0 (unlimited, where the cluster allows it), pass.
    expect(scrapeLimitIssues({ labelLimit: 7, labelNameLengthLimit: 9, labelValueLengthLimit: 259 }, settings, ['vigil/team/web/metrics'])).toEqual([]);
    const open = mergeScrapeLimitSettings(settings, { ceilings: { labelLimit: 0, labelNameLengthLimit: 0, labelValueLengthLimit: 0 } });
    expect(scrapeLimitIssues({ labelLimit: 0, labelNameLengthLimit: 0, labelValueLengthLimit: 0 }, open, ['vigil/team/web/metrics'])).toEqual([]);
    // A job name longer than 259 bytes (vigil/<ns>/<name>/<port>) raises the value floor to its length.
    const longJob = `vigil/team/${'a'.repeat(250)}/metrics`;
    expect(scrapeLimitIssues({ labelValueLengthLimit: 268 }, settings, [longJob])).toEqual([
      {
        field: 'spec.limits.labelValueLengthLimit',
        message: `268 is below 269 bytes: the value of the job label ${longJob} on every series of that job: Prometheus would fail every scrape of a healthy target (up 0); ask for at least 269`,
      },
    ]);
    expect(() => resolveScrapeLimits({ labelLimit: 6 }, settings)).toThrow(ScrapeLimitRefusal);
  });
  it('floors count exactly the target labels the rendered scrape job gives every series', () => {
    const parsed = validateMonitoredService(service());
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const [job] = scrapeJobs(parsed.service, defaultSettings()) as { relabel_configs: { target_label?: string }[] }[];
    const added = job!.relabel_configs.flatMap((r) => (r.target_label ? [r.target_label] : []));
    // job and instance come from Prometheus itself (job_name, __address__).
    expect(['job', 'instance', ...added].sort()).toEqual(['instance', 'job', 'namespace', 'pod', 'service']);
  });
  it('refuses 0 (unlimited) under a ceiling, accepts it where there is none', () => {
    expect(scrapeLimitIssues({ sampleLimit: 0 }, settings)[0]?.message).toMatch(/^0 \(unlimited\) is above the cluster ceiling 50000/);
    expect(scrapeLimitIssues({ bodySizeLimit: '0' }, settings)[0]?.field).toBe('spec.limits.bodySizeLimit');
    const open = mergeScrapeLimitSettings(settings, { ceilings: { sampleLimit: 0, bodySizeLimit: '0' } });
    expect(resolveScrapeLimits({ sampleLimit: 0, bodySizeLimit: '0' }, open)).toMatchObject({ sampleLimit: 0, bodySizeLimit: '0' });
    expect(resolveScrapeLimits({ sampleLimit: 10_000_000 }, open).sampleLimit).toBe(10_000_000);
  });
});

describe('scrapeLimitFields', () => {
  it("uses Prometheus's scrape_config keys and leaves unlimited ones out", () => {
    expect(scrapeLimitFields({ ...settings.defaults, targetLimit: 0, bodySizeLimit: '0' })).toEqual({
      sample_limit: 10_000,
      label_limit: 40,
      label_name_length_limit: 256,
      label_value_length_limit: 2048,
    });
  });
  it('puts the same limits on every job of the service', () => {
    const parsed = validateMonitoredService(service({ sampleLimit: 2000 }));
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const jobs = scrapeJobs(parsed.service, defaultSettings());
    expect(jobs).toHaveLength(2);
    for (const job of jobs) {
      expect(job).toMatchObject({ sample_limit: 2000, target_limit: 100, label_limit: 40, label_name_length_limit: 256, label_value_length_limit: 2048, body_size_limit: '10MB' });
    }
  });
});

describe('scrape limit settings', () => {
  it('merge field by field over the defaults', () => {
    const s = settingsFromObject({ scrapeLimits: { defaults: { sampleLimit: 2000 }, ceilings: { bodySizeLimit: '1GB' } } }, 'settings.yaml');
    expect(s.scrapeLimits.defaults).toEqual({ ...settings.defaults, sampleLimit: 2000 });
    expect(s.scrapeLimits.ceilings).toEqual({ ...settings.ceilings, bodySizeLimit: '1GB' });
  });
  it('refuse a default above its ceiling, and unknown keys', () => {
    expect(() => settingsFromObject({ scrapeLimits: { defaults: { sampleLimit: 60_000 } } }, 'settings.yaml')).toThrow(
      'settings.yaml: scrapeLimits.defaults.sampleLimit: 60000 is above ceilings.sampleLimit 50000: a default must be within its ceiling',
    );
    expect(() => settingsFromObject({ scrapeLimits: { defaults: { bodySizeLimit: '0' } } }, 'settings.yaml')).toThrow(/defaults.bodySizeLimit: 0 \(unlimited\) is above ceilings.bodySizeLimit 100MB/);
    expect(() => settingsFromObject({ scrapeLimits: { ceilings: { sampleLimits: 1 } } }, 'settings.yaml')).toThrow(/sampleLimits/);
    expect(() => settingsFromObject({ scrapeLimits: { defaults: { labelLimit: 5 } } }, 'settings.yaml')).toThrow(
      "settings.yaml: scrapeLimits.defaults.labelLimit: 5 is below 7 labels: __name__ and job, instance, namespace, service, pod (set on every series by Vigil's scrape job) and one of the app's own: Prometheus would fail every scrape of a healthy target (up 0); set at least 7",
    );
    expect(() => settingsFromObject({ scrapeLimits: { ceilings: { labelValueLengthLimit: 100 } } }, 'settings.yaml')).toThrow(/scrapeLimits.ceilings.labelValueLengthLimit: 100 is below 259 bytes/);
  });
});

describe('validateMonitoredService with the cluster settings', () => {
  it('refuses a service above a ceiling with one issue per field; the others render', () => {
    const render = (s: Parameters<typeof renderConfig>[0][number]) => void renderConfig([s], defaultSettings());
    const refused = validateMonitoredService(service({ sampleLimit: 60_000, labelValueLengthLimit: 9000 }), render);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.issues.map((i) => i.field)).toEqual(['spec.limits.sampleLimit', 'spec.limits.labelValueLengthLimit']);
    expect(validateMonitoredService(service({ sampleLimit: 40_000 }), render).ok).toBe(true);
  });
  it('refuses label limits no healthy scrape passes (labelLimit 5, labelNameLengthLimit 8, labelValueLengthLimit 20), one issue per field', () => {
    const refused = validateMonitoredService(service({ labelLimit: 5, labelNameLengthLimit: 8, labelValueLengthLimit: 20 }));
    expect(refused.ok).toBe(false);
    if (!refused.ok)
      expect(refused.issues.map((i) => `${i.field}: ${i.message.split(' ').slice(0, 4).join(' ')}`)).toEqual([
        'spec.limits.labelLimit: 5 is below 7',
        'spec.limits.labelNameLengthLimit: 8 is below 9',
        'spec.limits.labelValueLengthLimit: 20 is below 259',
      ]);
    expect(validateMonitoredService(service({ labelLimit: 7, labelNameLengthLimit: 9, labelValueLengthLimit: 259 })).ok).toBe(true);
  });
  it('refuses what the schema cannot take, naming the field', () => {
    for (const [limits, field] of [
      [{ sampleLimit: -1 }, 'spec.limits.sampleLimit'],
      [{ sampleLimit: 1.5 }, 'spec.limits.sampleLimit'],
      [{ bodySizeLimit: '10kB' }, 'spec.limits.bodySizeLimit'],
      [{ keepDroppedTargets: 5 }, 'spec.limits.keepDroppedTargets'],
    ] as const) {
      const result = validateMonitoredService(service(limits));
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.issues.map((i) => i.field)).toContain(field);
    }
  });
});

describe('docs/monitoredservice.md', () => {
  it('states the defaults and ceilings the operator has', () => {
    const doc = readFileSync(new URL('../../docs/monitoredservice.md', import.meta.url), 'utf8');
    for (const field of SCRAPE_LIMIT_FIELDS) {
      expect(doc).toContain(`| \`${field}\` (\`${PROMETHEUS_LIMIT_KEYS[field]}\`) | ${settings.defaults[field]} | ${settings.ceilings[field]} |`);
    }
  });
});
