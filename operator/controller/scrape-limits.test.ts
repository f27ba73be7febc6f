import { DEFAULT_SCRAPE_LIMIT_SETTINGS } from '../render/scrape-limits.js';
import { scrapeLimitHit, scrapeLimitMessage } from './scrape-limits.js';

// The resolved limits of a service asking sampleLimit 1000; the others are the cluster defaults.
const limits = { ...DEFAULT_SCRAPE_LIMIT_SETTINGS.defaults, sampleLimit: 1000 };

// Each lastError as Prometheus 3.15.1 formats it (scrape/scrape.go, scrape/target.go).
describe('scrapeLimitHit', () => {
  it('sample limit: the configured value, and the samples the scrape returned when given', () => {
    expect(scrapeLimitHit('sample limit exceeded', limits)).toEqual({ field: 'sampleLimit', limit: 1000, lastError: 'sample limit exceeded' });
    expect(scrapeLimitHit('sample limit exceeded', limits, { samplesScraped: 1600 })).toMatchObject({ field: 'sampleLimit', limit: 1000, observed: 1600 });
    expect(scrapeLimitHit('sample limit exceeded')).toEqual({ field: 'sampleLimit', limit: undefined, lastError: 'sample limit exceeded' });
  });

  it("target limit: Prometheus's own count and limit", () => {
    expect(scrapeLimitHit('target_limit exceeded (number of targets: 12, limit: 10)', limits)).toMatchObject({ field: 'targetLimit', limit: 10, observed: 12 });
  });

  it('label limit: the metric, the label count and the limit', () => {
    expect(scrapeLimitHit('label_limit exceeded (metric: http_requests_total, number of labels: 41, limit: 40)', limits)).toMatchObject({
      field: 'labelLimit',
      limit: 40,
      observed: 41,
      metric: 'http_requests_total',
    });
  });

  it('label name and value length limits: metric, label and length', () => {
    const name = `label_name_length_limit exceeded (metric: app_info, label name: ${'x'.repeat(50)}, length: 300, limit: 256)`;
    expect(scrapeLimitHit(name, limits)).toMatchObject({ field: 'labelNameLengthLimit', limit: 256, observed: 300, metric: 'app_info', labelName: 'x'.repeat(50) });
    // %.50q: a quoted value that may itself hold ", length: " and ")".
    const value = 'label_value_length_limit exceeded (metric: app_info, label name: query, value: "select a, length: 3, limit: 4) from t where ...", length: 4096, limit: 2048)';
    expect(scrapeLimitHit(value, limits)).toMatchObject({ field: 'labelValueLengthLimit', limit: 2048, observed: 4096, metric: 'app_info', labelName: 'query' });
  });

  it('body size limit: the configured size', () => {
    expect(scrapeLimitHit('body size limit exceeded', limits)).toMatchObject({ field: 'bodySizeLimit', limit: '10MB' });
  });

  it('is undefined for other scrape errors and for none', () => {
    for (const e of [
      undefined,
      '',
      'Get "http://10.0.0.1:8080/metrics": dial tcp 10.0.0.1:8080: connect: connection refused',
      'Get "http://10.0.0.1:8080/metrics": context deadline exceeded',
      'histogram bucket limit exceeded',
      'invalid metric name or label names: {a="b"}',
      'prefix sample limit exceeded',
    ]) {
      expect(scrapeLimitHit(e, limits)).toBeUndefined();
    }
  });
});

describe('scrapeLimitMessage', () => {
  it('names the field, its value, what was reached and what to do', () => {
    expect(scrapeLimitMessage(scrapeLimitHit('sample limit exceeded', limits, { samplesScraped: 1600 })!)).toBe(
      'scrape over spec.limits.sampleLimit 1000 (reached 1600 samples): Prometheus fails the whole scrape (up 0, sample_limit); reduce what the target exposes, or raise spec.limits.sampleLimit (up to the cluster ceiling)',
    );
    expect(scrapeLimitMessage(scrapeLimitHit('label_limit exceeded (metric: http_requests_total, number of labels: 41, limit: 40)')!)).toBe(
      'scrape over spec.limits.labelLimit 40 (reached 41 labels in http_requests_total): Prometheus fails the whole scrape (up 0, label_limit); reduce what the target exposes, or raise spec.limits.labelLimit (up to the cluster ceiling)',
    );
    expect(scrapeLimitMessage(scrapeLimitHit('target_limit exceeded (number of targets: 12, limit: 10)')!)).toBe(
      'scrape over spec.limits.targetLimit 10 (reached 12 targets): Prometheus fails the whole scrape (up 0, target_limit); every scrape of the job fails until the targets are within the limit; raise spec.limits.targetLimit or select fewer targets',
    );
    expect(scrapeLimitMessage(scrapeLimitHit('body size limit exceeded', limits)!)).toBe(
      'scrape over spec.limits.bodySizeLimit 10MB: Prometheus fails the whole scrape (up 0, body_size_limit); reduce what the target exposes, or raise spec.limits.bodySizeLimit (up to the cluster ceiling)',
    );
  });
});
