// The built-in down alerts over the whole range of timings a MonitoredService may have (issue 21):
// for scrape intervals, scrape timeouts and `for` values generated from the schema's own bounds
// (boundaries plus values spread across the range, `for` up to Prometheus's own limit, evaluation
// intervals up to the chart's), promtool's rule unit tests (the pinned ./bin/promtool) show that a
// healthy target never pages and a failing, vanished or never-seen one pages within the documented
// bound, at exactly activeAt + ceil(F/E)·E (docs/monitoredservice.md "How fast ServiceDown
// pages"), and that recovery resolves it within one evaluation; and which settings page a healthy
// service after a Prometheus restart on a kept TSDB (a documented limit). Values just outside the
// bounds are refused by validation, naming the field.
//
// One test file per case with six groups (promtool loads every rule file of a test file into each
// of its groups: one file for all would evaluate every case's rules in every group), all run by one
// promtool call. Series are written in promtool's expanding notation, so a case spanning a day
// costs its evaluations only.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { DEFAULT_SCRAPE_TIMEOUT, DownAlertSchema, LOOKBACK_DELTA, MIN_SCRAPE_TIMEOUT, MonitoredServiceSchema } from '../../operator/api/schema.js';
import { defaultSettings } from '../../operator/render/index.js';
import { discoveryGraceMs, renderRuleFile } from '../../operator/render/rules.js';
import { jobName, refOf } from '../../operator/render/names.js';
import { scrapeTiming } from '../../operator/render/scrape-timing.js';
import { validateMonitoredService } from '../../operator/validate/index.js';
import { formatDurationMs, MAX_DURATION_MS, parseDurationMs } from '../../operator/validate/duration.js';
import { GLOBAL_TIMING_BOUNDS } from '../../operator/render/global-timing.js';

const run = promisify(execFile);
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROMTOOL = join(REPO, 'bin', 'promtool');

const ms = (d: string) => {
  const v = parseDurationMs(d);
  if (v === undefined) throw new Error(`not a duration: ${d}`);
  return v;
};
const MIN = ms(MIN_SCRAPE_TIMEOUT);
const LOOKBACK = ms(LOOKBACK_DELTA);
const DEFAULT_FOR = ms(DownAlertSchema.parse({}).for);
/** The chart's largest evaluationInterval. */
const EVALUATION_MAX = GLOBAL_TIMING_BOUNDS.find((b) => b.field === 'evaluationInterval')!.maxMs;
/**
 * Largest `for` run to its firing by promtool (evaluations every EVALUATION_MAX until then: about
 * 1.8 s of CPU per simulated day and group). Above it the test shows that Prometheus loads the value
 * and holds the alert pending; the firing time is then a pure shift, see longForCases.
 */
const MAX_PROVEN_FOR = 86_400_000;
/**
 * A healthy target's inputs repeat with its scrape period once the grace is over, and ALERTS
 * counts pending alerts too: a check that runs this long past the grace sees all there is to see,
 * whatever `for` is.
 */
const HEALTHY_HORIZON = 3_600_000;
/** How long the restarted Prometheus is down: a container restart with a short WAL replay. */
const RESTART_MS = 30_000;

/**
 * Whether a healthy service pages after a Prometheus restart on a kept TSDB: its last sample
 * (lastGood) leaves the lookback at lastGood + 5m, ServiceDown is active from the next evaluation
 * and fires ceil(F/E)·E later unless the first new sample (newSample) came by then. Times in ms.
 */
function restartPages({ lastGood, newSample, E, F }: { lastGood: number; newSample: number; E: number; F: number }): boolean {
  return ceilTo(lastGood + LOOKBACK, E) + ceilTo(F, E) < newSample;
}
/** Generated values are multiples of this (sample times of the input series are on its grid). */
const STEP = 500;
/**
 * How long after its rules are first evaluated a new target's first scrape may land at the latest,
 * besides interval + timeout: Prometheus hands discovered targets over every 5 s, a Kubernetes watch
 * lists first. discoveryGraceMs leaves 30 s for it; the test uses most of that.
 */
const DISCOVERY_MS = 25_000;

