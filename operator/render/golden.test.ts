// Golden files: the catalogue of realistic MonitoredServices (test/fixtures/catalogue) rendered
// with the demo and the production settings must equal test/golden/<variant>/ byte for byte.
// After an intended change: UPDATE_GOLDEN=1 rewrites them; then read the diff before committing.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOGUE_DIR, demoSettings, loadCatalogue, productionSettings } from '../../test/fixtures/catalogue/index.js';
import { renderConfig } from '../assemble/config.js';
import type { RenderedConfig } from './types.js';

const GOLDEN_DIR = join(CATALOGUE_DIR, '..', '..', 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** The golden view of a rendering: every file, plus the hashes and included refs as JSON. */
function goldenFiles(rendered: RenderedConfig): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, content] of Object.entries(rendered.prometheus)) files[`prometheus/${name}`] = content;
  for (const [name, content] of Object.entries(rendered.alertmanager)) files[`alertmanager/${name}`] = content;
  const { prometheusHash, alertmanagerHash, included } = rendered;
  files['summary.json'] = JSON.stringify({ prometheusHash, alertmanagerHash, included }, null, 2) + '\n';
  return files;
}

function listFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? listFiles(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`]));
}

describe.each([
  ['catalogue-demo', demoSettings],
  ['catalogue-production', productionSettings],
])('golden files %s', (variant, settings) => {
  const dir = join(GOLDEN_DIR, variant);
  const expected = goldenFiles(renderConfig(loadCatalogue(), settings));

  if (UPDATE) {
    rmSync(dir, { recursive: true, force: true });
    for (const [name, content] of Object.entries(expected)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
  }

  it('has exactly the rendered files', () => {
    expect(listFiles(dir).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.keys(expected).sort())('%s matches', (name) => {
    expect(readFileSync(join(dir, name), 'utf8')).toBe(expected[name]);
  });
});

describe('catalogue', () => {
  it('covers the cases the renderers must handle', () => {
    const services = loadCatalogue();
    const namespaces = new Set(services.map((s) => s.metadata.namespace));
    expect(namespaces.size).toBeGreaterThanOrEqual(3);
    expect(services.some((s) => s.spec.endpoints.length > 1)).toBe(true);
    expect(services.some((s) => s.spec.rules.length > 0)).toBe(true);
    expect(services.some((s) => s.spec.notify?.email)).toBe(true);
    expect(services.some((s) => !s.spec.notify?.email)).toBe(true);
    expect(services.some((s) => !s.spec.downAlert.enabled)).toBe(true);
    // Same name in two namespaces.
    const names = services.map((s) => s.metadata.name);
    expect(new Set(names).size).toBeLessThan(names.length);
  });
});
