// The built-in down alerts over the whole range of timings a MonitoredService may have (issue 21):
// for scrape intervals, scrape timeouts and `for` values generated from the schema's own bounds
// (boundaries plus values spread across the range, `for` up to Prometheus's own limit, evaluation
// intervals up to the chart's), promtool's rule unit tests (the pinned ./bin/promtool) show that a
// healthy target never pages and a failing, vanished or never-seen one pages within the documented
// bound, at exactly activeAt + ceil(F/E)·E (docs/monitoredservice.md "How fast ServiceDown
// pages"), and that recovery resolves it within one evaluation; and that no admitted case pages
// a healthy service after a Prometheus restart on a kept TSDB, whatever the restart took, while the
// `for` values validation refuses for it (render/restart-gap.ts) do page at the worst restart. Values
// just outside the bounds are refused by validation, naming the field.
//
// One test file per case with five groups (promtool loads every rule file of a test file into each
// of its groups: one file for all would evaluate every case's rules in every group), all run by one
// promtool call. Series are written in promtool's expanding notation, so a case spanning a day
// costs its evaluations only.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { DEFAULT_SCRAPE_TIMEOUT, DownAlertSchema, LOOKBACK_DELTA, MIN_SCRAPE_TIMEOUT, MonitoredServiceSchema } from '../../operator/api/schema.js';
import { renderConfig } from '../../operator/assemble/config.js';
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
/**
 * How long after a restarted Prometheus starts a target's first scrape may begin at the latest,
 * besides its offset within the interval: the discovery allowance the grace leaves.
 */
const RESTART_DISCOVERY_MS = 30_000;
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

/** Validation as an install with this evaluationInterval runs it (the operator renders with its settings). */
function validateAt(raw: unknown, evaluation: string) {
  return validateMonitoredService(raw, (svc) => {
    renderConfig([svc], defaultSettings({ evaluationInterval: evaluation }));
  });
}
const admitted = (c: Case) => validateAt(service(c.name, c.endpoint, c.for), c.evaluation).ok;

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
 * cycled through their own generated values, and where the `for` is refused because a Prometheus
 * restart could outlast it, the case takes the first multiple of E at least that gap long
 * (i + t + 30s) instead (restartTest), so that the long intervals stay covered.
 */