/** n values from lo to hi (both included), spread geometrically, rounded to STEP. */
function spread(lo: number, hi: number, n: number): number[] {
  const out = new Set<number>();
  for (let k = 0; k < n; k++) out.add(Math.round((lo * (hi / lo) ** (k / (n - 1))) / STEP) * STEP);
  return [...out].filter((v) => v >= lo && v <= hi).sort((a, b) => a - b);
}

function service(name: string, endpoint: { interval?: string; scrapeTimeout?: string }, forText: string): Record<string, unknown> {
  return {
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { name, namespace: 'timing' },
    spec: { selector: { matchLabels: { app: name } }, endpoints: [{ port: 'metrics', ...endpoint }], downAlert: { for: forText } },
  };
}

interface Case {
  name: string;
  endpoint: { interval?: string; scrapeTimeout?: string };
  for: string;
  evaluation: string;
}

/**
 * Interval and timeout pairs across the schema's range: the shortest interval and timeout, the
 * longest interval the lookback leaves, values between, and for each interval the shortest timeout,
 * the default composition (no timeout written), the timeout equal to the interval and the longest
 * the lookback leaves. Only what validation admits is kept; `for` and the evaluation interval are
 * cycled through their own generated values.
 */
function admittedCases(): Case[] {
  const intervals = [...new Set([MIN, ...spread(MIN, LOOKBACK - MIN, 9), LOOKBACK - MIN, STEP * 3])].sort((a, b) => a - b);
  const fors = [0, STEP, ...spread(STEP, 3_600_000, 5), DEFAULT_FOR];
  const evaluations = ['15s', '5s', formatDurationMs(EVALUATION_MAX)];
  const cases: Case[] = [];
  for (const interval of intervals) {
    const timeouts = new Set<number | undefined>([undefined, MIN, interval, LOOKBACK - interval, Math.round((MIN + interval) / 2 / STEP) * STEP]);
    for (const timeout of timeouts) {
      if (timeout !== undefined && (timeout < MIN || timeout > interval)) continue;
      const endpoint = { interval: formatDurationMs(interval), ...(timeout === undefined ? {} : { scrapeTimeout: formatDurationMs(timeout) }) };
      const k = cases.length;
      const c: Case = { name: `t${k}`, endpoint, for: formatDurationMs(fors[k % fors.length]!), evaluation: evaluations[k % evaluations.length]! };
      if (validateMonitoredService(service(c.name, c.endpoint, c.for)).ok) cases.push(c);
    }
  }
  // Only the timeout written: the interval then follows it (max(15s, timeout)).
  for (const timeout of [MIN, ...spread(MIN, LOOKBACK / 2, 4)]) {
    const c: Case = { name: `t${cases.length}`, endpoint: { scrapeTimeout: formatDurationMs(timeout) }, for: formatDurationMs(DEFAULT_FOR), evaluation: '15s' };
    if (validateMonitoredService(service(c.name, c.endpoint, c.for)).ok) cases.push(c);
  }
  return cases;
}

/**
 * `for` above 1h, evaluated every EVALUATION_MAX (the fewest evaluations the chart admits): values
 * spread up to MAX_PROVEN_FOR, each with the default, a middling and the longest interval, run to
 * their firing; and Prometheus's largest duration, held pending. ServiceDown's expression does not
 * contain `for` and reads its own ALERTS in either state (pending|firing), so its value at every
 * evaluation is the same whatever `for` is; Prometheus fires at the first evaluation at least
 * `for` after the alert became active. So a longer `for` only moves the firing: the exact
 * evaluations checked here (pending one evaluation before, firing at activeAt + ceil(F/E)·E) hold
 * for every value up to the top.
 */
function longForCases(): Case[] {
  const endpoints = [{}, { interval: '1m' }, { interval: formatDurationMs(LOOKBACK - 60_000), scrapeTimeout: '30s' }];
  const fors = spread(3_600_000, MAX_PROVEN_FOR, 4)
    .slice(1)
    .map((f) => Math.round(f / 1000) * 1000);
  const evaluation = formatDurationMs(EVALUATION_MAX);
  const cases = fors.map((f, k) => ({ name: `long${k}`, endpoint: endpoints[k % endpoints.length]!, for: formatDurationMs(f), evaluation }));
  cases.push({ name: 'top', endpoint: {}, for: formatDurationMs(MAX_DURATION_MS), evaluation });
  return cases.filter((c) => validateMonitoredService(service(c.name, c.endpoint, c.for)).ok);
}

