// Checks the PromQL and template checkers against the real promtool (the version Vigil deploys).
// Both run Prometheus's own parser (operator/wasm is built from the module hack/versions.env pins),
// so they agree by construction; this proves the construction: on a generated corpus of thousands of
// expressions over the whole grammar (test/promql/corpus.ts) the verdicts and error texts are the same.
// On the hand-written cases, Vigil and promtool must agree, except where Vigil is stricter on purpose
// (traps that Prometheus loads but that hurt: results that fail at every evaluation, selectors
// matching every series, subqueries with absurd resolution).
// promtool 3.x always parses duration expressions (x[5m+1m]); whether the server does without
// --enable-feature=promql-duration-expr is what those cases check against the real server
// (bin/prometheus loading the rule): in 3.15 the flag is a no-op, the syntax is always on.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { promqlCorpus } from '../../test/promql/corpus.js';
import { checkPromQL } from '../promql/parse.js';
import { analyzeExpr, checkAlertTemplate, promqlGrammar } from '../promql/wasm.js';

const PROMTOOL = resolve('bin/promtool');
const PROMETHEUS = resolve('bin/prometheus');

interface Case {
  text: string;
  /** true: Prometheus accepts it but Vigil rejects it on purpose. */
  vigilStricter?: boolean;
  /** true: the real server (started with Vigil's flags) decides, not promtool. */
  serverDecides?: boolean;
}

const EXPRESSIONS: Case[] = [
  { text: 'up == 0' },
  { text: 'rate(x[5m]) > 1' },
  { text: 'rate(x) > 1' },
  // promtool only parses; Prometheus fails these at every evaluation ("rule result is not a vector or scalar").
  { text: 'x[5m]', vigilStricter: true },
  { text: '"down"', vigilStricter: true },
  { text: 'up ==' },
  { text: 'foo(bar)' },
  { text: '{job=~".*"}' },
  { text: '{job=~".+"}', vigilStricter: true },
  { text: 'max_over_time(x[1d:1s])', vigilStricter: true },
  { text: 'max_over_time(rate(x[1m])[1h:1m]) > 2' },
  { text: 'max_over_time(time()[30m:1m]) > 1' },
  { text: 'x{a=~"\\d+"}' },
  { text: 'x{a=~"\\\\d+"}' },
  { text: 'x{a=~"(ab"}' },
  { text: '1 > 2' },
  { text: '1 > bool 2' },
  { text: 'up and 1' },
  { text: 'clamp_max(x)' },
  { text: 'sum by (job) (rate(x[5m])) > 0' },
  { text: 'count(up) or vector(0)' },
  { text: 'x offset 5m @ start()' },
  { text: 'x > 5m' },
  { text: 'sort_by_label(x, "a")' },
  { text: 'histogram_quantile(0.9, rate(h_bucket[5m]))' },
  { text: 'label_replace(up, "a", "$1", "b", "(.*)")' },
  { text: '{"up"}' },
  { text: 'sum(x) without (a) > 1' },
  // Prometheus 3.x syntax: quoted UTF-8 metric and label names, durations as numbers and back.
  { text: '{"http.server.request.duration"} > 1' },
  { text: '{"http.server.request.duration", "service.name"="checkout"} > 1' },
  { text: 'sum by ("k8s.pod.name") (rate({"a.b"}[5m])) > 0' },
  { text: 'x / on("a.b") group_left("c.d") y > 1' },
  { text: 'foo{"bar"}' },
  { text: '{"a.b"=~".*"}' },
  { text: 'time() - x > 1h' },
  { text: 'rate(x[300]) > 0' },
  { text: 'rate(x[0]) > 0' },
  { text: 'x offset -90 > 0' },
  { text: 'round(x, 5, 1)' },
  { text: 'hour() > 3' },
  // Feature-gated in 3.15 (Vigil's Prometheus enables none of them).
  { text: 'mad_over_time(x[5m]) > 1' },
  { text: 'limitk(2, x)' },
  { text: 'info(x)' },
  { text: 'rate(x[5m] anchored) > 0' },
  { text: 'rate(x[5m+1m]) > 0', serverDecides: true },
  { text: 'x offset (1h - 5m) > 0', serverDecides: true },
  // Loaded, but failing every evaluation with "duration must be greater than 0": a rule is an instant
  // query, where step() and range() are 0s.
  { text: 'max_over_time(x[1h:step()]) > 0', serverDecides: true, vigilStricter: true },
  { text: 'rate(x[step()*4]) > 0', serverDecides: true, vigilStricter: true },
  { text: 'rate(x[range()]) > 0', serverDecides: true, vigilStricter: true },
  { text: 'rate(x[1m-2m]) > 0', serverDecides: true, vigilStricter: true },
  { text: 'rate(x[max_of(step()*4, 5m)]) > 0', serverDecides: true },
  { text: 'absent_over_time(up[5m])' },
  { text: 'quantile_over_time(0.9, x[5m])' },
  // promtool refuses these; the emulation Vigil used before operator/wasm accepted them (issue 21).
  { text: 'a and on(x) group_left b' },
  { text: 'a or bool b' },
  { text: 'a / on(x) group_left(x) b' },
];