/** The case with `for` raised to outlast any restart's gap; undefined when it was refused for another reason. */
function outlastingRestart(c: Case): Case | undefined {
  const result = validateAt(service(c.name, c.endpoint, c.for), c.evaluation);
  if (result.ok || !result.issues.every((issue) => issue.field === 'spec.downAlert.for')) return undefined;
  const timing = scrapeTiming(c.endpoint);
  const forMs = ceilTo(ms(timing.interval) + ms(timing.scrapeTimeout) + RESTART_DISCOVERY_MS, ms(c.evaluation));
  return { ...c, for: formatDurationMs(forMs) };
}

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
      const admittedCase = admitted(c) ? c : outlastingRestart(c);
      if (admittedCase && admitted(admittedCase)) cases.push(admittedCase);
    }
  }
  // Only the timeout written: the interval then follows it (max(15s, timeout)).
  for (const timeout of [MIN, ...spread(MIN, LOOKBACK / 2, 4)]) {
    const c: Case = { name: `t${cases.length}`, endpoint: { scrapeTimeout: formatDurationMs(timeout) }, for: formatDurationMs(DEFAULT_FOR), evaluation: '15s' };
    const admittedCase = admitted(c) ? c : outlastingRestart(c);
    if (admittedCase && admitted(admittedCase)) cases.push(admittedCase);
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
  return cases.filter(admitted);
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
        labels: `ALERTS{alertname="ServiceDown", alertstate="${state}", namespace="timing", service="${c.name}", severity="critical", vigil_namespace="timing", vigil_monitoredservice="${c.name}", vigil_receiver="vigil-default"}`,
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
  const seeded = `ALERTS{alertname="ServiceDown", alertstate="firing", namespace="timing", service="${c.name}", severity="critical", vigil_namespace="timing", vigil_monitoredservice="${c.name}", vigil_receiver="vigil-default", seed="previous-rule-group"}`;
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

/**
 * The last evaluation after a shutdown at S (itself an evaluation, the latest the previous one can
 * be) at which the rules' record of earlier evaluations still counts a total absence of `up`:
 * min_over_time looks back grace + 2E, left-open, so (ceil(grace/E) + 1)·E after it.
 */
const recordReachMs = (grace: number, E: number) => (Math.ceil(grace / E) + 1) * E;

/**
 * Restart durations tried for one case: none, one between (cycling), up to the record's reach and
 * just past it, and for every third case a long one (10m: the grace starts over).
 */
function restartDurations(grace: number, E: number, k: number): number[] {
  const reach = recordReachMs(grace, E);
  const middle = ceilTo((reach * ((k % 4) + 1)) / 5, E);
  return [...new Set([0, middle, reach - E, reach, reach + E, ...(k % 3 === 0 ? [600_000] : [])])].filter((d) => d >= 0).sort((a, b) => a - b);
}

/**
 * A rule file as a Prometheus that was down from S to S + D ran it: each rule is evaluated only
 * while the input series vigil_test_running is present, so a rule writes nothing (no record, no
 * ALERTS) and an alert starts afresh after the restart, as in a new process. The rules are the
 * rendered ones otherwise; `forText` replaces ServiceDown's `for` (a value validation refuses,
 * which the renderer does not write).
 */
function asRestarted(ruleText: string, forText?: string): string {
  const doc = parse(ruleText) as { groups: { rules: { expr: string; alert?: string; for?: string }[] }[] };
  for (const rule of doc.groups.flatMap((g) => g.rules)) {
    rule.expr = `(${rule.expr}) and on() vigil_test_running`;
    if (forText !== undefined && rule.alert !== undefined) rule.for = forText;
  }
  return stringify(doc, { lineWidth: 0 });
}

/**
 * One group per restart duration D for case c: Prometheus on a kept TSDB shuts down at S (an
 * evaluation), the service's last sample before it as old as it can be (i + t less one STEP:
 * Prometheus writes no staleness marker at shutdown, so it stays current for the lookback), the
 * rules stop until S + D, and the first new sample comes as late as discovery, offset and timeout
 * allow (S + D + 30s + i + t, less one STEP). An admitted case never fires, whatever D; a refused
 * one fires at the worst D (the restart ends at the record's reach, just as `up` ran out) and not
 * past it.
 */
function restartTest(c: Case, ruleFile: string, refused: boolean, k: number): { file: Record<string, unknown>; groups: number } {
  const svc = MonitoredServiceSchema.parse(service(c.name, c.endpoint, '1d'));
  const timing = scrapeTiming(c.endpoint);
  const i = ms(timing.interval);
  const t = ms(timing.scrapeTimeout);
  const E = ms(c.evaluation);
  const grace = discoveryGraceMs(svc);
  const step = [i, t, E, RESTART_DISCOVERY_MS, STEP].reduce(gcd);
  const series = `up{job="${jobName(refOf(svc), 'metrics')}", namespace="timing", service="${c.name}", pod="${c.name}-0", instance="10.0.0.1:8080"}`;
  // The record window is full and the grace long over at S.
  const S = ceilTo(grace + 2 * E + 2 * (i + t), E);
  const lastSample = S - (i + t) + step;
  const worst = recordReachMs(grace, E);
  const durations = refused ? [worst, worst + E] : restartDurations(grace, E, k);
  const groups = durations.map((D) => {
    const newSample = S + D + RESTART_DISCOVERY_MS + i + t - step;
    const end = ceilTo(newSample + 2 * E, E) + E;
    const up = new Map<number, string>();
    for (let at = lastSample; at >= 0; at -= i + t) up.set(at, '1');
    for (let at = newSample; at <= end; at += i + t) up.set(at, '1');
    const running = new Map<number, string>();
    for (let at = 0; at <= end; at += step) running.set(at, at <= S || at >= S + D ? '1' : at === S + step ? 'stale' : '_');
    const pages = refused && D === worst;
    const firedIn = `group(count_over_time(ALERTS{vigil_monitoredservice="${c.name}", alertstate="firing"}[${formatDurationMs(end + E)}]))`;
    return {
      name: `${c.name} healthy, Prometheus down ${formatDurationMs(S)} to ${formatDurationMs(S + D)} (last sample ${formatDurationMs(lastSample)}, first new ${formatDurationMs(newSample)}): ${pages ? 'fires (for refused)' : 'never fires'}`,
      interval: formatDurationMs(step),
      input_series: [
        { series, values: values(up, step, end) },
        { series: 'vigil_test_running', values: values(running, step, end) },
      ],
      promql_expr_test: [{ expr: firedIn, eval_time: formatDurationMs(end), exp_samples: pages ? [{ labels: '{}', value: 1 }] : [] }],
    };
  });
  return { file: { rule_files: [ruleFile], evaluation_interval: c.evaluation, tests: groups }, groups: groups.length };
}

interface BoundaryCase {
  case: Case;
  /** Refused by validation, and fires at the worst restart. */
  refused: boolean;
}

/**
 * Both sides of the refusal's two edges, each from the model in restartTest (times in ms):
 * - the `for`: with i + t = 4m10s the worst gap is 4m40s, so at 30s evaluations `for` 4m30s (fires
 *   after 9 evaluations) is refused and 4m30s1ms (10) accepted;
 * - whether `up` can run out while the record still counts: with a 10s timeout and `for` 1m, at 30s
 *   evaluations interval 1m15s (grace 3m, reach 3m30s, up out at 5m - 1m25s = 3m35s) is accepted and
 *   1m15s500ms (grace 3m1s, reach 4m) refused; at 15s evaluations 1m20s (reach 3m30s = 5m - 1m30s)
 *   and 1m20s500ms.
 */
function boundaryCases(): BoundaryCase[] {
  const rows: [string, string, string, string, boolean][] = [
    ['4m', '10s', '4m30s', '30s', true],
    ['4m', '10s', '4m30s1ms', '30s', false],
    ['1m15s', '10s', '1m', '30s', false],
    ['1m15s500ms', '10s', '1m', '30s', true],
    ['1m20s', '10s', '1m', '15s', false],
    ['1m20s500ms', '10s', '1m', '15s', true],
  ];
  return rows.map(([interval, scrapeTimeout, forText, evaluation, refused], k) => ({ case: { name: `edge${k}`, endpoint: { interval, scrapeTimeout }, for: forText, evaluation }, refused }));
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

  it('refuses exactly the for a Prometheus restart outlasts, naming spec.downAlert.for and saying what is accepted', () => {
    const restartIssues = (c: Case) => {
      const result = validateAt(service(c.name, c.endpoint, c.for), c.evaluation);
      return result.ok ? [] : result.issues.map((issue) => `${issue.field}: ${issue.message}`);
    };
    const [for1, for2, feasible1, feasible2, feasible3, feasible4] = boundaryCases().map((b) => ({ ...b, issues: restartIssues(b.case) }));
    for (const b of [for2!, feasible1!, feasible3!]) expect(b.issues).toEqual([]);
    expect(for1!.issues).toEqual([
      'spec.downAlert.for: 4m30s is too short for spec.endpoints[0] (interval 4m, scrapeTimeout 10s, evaluationInterval 30s): after a Prometheus restart on a kept TSDB a healthy service can go without a current up sample for up to 4m40s (Prometheus writes no staleness marker at shutdown, so the last sample runs out of the 5m lookback while the restarted one still discovers and scrapes the target), and ServiceDown would page it; use a for above 4m30s, or an interval of at most 3m50s on spec.endpoints[0] with this scrapeTimeout',
    ]);
    expect(feasible2!.issues).toEqual([
      expect.stringMatching(
        /^spec\.downAlert\.for: 1m is too short for spec\.endpoints\[0\] .* up to 1m55s500ms .* use a for above 1m30s, or an interval of at most 1m15s on spec\.endpoints\[0\] with this scrapeTimeout$/,
      ),
    ]);
    expect(feasible4!.issues).toEqual([
      expect.stringMatching(
        /^spec\.downAlert\.for: 1m is too short .* evaluationInterval 15s\).* up to 2m500ms .* use a for above 2m, or an interval of at most 1m20s on spec\.endpoints\[0\] with this scrapeTimeout$/,
      ),
    ]);
    // The defaults never are, nor is any for with them.
    expect(validateAt(service('defaults', {}, '0s'), '30s').ok).toBe(true);
  });

  it('promtool: healthy never pages, also after a Prometheus restart; failing, vanished and missing targets page within the bound; recovery resolves; a rule reload keeps an outage active; a refused for pages after the worst restart', async () => {
    const files: string[] = [];
    let groups = 0;
    let restartGroups = 0;
    const writeTest = (name: string, note: unknown, file: Record<string, unknown>) => {
      writeFileSync(join(dir, name), `# ${JSON.stringify(note)}\n${stringify(file, { lineWidth: 0 })}`);
      files.push(name);
    };
    const restarted = (c: Case, k: number, refused: boolean) => {
      // Rendered with a for any restart allows (1d), then given the case's own.
      const settings = defaultSettings({ evaluationInterval: c.evaluation });
      const rendered = renderRuleFile(MonitoredServiceSchema.parse(service(c.name, c.endpoint, refused ? '1d' : c.for)), settings);
      const ruleFile = `${c.name}.restarted.rules.yaml`;
      writeFileSync(join(dir, ruleFile), asRestarted(rendered, refused ? c.for : undefined));
      const test = restartTest(c, ruleFile, refused, k);
      restartGroups += test.groups;
      writeTest(`${c.name}.restarted.test.yaml`, c, test.file);
    };
    for (const [k, c] of cases.entries()) {
      const ruleFile = `${c.name}.rules.yaml`;
      writeFileSync(join(dir, ruleFile), renderRuleFile(MonitoredServiceSchema.parse(service(c.name, c.endpoint, c.for)), defaultSettings({ evaluationInterval: c.evaluation })));
      const test = ruleTest(c, ruleFile);
      groups += test.groups;
      writeTest(`${c.name}.test.yaml`, c, test.file);
      restarted(c, k, false);
    }
    for (const [k, b] of boundaryCases().entries()) restarted(b.case, k, b.refused);
    let output: string;
    try {
      const r = await run(PROMTOOL, ['test', 'rules', ...files], { cwd: dir, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
      output = r.stdout + r.stderr;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`promtool test rules failed (cases in ${dir}):\n${e.stdout ?? ''}${e.stderr ?? ''}${e.message}`);
    }
    expect(output.match(/SUCCESS/g)?.length).toBe(files.length);
    expect(groups).toBe(5 * cases.length);
    // At least four restart durations per case: none, up to the record's reach, past it.
    expect(restartGroups).toBeGreaterThanOrEqual(4 * cases.length);
  }, 600_000);
});