/**
 * Values string of one series: a value per `step` ms up to `end`, from samples at given times ('_'
 * where none), with runs written in promtool's expanding notation (`_x3` is three blanks, `1x3` four
 * ones) so that a series over days stays short.
 */
function values(samples: Map<number, string>, step: number, end: number): string {
  const tokens: string[] = [];
  let t = 0;
  while (t <= end) {
    const token = samples.get(t) ?? '_';
    let run = 1;
    while (t + run * step <= end && (samples.get(t + run * step) ?? '_') === token) run++;
    if (token === '_') tokens.push(run === 1 ? '_' : `_x${run}`);
    else if (token === 'stale') tokens.push(...Array<string>(run).fill('stale'));
    else tokens.push(run === 1 ? token : `${token}x${run - 1}`);
    t += run * step;
  }
  return tokens.join(' ');
}

/** promtool checks in the order of their evaluation times. */
const byTime = <T extends { eval_time: string }>(tests: T[]): T[] => [...tests].sort((a, b) => ms(a.eval_time) - ms(b.eval_time));
const ceilTo = (v: number, m: number) => Math.ceil(v / m) * m;
const floorTo = (v: number, m: number) => Math.floor(v / m) * m;
function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * The rule unit test file of one case. Times in ms; i = interval, t = timeout, E = evaluation
 * interval, F = for. A sample's time is when Prometheus can first read it (a scrape's sample is
 * written at most t after it started), so samples of a healthy target are i + t apart at worst.
 * Bounds asserted (docs/monitoredservice.md):
 * - failing target: firing by last good scrape + i + t + E + ceil(F/E)·E;
 * - vanished target of a running service: firing by last good scrape + i + E + ceil(F/E)·E (the
 *   staleness marker comes at the drop, before the next scrape; a target not yet dropped fails);
 * - a new service without any target: firing by grace + E + ceil(F/E)·E;
 * - recovery: resolved by the first good sample + E.
 */
