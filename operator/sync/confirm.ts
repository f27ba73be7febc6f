// Deciding, from what the server itself reports, whether the config we wrote is the one it runs.
// A 200 from /-/reload is necessary but not enough on its own (a proxy, a second reload racing
// ours): Prometheus must report a successful reload that finished after we triggered it and the
// scrape jobs of our file; Alertmanager must report the hash of exactly the bytes we wrote.
import { createHash } from 'node:crypto';
import type { FileSet } from './files.js';
import { scrapeConfigFiles, scrapeJobNames } from './job-names.js';
import { ALERTMANAGER_CONFIG_FILE, PROMETHEUS_CONFIG_FILE } from '../contract.js';

export { scrapeJobNames } from './job-names.js';

export type ServerKind = 'prometheus' | 'alertmanager';

/** The main config file of each server, as named in the generated ConfigMap/Secret. */
export const CONFIG_FILE: Record<ServerKind, string> = {
  prometheus: PROMETHEUS_CONFIG_FILE,
  alertmanager: ALERTMANAGER_CONFIG_FILE,
};

export type Confirmation = { ok: true } | { ok: false; reason: string };

/**
 * Values of the unlabelled samples in a Prometheus text exposition (all the reload metrics are
 * unlabelled gauges). Labelled samples, comments and unparsable lines are skipped.
 */
export function parseUnlabelledSamples(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\s+(\S+)(\s+-?\d+)?\s*$/.exec(line);
    if (!match) continue;
    const value = Number(match[2]);
    const name = match[1];
    if (name !== undefined && (!Number.isNaN(value) || match[2] === 'NaN')) samples.set(name, value);
  }
  return samples;
}

/** Our reload succeeded if the last reload was successful and completed no earlier than we asked. */
export function confirmPrometheusMetrics(samples: Map<string, number>, triggeredAtSeconds: number): Confirmation {
  const successful = samples.get('prometheus_config_last_reload_successful');
  const successAt = samples.get('prometheus_config_last_reload_success_timestamp_seconds');
  if (successful === undefined || successAt === undefined) {
    return { ok: false, reason: 'Prometheus /metrics has no prometheus_config_last_reload_successful / _success_timestamp_seconds' };
  }
  if (successful !== 1) return { ok: false, reason: 'Prometheus reports prometheus_config_last_reload_successful 0' };
  // 10 ms of slack for the float formatting of the timestamp (same clock: same pod).
  if (successAt < triggeredAtSeconds - 0.01) {
    return { ok: false, reason: `Prometheus's last successful reload (${successAt}) is older than the reload we triggered (${triggeredAtSeconds})` };
  }
  return { ok: true };
}

/**
 * The loaded config must have exactly the scrape jobs of the file we wrote, and name exactly its
 * `scrape_config_files` (by base name): Prometheus reports a scrape file's name, not its jobs, and
 * a partition's scrape file is named after its jobs' digest (render/names.ts partitionScrapeFileName).
 */
export function confirmPrometheusJobs(writtenYaml: string, loadedYaml: string): Confirmation {
  const parts: string[] = [];
  const compare = (written: string[], loaded: string[], what: string) => {
    const writtenSet = new Set(written);
    const loadedSet = new Set(loaded);
    const missing = written.filter((x) => !loadedSet.has(x));
    const extra = loaded.filter((x) => !writtenSet.has(x));
    if (missing.length > 0) parts.push(`missing ${what} ${missing.join(', ')}`);
    if (extra.length > 0) parts.push(`unexpected ${what} ${extra.join(', ')}`);
  };
  compare(scrapeJobNames(writtenYaml), scrapeJobNames(loadedYaml), 'jobs');
  compare(scrapeConfigFiles(writtenYaml), scrapeConfigFiles(loadedYaml), 'scrape_config_files');
  if (parts.length === 0) return { ok: true };
  return { ok: false, reason: `Prometheus's loaded config does not match the written one: ${parts.join('; ')}` };
}

/**
 * The value Alertmanager exports as alertmanager_config_hash: the first 48 bits of the MD5 of the
 * config file's bytes, little-endian, as a float64 (48 bits fit its mantissa exactly).
 */
export function alertmanagerConfigHashValue(content: string | Buffer): number {
  const digest = createHash('md5').update(content).digest();
  const eight = Buffer.alloc(8);
  digest.copy(eight, 0, 0, 6);
  return Number(eight.readBigUInt64LE());
}

export function confirmAlertmanagerMetrics(samples: Map<string, number>, writtenConfig: string): Confirmation {
  const successful = samples.get('alertmanager_config_last_reload_successful');
  const hash = samples.get('alertmanager_config_hash');
  if (successful === undefined || hash === undefined) {
    return { ok: false, reason: 'Alertmanager /metrics has no alertmanager_config_last_reload_successful / alertmanager_config_hash' };
  }
  if (successful !== 1) return { ok: false, reason: 'Alertmanager reports alertmanager_config_last_reload_successful 0' };
  const expected = alertmanagerConfigHashValue(writtenConfig);
  if (hash !== expected) {
    return { ok: false, reason: `Alertmanager runs a different config (alertmanager_config_hash ${hash}, written file hashes to ${expected})` };
  }
  return { ok: true };
}

/** Which server a file set is for, from its main config file; undefined if neither or both. */
export function inferServerKind(files: FileSet): ServerKind | undefined {
  const prom = CONFIG_FILE.prometheus in files;
  const am = CONFIG_FILE.alertmanager in files;
  if (prom === am) return undefined;
  return prom ? 'prometheus' : 'alertmanager';
}

/** /metrics and /api/v1/status/config live next to /-/reload, under the same route prefix. */
export function siblingUrl(reloadUrl: string, path: string): string {
  const url = new URL(reloadUrl);
  const prefix = url.pathname.replace(/\/-\/reload\/?$/, '');
  url.pathname = `${prefix.replace(/\/$/, '')}/${path.replace(/^\//, '')}`;
  url.search = '';
  return url.toString();
}