const TEMPLATES: Case[] = [
  { text: '{{ $labels.instance }} is down' },
  { text: '{{ $labels.instance' },
  { text: '{{ if gt $value 1.0 }}high{{ end }}' },
  { text: '{{ if gt $value 1.0 }}high' },
  { text: '{{ end }}' },
  { text: '{{ }}' },
  { text: '{{ "abc }}' },
  { text: '{{ $foo }}' },
  { text: '{{ $x := 1 }}{{ $x }}' },
  { text: '{{ $value | humanizePercentage }}' },
  { text: '{{ nope $value }}' },
  { text: '{{ range $i, $v := query "up" }}{{ $v.Value }}{{ end }}' },
  { text: '{{/* comment */}}ok' },
  { text: '{{ (len $labels }}' },
  { text: '{{ with $labels.x }}{{ . }}{{ else }}none{{ end }}' },
  { text: '{{ else }}' },
  { text: '}} plain text' },
  { text: '{{- $labels.a -}}' },
  { text: '{{ humanizeDuration $value }} {{ toUpper "a" }} {{ reReplaceAll "a" "b" "c" }} {{ stripPort "a:1" }} {{ title "x" }}' },
  { text: '{{ $value | printf "%.2f" }}' },
  { text: '{{ template "x" }}' },
  // tmpl exists only in Prometheus' HTML console expander, not for alert templates.
  { text: '{{ tmpl "x" . }}' },
  { text: '{{ 90 | toDuration }} {{ now }} {{ urlQueryEscape "a b" }} {{ humanizeTimestamp $value }}' },
  { text: '{{ trimSpace "a" }}' },
  { text: '{{ $x := 1 }}{{ if true }}{{ $y := 2 }}{{ end }}{{ $y }}' },
];

function promtoolVerdicts(rulesFor: (c: Case) => object, cases: Case[]): Promise<boolean[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-promtool-'));
  const files = cases.map((c, i) => {
    const file = join(dir, `case${i}.yaml`);
    writeFileSync(file, stringify({ groups: [{ name: 'g', rules: [rulesFor(c)] }] }));
    return file;
  });
  return new Promise((resolvePromise, reject) => {
    execFile(PROMTOOL, ['check', 'rules', ...files], { timeout: 60000 }, (error, stdout, stderr) => {
      try {
        const out = `${stdout}\n${stderr}`;
        resolvePromise(
          files.map((file) => {
            const section = out.split('Checking ').find((s) => s.startsWith(file));
            if (!section) throw new Error(`promtool said nothing about ${file}:\n${out}`);
            return section.includes('SUCCESS');
          }),
        );
      } catch (err) {
        reject(error ?? err);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/**
 * Whether the real Prometheus server loads a rule with this expression: it refuses to start on a
 * rule file it cannot parse ("Error loading config", exit 1) and says "Server is ready" otherwise.
 */
function serverLoads(expr: string): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-prometheus-'));
  writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: [{ name: 'g', rules: [{ alert: 'A', expr }] }] }));
  writeFileSync(join(dir, 'prometheus.yml'), stringify({ rule_files: [join(dir, 'rules.yaml')] }));
  const args = [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, '--web.listen-address=127.0.0.1:0'];
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(PROMETHEUS, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    let verdict: boolean | undefined;
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    proc.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (verdict === undefined && log.includes('Server is ready to receive web requests')) {
        verdict = true;
        proc.kill('SIGTERM');
      }
    });
    proc.on('error', reject);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      if (verdict === undefined && code !== 0 && log.includes('Error loading config')) verdict = false;
      if (verdict === undefined) reject(new Error(`prometheus neither loaded nor refused the rule (exit ${code}):\n${log}`));
      else resolvePromise(verdict);
    });
  });
}

const run = existsSync(PROMTOOL) ? describe : describe.skip;