function ruleTest(c: Case, ruleFile: string): { file: Record<string, unknown>; groups: number } {
  const svc = MonitoredServiceSchema.parse(service(c.name, c.endpoint, c.for));
  const timing = scrapeTiming(c.endpoint);
  const i = ms(timing.interval);
  const t = ms(timing.scrapeTimeout);
  const E = ms(c.evaluation);
  const F = ms(c.for);
  const grace = discoveryGraceMs(svc);
  const fireAfter = E + ceilTo(F, E);
  const step = [i, t, E, DISCOVERY_MS, grace].reduce(gcd);
  const series = `up{job="${jobName(refOf(svc), 'metrics')}", namespace="timing", service="${c.name}", pod="${c.name}-0", instance="10.0.0.1:8080"}`;
  const alerts = `ALERTS{alertname="ServiceDown", vigil_monitoredservice="${c.name}", seed=""}`;
  // ALERTS as Prometheus writes it at each evaluation (its labels are the alert's): checked without annotations.
  const inState = (state: 'pending' | 'firing') => (at: number) => ({
    expr: alerts,
    eval_time: formatDurationMs(at),
    exp_samples: [
      {
        labels: `ALERTS{alertname="ServiceDown", alertstate="${state}", namespace="timing", service="${c.name}", severity="critical", vigil_namespace="timing", vigil_monitoredservice="${c.name}"}`,
        value: 1,
      },
    ],
  });
  const firing = inState('firing');
  const pending = inState('pending');
  // Active (pending) from the first evaluation at or after `from`: firing exactly ceil(F/E)·E later
  // and pending until then (the shift longForCases relies on).
  const firesExactly = (from: number) => {
    const fireAt = ceilTo(from, E) + ceilTo(F, E);
    return F === 0 ? [firing(fireAt)] : [pending(fireAt - E), firing(fireAt)];
  };
  const quiet = (at: number) => ({ expr: alerts, eval_time: formatDurationMs(at), exp_samples: [] });
  // Every evaluation up to `end`, not only the ones asked for: ALERTS records each pending or firing one.
  const neverActive = (end: number) => ({
    expr: `count_over_time(ALERTS{vigil_monitoredservice="${c.name}"}[${formatDurationMs(end + E)}])`,
    eval_time: formatDurationMs(end),
    exp_samples: [],
  });
  const healthyFrom = (start: number, end: number, m = new Map<number, string>()) => {
    for (let at = start; at <= end; at += i + t) m.set(at, '1');
    return m;
  };
  const groups: Record<string, unknown>[] = [];

  // A new healthy service whose first scrape lands as late as discovery, offset and timeout allow.
  const first = ceilTo(i + t + DISCOVERY_MS, step);
  const healthyEnd = ceilTo(grace + Math.min(F, HEALTHY_HORIZON) + 2 * E + i + t, E) + E;
  groups.push({
    name: `${c.name} healthy, first sample at ${formatDurationMs(first)}: never pending or firing`,
    interval: formatDurationMs(step),
    input_series: [{ series, values: values(healthyFrom(first, healthyEnd), step, healthyEnd) }],
    promql_expr_test: [neverActive(healthyEnd)],
  });

  // Running past the grace, then failing; back later.
  // The last sample of the healthy run (on its grid), once the grace is over.
  const lastGood = first + ceilTo(Math.max(ceilTo(grace, E) + 2 * i - first, 0), i + t);
  const failSample = lastGood + i + t;
  const failBy = floorTo(lastGood + i + t + fireAfter, E);
  const back = ceilTo(failBy + E, step);
  // Above MAX_PROVEN_FOR: pending from the same evaluation on and still pending an hour later.
  const proven = F <= MAX_PROVEN_FOR;
  const held = (from: number) => [pending(ceilTo(from, E)), pending(ceilTo(from, E) + HEALTHY_HORIZON)];
  const failingEnd = proven ? back : ceilTo(failSample, E) + HEALTHY_HORIZON + E;
  const end = ceilTo(failingEnd + E, E);
  const failing = healthyFrom(first, lastGood);
  for (let at = failSample; at < failingEnd; at += i) failing.set(at, '0');
  if (proven) healthyFrom(back, end, failing);
  groups.push({
    name: proven
      ? `${c.name} failing after ${formatDurationMs(lastGood)}: firing by ${formatDurationMs(failBy)}, resolved by ${formatDurationMs(ceilTo(back, E))}`
      : `${c.name} failing after ${formatDurationMs(lastGood)}: pending for an hour`,
    interval: formatDurationMs(step),
    input_series: [{ series, values: values(failing, step, end) }],
    promql_expr_test: byTime(proven ? [quiet(floorTo(lastGood, E)), ...firesExactly(failSample), firing(failBy), quiet(ceilTo(back, E))] : [quiet(floorTo(lastGood, E)), ...held(failSample)]),
  });

  // Running past the grace, then its target leaves discovery (pod deleted, scaled to zero).
  const staleAt = lastGood + i;
  const vanishBy = floorTo(lastGood + i + fireAfter, E);
  const vanished = healthyFrom(first, lastGood);
  vanished.set(staleAt, 'stale');
  const returns = ceilTo(vanishBy + E, step);
  if (proven) healthyFrom(returns, end + 2 * E, vanished);
  groups.push({
    name: proven ? `${c.name} vanished after ${formatDurationMs(lastGood)}: firing by ${formatDurationMs(vanishBy)}` : `${c.name} vanished after ${formatDurationMs(lastGood)}: pending for an hour`,
    interval: formatDurationMs(step),
    input_series: [{ series, values: values(vanished, step, end + 2 * E) }],
    promql_expr_test: byTime(proven ? [...firesExactly(staleAt), firing(vanishBy), quiet(ceilTo(returns, E))] : held(staleAt)),
  });

  // Prometheus restarted on its kept TSDB, down for RESTART_MS: it writes no staleness marker at
  // shutdown (scrape.go endOfRunStaleness), so the last sample before it, up to i + t old then,
  // stays current for the lookback; the first one after it comes after discovery, offset and
  // timeout. The rules were evaluated all along here, which is the worst case (a restart shorter
  // than the record window leaves records older than the grace in it) and what the rules see when
  // the restart is quicker than an evaluation interval. If the lookback ends before the new sample,
  // the service has no current `up` for that long and ServiceDown is pending; it fires when that
  // outlasts `for` (restartPages, documented as a limit in docs/monitoredservice.md).
  const newSample = ceilTo(lastGood + 2 * (i + t) + DISCOVERY_MS + RESTART_MS, step);
  const restartEnd = ceilTo(newSample + 2 * E, E);
  const restarted = healthyFrom(first, lastGood);
  healthyFrom(newSample, restartEnd, restarted);
  const pages = restartPages({ lastGood, newSample, E, F });
  const firedIn = `group(count_over_time(ALERTS{vigil_monitoredservice="${c.name}", alertstate="firing"}[${formatDurationMs(restartEnd + E)}]))`;
  groups.push({
    name: `${c.name} healthy, Prometheus restarted after ${formatDurationMs(lastGood)}, first new sample at ${formatDurationMs(newSample)}: ${pages ? 'pages (known limit)' : 'never fires'}`,
    interval: formatDurationMs(step),
    input_series: [{ series, values: values(restarted, step, restartEnd) }],
    promql_expr_test: [{ expr: firedIn, eval_time: formatDurationMs(restartEnd), exp_samples: pages ? [{ labels: '{}', value: 1 }] : [] }],
  });

  // A new service whose selector matches nothing: only another service's target exists.
  const neverBy = ceilTo(grace, E) + (proven ? ceilTo(F, E) : HEALTHY_HORIZON);
  groups.push({
    name: proven ? `${c.name} no target at all: firing by ${formatDurationMs(neverBy)} (grace ${formatDurationMs(grace)})` : `${c.name} no target at all: pending for an hour after the grace`,
    interval: formatDurationMs(step),
    input_series: [{ series: series.replace(`service="${c.name}"`, 'service="other"').replace(`/${c.name}/`, '/other/'), values: values(healthyFrom(0, neverBy), step, neverBy) }],
    promql_expr_test: byTime(proven ? [...firesExactly(grace), firing(neverBy)] : held(grace)),
  });

  // Down (scaled to zero) with ServiceDown firing when its jobs were rendered anew (an interval
  // edit, an operator upgrade): the rules start over, and with them the discovery grace, but the
  // alert's last ALERTS sample (written by the rule group before the reload; seeded here with an
  // extra label, so the checks see only what this group writes) keeps the outage counting: active
  // at every evaluation through the grace, firing after `for` alone.
  const activeEnd = ceilTo(grace, E) + E;
  const seeded = `ALERTS{alertname="ServiceDown", alertstate="firing", namespace="timing", service="${c.name}", severity="critical", vigil_namespace="timing", vigil_monitoredservice="${c.name}", seed="previous-rule-group"}`;
  const ownActive = `group(ALERTS{alertname="ServiceDown", vigil_monitoredservice="${c.name}", seed=""})`;
  const everyEvaluation = [];
  for (let at = 0; at <= activeEnd; at += E) everyEvaluation.push({ expr: ownActive, eval_time: formatDurationMs(at), exp_samples: [{ labels: '{}', value: 1 }] });
  groups.push({
    name: `${c.name} down and firing when its rules are reloaded: active at every evaluation through the new grace, firing by ${formatDurationMs(ceilTo(F, E))}`,
    interval: formatDurationMs(step),
    input_series: [{ series: seeded, values: '1' }],
    promql_expr_test: [...everyEvaluation, ...(ceilTo(F, E) <= activeEnd ? [firing(ceilTo(F, E))] : [])],
  });

  return { file: { rule_files: [ruleFile], evaluation_interval: c.evaluation, tests: groups }, groups: groups.length };
}

