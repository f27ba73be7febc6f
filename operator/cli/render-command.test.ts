// `vigil render` on real files: the folder of broken objects, the examples, argument errors.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runRenderCommand } from './render-command.js';

const REPO = resolve('.');
const INVALID = join(REPO, 'test/fixtures/invalid');

async function render(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runRenderCommand(argv, { out: (l) => out.push(l), err: (l) => err.push(l), cwd: REPO });
  return { code, out: out.join('\n'), err: err.join('\n').split('\n').filter(Boolean) };
}

let outDir: string;
beforeEach(() => {
  outDir = mkdtempSync(join(tmpdir(), 'vigil-render-'));
});
afterEach(() => rmSync(outDir, { recursive: true, force: true }));

/** The one field each broken fixture must be reported for (hand-written, one problem per file). */
const EXPECTED_FIELD: Record<string, string> = {
  'bad-duration.yaml': 'spec.downAlert.for',
  'bad-scheme.yaml': 'spec.endpoints[0].scheme',
  'duplicate-port.yaml': 'spec.endpoints[1].port',
  'duplicate-rule.yaml': 'spec.rules[1].name',
  'email-display-name.yaml': 'spec.notify.email.to[0]',
  'email-injection.yaml': 'spec.notify.email.to[0]',
  'empty-selector.yaml': 'spec.selector',
  'exists-with-values.yaml': 'spec.selector.matchExpressions[0].values',
  'name-too-long.yaml': 'metadata.name',
  'promql-escape.yaml': 'spec.rules[0].expr',
  'promql-match-all.yaml': 'spec.rules[0].expr',
  'promql-range-vector.yaml': 'spec.rules[0].expr',
  'promql-subquery.yaml': 'spec.rules[0].expr',
  'promql-syntax.yaml': 'spec.rules[0].expr',
  'reserved-label.yaml': 'spec.rules[0].labels.severity',
  'template-if-end.yaml': 'spec.rules[0].description',
  'template-unclosed.yaml': 'spec.rules[0].summary',
  'template-runtime-error.yaml': 'spec.rules[0].summary',
  'template-label-reference.yaml': 'spec.rules[0].summary',
  'label-depends-on-value.yaml': 'spec.rules[0].labels.current',
  'path-query-string.yaml': 'spec.endpoints[0].path',
  'port-name-upper-case.yaml': 'spec.endpoints[0].port',
  'range-below-two-intervals.yaml': 'spec.rules[0].expr',
  'timeout-above-interval.yaml': 'spec.endpoints[0].scrapeTimeout',
  'unknown-field.yaml': 'spec.endpoints[0].scrapeTimout',
  'limit-above-ceiling.yaml': 'spec.limits.sampleLimit',
};

