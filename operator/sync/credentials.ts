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
  return namedCredentialFiles(config, dir).filter((file) => !(file in available));
}

/** The files of `dir` a config names, sorted, each once. */
export function namedCredentialFiles(config: FileSet | undefined, dir: string): string[] {
  const text = config?.[PROMETHEUS_CONFIG_FILE];
  if (text === undefined) return [];
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return [...new Set([...text.matchAll(new RegExp(`${escapeForPattern(prefix)}([-._a-zA-Z0-9]+)`, 'g'))].map((m) => m[1]!))].sort();
}

/**
 * What the credentials directory must hold: the Secret's files, plus those on disk that the config
 * Prometheus runs still names. The operator drops a file from its Secret before the config that
 * stops naming it arrives; removing it at once would fail that job's scrapes meanwhile, and a
 * restore of the last good config (after a failed reload) would fail on the missing file.
 */
export function credentialFilesToKeep(files: FileSet, onDisk: FileSet, running: FileSet | undefined, dir: string): FileSet {
  const kept: FileSet = {};
  for (const name of namedCredentialFiles(running, dir)) if (!(name in files) && name in onDisk) kept[name] = onDisk[name]!;
  return { ...kept, ...files };
}
