// The hostile catalogue against the pure core, no processes (issue 4, item 1):
// - defence in depth: whatever the API server is expected to refuse, the operator's own
//   validation refuses too, naming the same field (the operator must not trust the CRD: it may be
//   old, edited, or the object may predate it);
// - every case gives readable one-line messages and never a throw;
// - the generated config of the good services is byte-identical with or without the catalogue.
import { parse } from 'yaml';
import type { MonitoredService } from '../../operator/api/schema.js';
import { routeReceiver } from '../../operator/render/alertmanager.js';
import { defaultSettings, ruleFileName } from '../../operator/render/index.js';
import { renderConfig } from '../../operator/assemble/config.js';
import type { ValidationResult } from '../../operator/render/types.js';
import { formatIssue, validateMonitoredService } from '../../operator/validate/index.js';
import { readFileSync } from 'node:fs';
import { FAULTS_DOC, withCurrentTable } from './faults-doc.js';
import { caseName, caseNamespace, fieldIsOrIsInside, goodServices, hostileCatalogue, type HostileCase } from './catalogue.js';

const catalogue = hostileCatalogue();
const settings = defaultSettings();

function validate(c: HostileCase): ValidationResult {
  return validateMonitoredService(structuredClone(c.object));
}

function validGoodServices(): MonitoredService[] {
  return goodServices().map((o) => {
    const r = validateMonitoredService(o);
    if (!r.ok) throw new Error(`a good service is invalid: ${JSON.stringify(r.issues)}`);
    return r.service;
  });
}

test('the catalogue has at least 40 cases with unique ids and unique objects', () => {
  expect(catalogue.length).toBeGreaterThanOrEqual(40);
  expect(new Set(catalogue.map((c) => c.id)).size).toBe(catalogue.length);
  expect(new Set(catalogue.map((c) => `${caseNamespace(c)}/${caseName(c)}`)).size).toBe(catalogue.length);
  // Every kind of outcome is exercised.
  for (const outcome of ['rejected-by-apiserver', 'invalid', 'accepted-safely']) {
    expect(catalogue.filter((c) => c.expect.outcome === outcome).length).toBeGreaterThanOrEqual(5);
  }
});

describe.each(catalogue.map((c) => [c.id, c] as const))('%s', (_id, c) => {
  test('validation never throws and gives one readable line per issue', () => {
    let result: ValidationResult | undefined;
    expect(() => (result = validate(c))).not.toThrow();
    if (!result || result.ok) return;
    expect(result.issues.length).toBeGreaterThan(0);
    for (const issue of result.issues) {
      const line = formatIssue(result.ref, issue);
      expect(line).not.toMatch(/[\r\n]/);
      expect(line.startsWith(`${result.ref.namespace}/${result.ref.name}: ${issue.field}: `)).toBe(true);
      expect(issue.message.trim().length).toBeGreaterThan(5);
      // Huge inputs (1 MiB expressions, 10,000 recipients) must not be echoed back whole.
      expect(line.length).toBeLessThan(2000);
    }
  });

  if (c.expect.outcome === 'accepted-safely') {
    const expectation = c.expect;
    test('is valid and renders; the trap is defused in the rule file', () => {
      const result = validate(c);
      if (!result.ok) throw new Error(`expected valid, got: ${result.issues.map((i) => formatIssue(result.ref, i)).join('; ')}`);
      const rendered = renderConfig([result.service], settings);
      const rules = rendered.prometheus[ruleFileName({ namespace: caseNamespace(c), name: caseName(c) })];
      expect(rules).toBeDefined();
      for (const re of expectation.ruleFileMatches ?? []) expect(rules).toMatch(re);
      for (const re of expectation.ruleFileMustNotMatch ?? []) expect(rules).not.toMatch(re);
      // Whatever the expression did, every selector of every custom rule carries its own namespace.
      const parsed = parse(rules!) as { groups: { rules: { alert: string; expr: string; labels: Record<string, string> }[] }[] };
      for (const rule of parsed.groups.flatMap((g) => g.rules)) {
        expect(rule.labels.vigil_namespace).toBe(caseNamespace(c));
        expect(rule.labels.vigil_monitoredservice).toBe(caseName(c));
        expect(rule.labels.namespace).toBe(caseNamespace(c));
      }
    });
  } else {
    const expectation = c.expect;
    test(`is refused by the operator's own validation, naming ${expectation.field}`, () => {
      const result = validate(c);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      const fields = result.issues.map((i) => i.field);
      if (!fields.some((f) => fieldIsOrIsInside(f, expectation.field))) {
        throw new Error(`no issue names ${expectation.field}; issues: ${result.issues.map((i) => formatIssue(result.ref, i)).join('; ')}`);
      }
    });
  }
});

describe('the good services are not affected by the catalogue', () => {
  const good = validGoodServices();
  const admitted = catalogue.map(validate).flatMap((r) => (r.ok ? [r.service] : []));
  const alone = renderConfig(good, settings);
  const renders = (service: MonitoredService) => {
    try {
      renderConfig([service], settings);
      return true;
    } catch {
      return false;
    }
  };
  // The comparisons below use what renders, so they still say something when the next test fails.
  const together = renderConfig([...good, ...admitted.filter(renders)], settings);

  test("every admitted catalogue object renders (one that does not would stop everybody's config)", () => {
    // planReconcile renders all valid services in one call: an object that validates but cannot be
    // rendered makes that call throw, for every service.
    const failing = admitted.filter((s) => !renders(s)).map((s) => `${s.metadata.namespace}/${s.metadata.name}`);
    expect(failing).toEqual([]);
    expect(() => renderConfig([...good, ...admitted], settings)).not.toThrow();
  });

  test('their rule files are byte-identical', () => {
    for (const service of good) {
      const key = ruleFileName(service.metadata);
      expect(together.prometheus[key]).toBe(alone.prometheus[key]);
    }
  });

  test('their scrape jobs are identical', () => {
    const jobs = (yml: string | undefined) => Object.fromEntries(((parse(yml ?? '') as { scrape_configs: { job_name: string }[] }).scrape_configs ?? []).map((j) => [j.job_name, j]));
    const before = jobs(alone.prometheus['prometheus.yml']);
    const after = jobs(together.prometheus['prometheus.yml']);
    const goodJobs = Object.keys(before).filter((name) => good.some((s) => name.startsWith(`vigil/${s.metadata.namespace}/${s.metadata.name}/`)));
    expect(goodJobs.length).toBe(good.length);
    for (const name of goodJobs) expect(after[name]).toEqual(before[name]);
  });

  test('their Alertmanager routes and receivers are identical', () => {
    type Am = { route: { routes?: { receiver: string }[] }; receivers: { name: string }[] };
    const am = (yml: string | undefined) => parse(yml ?? '') as Am;
    const before = am(alone.alertmanager['alertmanager.yml']);
    const after = am(together.alertmanager['alertmanager.yml']);
    for (const s of good) {
      const receiver = routeReceiver(s);
      const pick = (a: Am) => ({
        routes: (a.route.routes ?? []).filter((r) => r.receiver === receiver),
        receivers: a.receivers.filter((r) => r.name === receiver),
      });
      expect(pick(before).routes).toHaveLength(1);
      expect(pick(after)).toEqual(pick(before));
    }
  });
});

test('docs/faults.md lists the current catalogue (regenerate: node --import tsx test/hostile/faults-doc.ts --write)', () => {
  const doc = readFileSync(FAULTS_DOC, 'utf8');
  expect(doc).toBe(withCurrentTable(doc));
});