describe('the down alerts over the schema range of interval, scrapeTimeout and for', () => {
  const cases = [...admittedCases(), ...longForCases()];
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-timing-range-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('generates cases at both ends of each range and between them', () => {
    const intervals = cases.map((c) => ms(scrapeTiming(c.endpoint).interval));
    const timeouts = cases.map((c) => ms(scrapeTiming(c.endpoint).scrapeTimeout));
    expect(Math.min(...intervals)).toBe(MIN);
    expect(Math.min(...timeouts)).toBe(MIN);
    expect(Math.max(...intervals)).toBe(LOOKBACK - MIN);
    expect(Math.max(...cases.map((c) => ms(scrapeTiming(c.endpoint).interval) + ms(scrapeTiming(c.endpoint).scrapeTimeout)))).toBe(LOOKBACK);
    expect(cases.map((c) => c.for)).toEqual(expect.arrayContaining(['0s', formatDurationMs(STEP), '1h', formatDurationMs(DEFAULT_FOR), '1d', '292y24w3d23h47m16s854ms']));
    expect(cases.filter((c) => c.evaluation === '30s').length).toBeGreaterThan(10);
    expect(cases.length).toBeGreaterThan(30);
  });

  it('refuses the values just outside the range, naming the field', () => {
    const refused = (endpoint: { interval?: string; scrapeTimeout?: string }) => {
      const result = validateMonitoredService(service('edge', endpoint, '1m'));
      return result.ok ? [] : result.issues.map((issue) => issue.field);
    };
    const below = formatDurationMs(MIN - 1);
    expect(refused({ interval: below })).toEqual(['spec.endpoints[0].interval']);
    expect(refused({ interval: '15s', scrapeTimeout: below })).toEqual(['spec.endpoints[0].scrapeTimeout']);
    expect(refused({ interval: formatDurationMs(LOOKBACK - MIN + 1), scrapeTimeout: MIN_SCRAPE_TIMEOUT })).toEqual(['spec.endpoints[0].interval']);
    expect(refused({ interval: formatDurationMs(LOOKBACK - ms(DEFAULT_SCRAPE_TIMEOUT) + 1) })).toEqual(['spec.endpoints[0].interval']);
    expect(refused({ scrapeTimeout: formatDurationMs(LOOKBACK / 2 + 1) })).toEqual(['spec.endpoints[0].scrapeTimeout']);
    // `for` up to Prometheus's own limit (2^63-1 ns; `promtool check rules` refuses 1 ms more).
    const forIssues = (forText: string) => {
      const result = validateMonitoredService(service('edge', {}, forText));
      return result.ok ? [] : result.issues.map((issue) => `${issue.field}: ${issue.message}`);
    };
    expect(forIssues('292y24w3d23h47m16s854ms')).toEqual([]);
    expect(forIssues('290y')).toEqual([]);
    expect(forIssues('292y24w3d23h47m16s855ms')).toEqual([
      'spec.downAlert.for: 292y24w3d23h47m16s855ms is out of range: Prometheus accepts durations up to 292y24w3d23h47m16s854ms (2^63-1 nanoseconds, about 292 years)',
    ]);
  });

  it('promtool: healthy never pages; failing, vanished and missing targets page within the bound; recovery resolves; a rule reload keeps an outage active', async () => {
    const files: string[] = [];
    let groups = 0;
    for (const c of cases) {
      const ruleFile = `${c.name}.rules.yaml`;
      writeFileSync(join(dir, ruleFile), renderRuleFile(MonitoredServiceSchema.parse(service(c.name, c.endpoint, c.for)), defaultSettings({ evaluationInterval: c.evaluation })));
      const test = ruleTest(c, ruleFile);
      groups += test.groups;
      const testFile = `${c.name}.test.yaml`;
      writeFileSync(join(dir, testFile), `# ${JSON.stringify(c)}\n${stringify(test.file, { lineWidth: 0 })}`);
      files.push(testFile);
    }
    let output: string;
    try {
      const r = await run(PROMTOOL, ['test', 'rules', ...files], { cwd: dir, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
      output = r.stdout + r.stderr;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`promtool test rules failed (cases in ${dir}):\n${e.stdout ?? ''}${e.stderr ?? ''}${e.message}`);
    }
    expect(output.match(/SUCCESS/g)?.length).toBe(files.length);
    expect(groups).toBe(6 * cases.length);
  }, 600_000);
});
