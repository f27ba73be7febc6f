import { describe, expect, it } from '@jest/globals';
import { graceOf, restartGapMs, restartPages, restartProblem } from './restart-gap.js';

const s = (seconds: number) => seconds * 1000;
const one = (interval: number, timeout: number) => [{ intervalMs: s(interval), timeoutMs: s(timeout) }];

describe('restartGapMs: the longest a restart leaves a healthy service without a current up sample', () => {
  it('is none with the defaults: up runs out of the 5m lookback long after the record window closed', () => {
    // grace 60s, window reach (ceil(60/15) + 1)·15s = 75s < 5m - 25s.
    expect(graceOf(one(15, 10))).toBe(s(60));
    expect(restartGapMs(one(15, 10), s(15))).toBeUndefined();
    expect(restartGapMs(one(15, 10), s(30))).toBeUndefined();
  });

  it('is interval + timeout + 30s once the lookback runs out before the record window closes', () => {
    // 4m + 10s: grace 4m40s, reach (ceil(280/30) + 1)·30s = 330s > 5m - 250s.
    expect(restartGapMs(one(240, 10), s(30))).toBe(s(280));
    // The edge with 30s evaluations and 10s timeouts: 1m15s (grace 180s, reach 210s, 5m - 85s = 215s) cannot,
    // 1m15.5s (grace 181s, reach 240s, 5m - 85.5s = 214.5s) can, for up to 115.5s.
    expect(restartGapMs(one(75, 10), s(30))).toBeUndefined();
    expect(restartGapMs(one(75.5, 10), s(30))).toBe(s(115.5));
    // With 15s evaluations the edge is 1m20s (reach (ceil(190/15) + 1)·15s = 210s = 5m - 90s).
    expect(restartGapMs(one(80, 10), s(15))).toBeUndefined();
    expect(restartGapMs(one(80.001, 10), s(15))).toBe(s(120.001));
  });

  it('takes the fastest endpoint for the gap and the slowest for the grace', () => {
    // Grace from 4m + 10s (4m40s), gap from 1m + 10s: 5m - 70s = 230s < 330s.
    expect(restartGapMs([...one(60, 10), ...one(240, 10)], s(30))).toBe(s(100));
    expect(restartGapMs(one(60, 10), s(30))).toBeUndefined();
  });
});

describe('restartPages: ServiceDown fires ceil(for/E)·E after it became pending', () => {
  it('pages when that comes before the first new sample', () => {
    expect(restartPages(one(240, 10), s(30), s(270))).toBe(true); // 9 evaluations, 270s < 280s
    expect(restartPages(one(240, 10), s(30), s(270.001))).toBe(false); // 10 evaluations, 300s
    expect(restartPages(one(240, 10), s(30), 0)).toBe(true);
    expect(restartPages(one(15, 10), s(30), 0)).toBe(false);
  });
});

describe('restartProblem', () => {
  it('names spec.downAlert.for, the endpoint, the reason and what is accepted', () => {
    expect(restartProblem(one(240, 10), '4m30s', '30s')).toEqual({
      field: 'spec.downAlert.for',
      // What the salvage of an earlier generation runs with: 10 evaluations, as any accepted value.
      accepted: '5m',
      message:
        '4m30s is too short for spec.endpoints[0] (interval 4m, scrapeTimeout 10s, evaluationInterval 30s): after a Prometheus restart on a kept TSDB a healthy service can go without a current up sample for up to 4m40s (Prometheus writes no staleness marker at shutdown, so the last sample runs out of the 5m lookback while the restarted one still discovers and scrapes the target), and ServiceDown would page it; use a for above 4m30s, or an interval of at most 3m50s on spec.endpoints[0] with this scrapeTimeout',
    });
    expect(restartProblem(one(240, 10), '4m30s1ms', '30s')).toBeUndefined();
    // 1m with 1m20s/10s at 30s evaluations: refused up to 1m15s (the edge above); 1m30s of gap+... is 2m.
    expect(restartProblem(one(80, 10), '1m', '30s')?.message).toMatch(/up to 2m \(.*use a for above 1m30s, or an interval of at most 1m15s on spec\.endpoints\[0\] with this scrapeTimeout$/);
  });

  it('names the fastest endpoint of several and leaves out an interval that cannot help', () => {
    const message = restartProblem([...one(240, 10), ...one(200, 100)], '0s', '30s')?.message ?? '';
    expect(message).toMatch(/^0s is too short for spec\.endpoints\[0\] \(the fastest endpoint: any healthy target ends the gap\) \(interval 4m, scrapeTimeout 10s/);
    expect(message).toMatch(/use a for above 4m30s$/);
  });
});
