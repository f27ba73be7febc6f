import { readFileSync } from 'node:fs';
import { renderFieldReferenceTable, replaceFieldReference, specFieldRows } from './field-reference.js';

describe('README field reference', () => {
  const rows = specFieldRows();

  it('documents every spec field with a description', () => {
    const paths = rows.map((r) => r.path);
    for (const expected of [
      'spec.selector.matchLabels',
      'spec.endpoints[].port',
      'spec.endpoints[].scrapeTimeout',
      'spec.downAlert.for',
      'spec.rules[].expr',
      'spec.notify.email.to',
      'spec.notify.email.sendResolved',
    ]) {
      expect(paths).toContain(expected);
    }
    expect(rows.filter((r) => r.description === '').map((r) => r.path)).toEqual([]);
  });

  it('shows defaults the API applies', () => {
    expect(rows.find((r) => r.path === 'spec.endpoints[].path')?.defaultValue).toBe('`"/metrics"`');
    // Composed defaults have no schema default; the description says how they are chosen.
    expect(rows.find((r) => r.path === 'spec.endpoints[].interval')?.description).toMatch(/Default 15s, or scrapeTimeout when that is longer/);
    expect(rows.find((r) => r.path === 'spec.downAlert.enabled')?.defaultValue).toBe('`true`');
  });

  it('is up to date in README.md (run `make generate` after changing the schema)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(replaceFieldReference(readme, renderFieldReferenceTable(rows))).toBe(readme);
  });
});