describe('vigil render on test/fixtures/invalid', () => {
  it('reports exactly one problem per file, naming the file, object and field, and exits 1', async () => {
    expect(readdirSync(INVALID).sort()).toEqual(Object.keys(EXPECTED_FIELD).sort());
    const { code, err, out } = await render(['-f', 'test/fixtures/invalid', '--out', outDir]);
    expect(code).toBe(1);
    const reported = Object.fromEntries(
      err.map((line) => {
        const m = /^test\/fixtures\/invalid\/([^:]+): fixtures\/([^:]+): ([^:]+): (.+)$/.exec(line);
        if (!m) throw new Error(`unexpected line: ${line}`);
        return [m[1], m[3]];
      }),
    );
    expect(err).toHaveLength(Object.keys(EXPECTED_FIELD).length);
    expect(reported).toEqual(EXPECTED_FIELD);
    expect(out).toMatch(/^rendered 0 of 26 MonitoredServices \(26 invalid, left out\)/);
  });

  it('prints what is wrong and what is accepted', async () => {
    const { err } = await render(['-f', 'test/fixtures/invalid/timeout-above-interval.yaml', '--out', outDir]);
    expect(err).toEqual([
      'test/fixtures/invalid/timeout-above-interval.yaml: fixtures/timeout-above-interval: spec.endpoints[0].scrapeTimeout: 30s exceeds interval 10s; the scrape timeout must not exceed the interval (leave scrapeTimeout out to get min(10s, interval))',
    ]);
    const query = await render(['-f', 'test/fixtures/invalid/path-query-string.yaml', '--out', outDir]);
    expect(query.err).toEqual([
      'test/fixtures/invalid/path-query-string.yaml: fixtures/path-query-string: spec.endpoints[0].path: must not contain ?: Prometheus would request it as part of the path (/metrics%3Fformat=...) and get 404; put query parameters in params, e.g. params: {format: [prometheus]}',
    ]);
    const range = await render(['-f', 'test/fixtures/invalid/range-below-two-intervals.yaml', '--out', outDir]);
    expect(range.err).toEqual([
      'test/fixtures/invalid/range-below-two-intervals.yaml: fixtures/range-below-two-intervals: spec.rules[0].expr: rate() needs two samples in its range, but http_requests_total{code=~"5.."}[1m] holds at most one sample (scraped every 1m: spec.endpoints[0].interval), so it never returns data and the alert can never fire; use a range of at least 2m (2 × the scrape interval), better 4m (4 ×), which survives a failed scrape',
    ]);
    const injection = await render(['-f', 'test/fixtures/invalid/email-injection.yaml', '--out', outDir]);
    expect(injection.err).toEqual([
      'test/fixtures/invalid/email-injection.yaml: fixtures/email-injection: spec.notify.email.to[0]: contains a line break, which could inject mail headers; give one plain address such as team@example.com',
    ]);
    const limit = await render(['-f', 'test/fixtures/invalid/limit-above-ceiling.yaml', '--out', outDir]);
    expect(limit.err).toEqual([
      "test/fixtures/invalid/limit-above-ceiling.yaml: fixtures/limit-above-ceiling: spec.limits.sampleLimit: 200000 is above the cluster ceiling 50000 (operator setting scrapeLimits.ceilings.sampleLimit); ask for at most 50000, or ask the cluster's administrators to raise the ceiling",
    ]);
  });

  it('takes the scrape limit ceilings from --settings', async () => {
    const settings = join(outDir, 'settings.yaml');
    writeFileSync(settings, 'scrapeLimits:\n  ceilings:\n    sampleLimit: 250000\n');
    const { code, err } = await render(['-f', 'test/fixtures/invalid/limit-above-ceiling.yaml', '--settings', settings, '--out', join(outDir, 'raised')]);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(readFileSync(join(outDir, 'raised', 'prometheus', 'prometheus.yml'), 'utf8')).toContain('sample_limit: 200000');
  });
});

describe('vigil render on valid objects', () => {
  it('renders examples/checkout.yaml and exits 0', async () => {
    const { code, err, out } = await render(['-f', 'examples/checkout.yaml', '--out', outDir]);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out).toMatch(/^rendered 1 of 1 MonitoredService into /);
    expect(readdirSync(join(outDir, 'prometheus')).sort()).toEqual(['prometheus.yml', 'shop__checkout.rules.yaml', 'vigil-watchdog.rules.yaml']);
    expect(readdirSync(join(outDir, 'alertmanager'))).toContain('alertmanager.yml');
    expect(readFileSync(join(outDir, 'prometheus', 'shop__checkout.rules.yaml'), 'utf8')).toContain('CheckoutHighErrorRate');
  });

  it('renders the valid objects of a mixed file, skips other kinds, defaults the namespace, exits 1', async () => {
    const file = join(outDir, 'mixed.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: v1\nkind: Service\nmetadata: {name: web}\n',
        'apiVersion: vigil.dev/v1alpha1\nkind: MonitoredService\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  endpoints: [{port: http}]\n',
        'apiVersion: vigil.dev/v1alpha1\nkind: MonitoredService\nmetadata: {name: broken, namespace: team}\nspec:\n  selector: {matchLabels: {app: x}}\n  endpoints: []\n',
      ].join('---\n'),
    );
    const { code, err, out } = await render(['-f', file, '--out', join(outDir, 'out')]);
    expect(code).toBe(1);
    expect(err).toEqual([`${file}: team/broken: spec.endpoints: must have at least one entry`]);
    expect(out).toMatch(/^rendered 1 of 2 MonitoredServices \(1 invalid, left out\)/);
    expect(readdirSync(join(outDir, 'out', 'prometheus'))).toContain('default__web.rules.yaml');
  });

  it('reports YAML errors and the same object defined twice', async () => {
    const file = join(outDir, 'twice.yaml');
    const doc = 'apiVersion: vigil.dev/v1alpha1\nkind: MonitoredService\nmetadata: {name: a, namespace: n}\nspec: {selector: {matchLabels: {a: b}}, endpoints: [{port: m}]}\n';
    writeFileSync(file, `${doc}---\n${doc}---\nkey: [unclosed\n`);
    const { code, err } = await render(['-f', file, '--out', outDir]);
    expect(code).toBe(1);
    expect(err[0]).toMatch(new RegExp(`^${file}: YAML error: `));
    expect(err[1]).toBe(`${file}: n/a: metadata.name: n/a is also defined in ${file}; each MonitoredService must be unique per namespace`);
  });
});