run('Vigil agrees with the pinned promtool and Prometheus (hack/versions.env)', () => {
  it('on PromQL alert expressions', async () => {
    const promtool = await promtoolVerdicts((c) => ({ alert: 'A', expr: c.text }), EXPRESSIONS);
    const verdicts: boolean[] = [];
    for (const [i, c] of EXPRESSIONS.entries()) verdicts.push(c.serverDecides ? await serverLoads(c.text) : promtool[i]!);
    const disagreements = EXPRESSIONS.flatMap((c, i) => {
      const vigilOk = checkPromQL(c.text).ok;
      const expected = c.vigilStricter ? false : verdicts[i];
      return vigilOk === expected ? [] : [`${c.text}: prometheus ${verdicts[i] ? 'accepts' : 'rejects'}, vigil ${vigilOk ? 'accepts' : 'rejects'}`];
    });
    expect(disagreements).toEqual([]);
    // promtool and the server agree on them too.
    expect(EXPRESSIONS.filter((c, i) => c.serverDecides && verdicts[i] !== promtool[i]).map((c) => c.text)).toEqual([]);
    // The stricter cases really are accepted by Prometheus (else they would not need the flag).
    expect(EXPRESSIONS.filter((c, i) => c.vigilStricter && !verdicts[i]).map((c) => c.text)).toEqual([]);
  });

  it('on annotation templates', async () => {
    const verdicts = await promtoolVerdicts((c) => ({ alert: 'A', expr: 'up == 0', annotations: { summary: c.text } }), TEMPLATES);
    const disagreements = TEMPLATES.flatMap((c, i) => {
      const vigilOk = checkAlertTemplate(c.text, { alertName: 'A' }).parseError === undefined;
      return vigilOk === verdicts[i] ? [] : [`${c.text}: promtool ${verdicts[i] ? 'accepts' : 'rejects'}, vigil ${vigilOk ? 'accepts' : 'rejects'}`];
    });
    expect(disagreements).toEqual([]);
  });

  it('on a generated corpus over the whole grammar: same verdict and the same error text for every expression', async () => {
    const grammar = promqlGrammar();
    const corpus = promqlCorpus(grammar);
    expect(corpus.length).toBeGreaterThan(3000);
    const promtool = await promtoolCorpusVerdicts(corpus);
    const disagreements = corpus.flatMap((expr, i) => {
      const wasm = analyzeExpr(expr);
      const refusal = promtool.get(i);
      if (wasm.ok !== (refusal === undefined))
        return [`${JSON.stringify(expr)}: promtool ${refusal === undefined ? 'accepts' : `refuses (${refusal})`}, operator/wasm ${wasm.ok ? 'accepts' : `refuses (${wasm.error})`}`];
      // promtool prints only the first line of a multi-line error on its line.
      if (!wasm.ok && refusal !== PROMTOOL_OTHER_REFUSAL && wasm.error.split('\n')[0] !== refusal) return [`${JSON.stringify(expr)}: promtool says ${refusal}, operator/wasm says ${wasm.error}`];
      return [];
    });
    expect(disagreements).toEqual([]);
    // The corpus exercises both sides of the grammar, and every function, aggregation and operator.
    const refused = corpus.filter((_, i) => promtool.has(i)).length;
    expect(refused).toBeGreaterThan(corpus.length / 5);
    expect(corpus.length - refused).toBeGreaterThan(corpus.length / 5);
    for (const name of [...grammar.functions.map((f) => `${f.name}(`), ...grammar.aggregations.map((a) => a.name), ...grammar.operators.map((o) => ` ${o.op} `)]) {
      expect([name, corpus.some((e) => e.includes(name))]).toEqual([name, true]);
    }
  }, 300_000);
});

/** A refusal of promtool that is not a parse error of the expression (e.g. an empty expr field). */
const PROMTOOL_OTHER_REFUSAL = '(not a parse error)';

/**
 * `promtool check rules` on one file holding the corpus as alert rules A0..An of one group: the
 * refusal of each rule it refuses (its parse error text), by corpus index.
 */
function promtoolCorpusVerdicts(corpus: string[]): Promise<Map<number, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-promtool-corpus-'));
  const file = join(dir, 'rules.yaml');
  writeFileSync(file, stringify({ groups: [{ name: 'corpus', rules: corpus.map((expr, i) => ({ alert: `A${i}`, expr })) }] }));
  return new Promise((resolvePromise, reject) => {
    execFile(PROMTOOL, ['check', 'rules', file], { timeout: 240_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      try {
        const out = `${stdout}\n${stderr}`;
        const refusals = new Map<number, string>();
        for (const line of out.split('\n')) {
          const m = /group "corpus", rule \d+, "A(\d+)": (.*)$/.exec(line);
          if (!m) continue;
          const parseError = /^could not parse expression: (.*)$/.exec(m[2] as string);
          refusals.set(Number(m[1]), parseError ? (parseError[1] as string) : PROMTOOL_OTHER_REFUSAL);
        }
        if (refusals.size === 0 && error) throw error;
        if (refusals.size > 0 && !out.includes('FAILED')) throw new Error(`promtool listed errors but did not fail:\n${out.slice(0, 2000)}`);
        resolvePromise(refusals);
      } catch (err) {
        reject(err);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
