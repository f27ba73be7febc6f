// The scrape-credentials files next to Prometheus (the operator's scrape-credentials Secret, see
// controller/scrape-credentials.ts): written by the Prometheus pod's sidecar into their own
// directory before any config that names them is loaded. Prometheus reads them again whenever their
// content changed, so new content alone needs no reload.
import { PROMETHEUS_CONFIG_FILE } from '../contract.js';
import type { FileSet } from './files.js';

/** RE2/JS escaping of a directory path used inside a pattern. */
const escapeForPattern = (text: string) => text.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');

/**
 * The credential files a config names (`<dir>/<file>` in prometheus.yml) that `available` lacks:
 * a config naming a file that is not there would fail the whole reload. Sorted, each once.
 */
export function missingCredentialFiles(config: FileSet, dir: string, available: FileSet): string[] {
  const text = config[PROMETHEUS_CONFIG_FILE];
  if (text === undefined) return [];
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const named = new Set([...text.matchAll(new RegExp(`${escapeForPattern(prefix)}([-._a-zA-Z0-9]+)`, 'g'))].map((m) => m[1]!));
  return [...named].filter((file) => !(file in available)).sort();
}