describe('vigil render arguments', () => {
  it('exits 2 without -f, on a missing file and on unknown options', async () => {
    expect((await render([])).code).toBe(2);
    const missing = await render(['-f', 'no/such/file.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.err).toEqual([`vigil render: ${join(REPO, 'no/such/file.yaml')}: no such file or folder`]);
    expect((await render(['-f', 'examples', '--bogus'])).code).toBe(2);
  });
  it('exits 1 when no MonitoredService is found', async () => {
    const file = join(outDir, 'svc.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\n');
    const { code, err } = await render(['-f', file]);
    expect(code).toBe(1);
    expect(err).toEqual([`vigil render: no MonitoredService (vigil.dev) found in ${file}`]);
  });
  it('rejects unknown settings', async () => {
    const settings = join(outDir, 'settings.yaml');
    writeFileSync(settings, 'profile: demo\nsmtpHost: x\n');
    const { code, err } = await render(['-f', 'examples/checkout.yaml', '--settings', settings, '--out', outDir]);
    expect(code).toBe(2);
    expect(err[0]).toMatch(/unknown setting "smtpHost"/);
  });
});

describe('operator/bin/vigil.js', () => {
  const vigil = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
      execFile(process.execPath, [join(REPO, 'operator/bin/vigil.js'), ...args], { cwd: outDir, timeout: 60000 }, (error, stdout, stderr) =>
        res({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('runs render from the checkout through tsx, with exit codes', async () => {
    const ok = await vigil(['render', '-f', join(REPO, 'examples/checkout.yaml'), '--out', 'o']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(readdirSync(join(outDir, 'o', 'prometheus'))).toContain('prometheus.yml');
    const bad = await vigil(['render', '-f', join(INVALID, 'promql-syntax.yaml'), '--out', 'o']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/fixtures\/promql-syntax: spec\.rules\[0\]\.expr: Prometheus 3\.15\.1 cannot parse it: 1:51: parse error: unclosed left parenthesis/);
  });

  it('runs through npx without npm warnings, on the pinned Node even when PATH has an older one (issue #11)', async () => {
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
      // PATH as a newcomer has it after `make deps`: the machine's node/npm first, not node_modules'.
      const path = (process.env.PATH ?? '')
        .split(':')
        .filter((p) => !p.includes(`node-${process.platform}-${process.arch}`))
        .join(':');
      execFile(
        'npx',
        ['vigil', 'render', '-f', 'examples/checkout.yaml', '--out', join(outDir, 'npx')],
        { cwd: REPO, timeout: 120000, env: { ...process.env, PATH: path, NODE_OPTIONS: '' } },
        (error, stdout, stderr) => res({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^rendered 1 of 1 MonitoredService into /);
  }, 120_000);

  it('prints usage and exits 2 for an unknown command', async () => {
    const result = await vigil(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown command "frobnicate"/);
    expect(result.stderr).toMatch(/render +validate MonitoredService YAML files/);
  });
});

describe('vigil render without --out', () => {
  it('says where it wrote the files (issue #11)', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'vigil-render-cwd-'));
    try {
      const out: string[] = [];
      const code = await runRenderCommand(['-f', join(REPO, 'examples/checkout.yaml')], { out: (l) => out.push(l), err: () => undefined, cwd });
      expect(code).toBe(0);
      expect(out[0]).toMatch(/^rendered 1 of 1 MonitoredService into .*vigil-out \(the default output folder; choose another with --out <dir>\):$/);
      expect(existsSync(join(cwd, 'vigil-out', 'prometheus', 'prometheus.yml'))).toBe(true);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
