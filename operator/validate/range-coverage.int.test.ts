// The range check against the real PromQL engine (promtool of the Prometheus Vigil deploys): for
// each function, scrape interval and range around the boundaries, a model of left-open ranges
// over samples one interval apart says at which evaluations the function returns data; promtool
// must show exactly that, and validation must refuse exactly the ranges where the model says
// "never" or "only sometimes".
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { formatDurationMs, parseDurationMs } from './duration.js';
import { validateMonitoredService } from './index.js';

const PROMTOOL = resolve('bin/promtool');
const run = promisify(execFile);

/** Functions and how their result shows: present, or (changes, stddev_over_time) non-zero on a series that changes at every scrape. */
const FUNCTIONS: { fn: string; call: (range: string) => string; needs: number }[] = [
  ...['rate', 'irate', 'increase', 'delta', 'idelta', 'deriv'].map((fn) => ({ fn, call: (r: string) => `${fn}(x[${r}])`, needs: 2 })),
  { fn: 'predict_linear', call: (r) => `predict_linear(x[${r}], 60)`, needs: 2 },
  { fn: 'changes', call: (r) => `(changes(x[${r}]) != 0)`, needs: 2 },
  { fn: 'stddev_over_time', call: (r) => `(stddev_over_time(x[${r}]) != 0)`, needs: 2 },
  ...['max_over_time', 'count_over_time', 'last_over_time', 'absent_over_time'].map((fn) => ({
    fn,
    // absent_over_time returns data when the range is empty: its absence is the other functions' presence.
    call: (r: string) => (fn === 'absent_over_time' ? `absent(absent_over_time(x[${r}]))` : `${fn}(x[${r}])`),
    needs: 1,
  })),
];
const INTERVALS = ['15s', '1m'];
/** Ranges as fractions of the interval, plus 1 s below two intervals. */
const RANGES = (intervalMs: number) => [0.5, 1, 1.5, 2, 4].map((f) => f * intervalMs).concat(2 * intervalMs - 1000);
const EVALUATION_STEP_MS = 1000;

interface Case {
  name: string;
  interval: string;
  range: string;
  expr: string;
  /** Evaluation times (ms) and whether the function returns data there, per the model. */
  present: [number, boolean][];
}

/** Samples at 0, I, 2I, ...; a range (t - R, t] holds those in it (Prometheus 3: left-open). */
function samplesIn(t: number, rangeMs: number, intervalMs: number): number {
  let n = 0;
  for (let k = 0; k * intervalMs <= t; k++) if (k * intervalMs > t - rangeMs) n++;
  return n;
}

function cases(): Case[] {
  return INTERVALS.flatMap((interval) => {
    const intervalMs = parseDurationMs(interval) as number;
    // Two intervals' worth of evaluations, after every range has filled.
    const times: number[] = [];
    for (let t = 5 * intervalMs; t < 7 * intervalMs; t += EVALUATION_STEP_MS) times.push(t);
    return FUNCTIONS.flatMap(({ fn, call, needs }) =>
      RANGES(intervalMs).map((rangeMs) => {
        const range = formatDurationMs(rangeMs);
        return {
          name: `${fn}_${interval}_${range}`,
          interval,
          range,
          expr: call(range),
          present: times.map((t): [number, boolean] => [t, samplesIn(t, rangeMs, intervalMs) >= needs]),
        };
      }),
    );
  });
}

const ALL = cases();

function verdict(c: Case): 'accepted' | 'refused: never' | 'refused: sometimes' {
  const result = validateMonitoredService({
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { name: 'svc', namespace: 'ns' },
    spec: { selector: { matchLabels: { app: 'svc' } }, endpoints: [{ port: 'metrics', interval: c.interval }], rules: [{ name: 'R', expr: `${c.expr} > -1e300` }] },
  });
  if (result.ok) return 'accepted';
  const message = result.issues.map((i) => i.message).join('\n');
  return /in some evaluations/.test(message) ? 'refused: sometimes' : 'refused: never';
}

describe('range check against the PromQL engine', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-range-coverage-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('validation refuses exactly the ranges the model says never or only sometimes return data', () => {
    const expected = ALL.map((c) => {
      const present = c.present.filter(([, p]) => p).length;
      return `${c.name}: ${present === c.present.length ? 'accepted' : present === 0 ? 'refused: never' : 'refused: sometimes'}`;
    });
    expect(ALL.map((c) => `${c.name}: ${verdict(c)}`)).toEqual(expected);
    // The model is not trivial: all three outcomes occur.
    expect(new Set(expected.map((e) => e.split(': ').slice(1).join(': '))).size).toBe(3);
  });

  it.each(INTERVALS)(
    'promtool shows data exactly where the model says, series scraped every %s',
    async (interval) => {
      const mine = ALL.filter((c) => c.interval === interval);
      // One alert per case that fires when the function returns no data.
      const rules = { groups: [{ name: 'ranges', interval: `${EVALUATION_STEP_MS / 1000}s`, rules: mine.map((c) => ({ alert: c.name, expr: `absent(${c.expr})` })) }] };
      const last = Math.max(...mine.flatMap((c) => c.present.map(([t]) => t)));
      const test = {
        rule_files: [`ranges-${interval}.rules.yaml`],
        evaluation_interval: `${EVALUATION_STEP_MS / 1000}s`,
        tests: [
          {
            interval,
            input_series: [{ series: 'x', values: `0+1x${Math.ceil(last / (parseDurationMs(interval) as number)) + 2}` }],
            alert_rule_test: mine.flatMap((c) => c.present.map(([t, present]) => ({ eval_time: formatDurationMs(t), alertname: c.name, exp_alerts: present ? [] : [{ exp_labels: {} }] }))),
          },
        ],
      };
      writeFileSync(join(dir, `ranges-${interval}.rules.yaml`), stringify(rules));
      writeFileSync(join(dir, `ranges-${interval}.test.yaml`), stringify(test));
      const { stdout } = await run(PROMTOOL, ['test', 'rules', `ranges-${interval}.test.yaml`], { cwd: dir, timeout: 120_000 }).catch((err: { stdout?: string; stderr?: string }) => {
        throw new Error(`promtool disagrees with the model:\n${err.stdout ?? ''}${err.stderr ?? ''}`.slice(0, 20_000));
      });
      expect(stdout).toContain('SUCCESS');
    },
    180_000,
  );
});
