// The scrape job names of a Prometheus config, without parsing all of it.
//
// The sidecar confirms a reload by comparing the job names of the file it wrote with those of the
// config Prometheus reports (/api/v1/status/config). With 2,000 MonitoredServices those are 2 and
// 2.5 MB of YAML; parsing them whole with `yaml` took seconds and ~250 MB of memory per check.
// Both texts are machine-written block YAML (ours by `yaml`, Prometheus's by Go's yaml.v2), in
// which the `scrape_configs` list is easy to find and to cut into items: so only the job name of
// each item is read, from its first line when that line is unambiguous (the usual case for both
// writers, job_name being their first key), else by parsing that item alone. Anything outside
// this shape (flow style, several documents, tabs, an unusual first line) makes the caller parse
// the whole document as before, so the answer is always the one a full parse gives.
import { parse as parseYaml } from 'yaml';

/** What a full parse of the document gives: String(job_name ?? '') per item, sorted by the caller. */
export function jobNamesByFullParse(prometheusYaml: string): string[] {
  const doc = parseYaml(prometheusYaml) as { scrape_configs?: Array<{ job_name?: unknown }> } | null;
  return (doc?.scrape_configs ?? []).map((job) => String(job?.job_name ?? ''));
}

const TOP_LEVEL_KEY = /^[A-Za-z_][A-Za-z0-9_]*:( |$)/;
const ITEM_KEY = /^[A-Za-z_][A-Za-z0-9_]*:( |$)/;
/** A plain scalar that YAML's core schema can only read as this very string. */
const SIMPLE_PLAIN = /^[A-Za-z_][A-Za-z0-9_/.:-]*$/;
/** Plain words that start with a letter and are not strings in YAML 1.2 core (or 1.1). */
const NON_STRING_WORDS = new Set([
  'true',
  'True',
  'TRUE',
  'false',
  'False',
  'FALSE',
  'null',
  'Null',
  'NULL',
  'y',
  'Y',
  'yes',
  'Yes',
  'YES',
  'n',
  'N',
  'no',
  'No',
  'NO',
  'on',
  'On',
  'ON',
  'off',
  'Off',
  'OFF',
]);

function indentOf(line: string): number {
  let i = 0;
  while (line.charCodeAt(i) === 32) i++;
  return i;
}

const isBlankOrComment = (line: string) => /^ *(#.*)?$/.test(line);

/** The job name of one list item (its lines, the item's indentation already removed). */
function itemJobName(lines: string[]): string {
  const first = /^- job_name: (.*)$/.exec(lines[0] ?? '');
  const value = first?.[1];
  if (value !== undefined && SIMPLE_PLAIN.test(value) && !value.endsWith(':') && !NON_STRING_WORDS.has(value)) {
    // A plain scalar may continue on the next line; the next line must be another key of the item.
    const next = lines.slice(1).find((l) => !isBlankOrComment(l));
    if (next === undefined || (next.startsWith('  ') && indentOf(next) === 2 && ITEM_KEY.test(next.slice(2)))) return value;
  }
  const item = parseYaml(lines.join('\n')) as Array<{ job_name?: unknown } | null> | null;
  if (!Array.isArray(item) || item.length !== 1) throw new Error('not one list item');
  return String(item[0]?.job_name ?? '');
}

/** Job names from the scrape_configs section, or undefined when the text is not of the simple shape. */
export function scanJobNames(prometheusYaml: string): string[] | undefined {
  if (prometheusYaml.includes('\r') || /^(\t|---|\.\.\.|%)/m.test(prometheusYaml)) return undefined;
  const lines = prometheusYaml.split('\n');
  const firstContent = lines.find((l) => !isBlankOrComment(l));
  if (firstContent === undefined || !TOP_LEVEL_KEY.test(firstContent)) return undefined;
  const headers = lines.flatMap((l, i) => (l.startsWith('scrape_configs:') ? [i] : []));
  if (headers.length !== 1 || lines[headers[0]!] !== 'scrape_configs:') return undefined;

  const items: string[][] = [];
  let itemIndent: number | undefined;
  for (let i = headers[0]! + 1; i < lines.length; i++) {
    const line = lines[i]!;
    const indent = indentOf(line);
    if (isBlankOrComment(line)) {
      // Deeper than the items it may be the content of a block scalar; otherwise it is nothing.
      items.at(-1)?.push(itemIndent !== undefined && indent > itemIndent ? line.slice(itemIndent) : '');
      continue;
    }
    if (itemIndent === undefined) {
      // The first line after the header must open the first item (otherwise: no items, or flow style).
      if (line.charAt(indent) !== '-' || !/^-( |$)/.test(line.slice(indent))) return undefined;
      itemIndent = indent;
    }
    const rest = line.slice(itemIndent);
    if (indent === itemIndent && /^-( |$)/.test(rest)) items.push([rest]);
    else if (indent > itemIndent) items.at(-1)!.push(rest);
    else if (indent === 0 && TOP_LEVEL_KEY.test(line))
      break; // the next top-level key
    else return undefined;
  }
  if (itemIndent === undefined) return undefined;
  return items.map(itemJobName);
}

/** The scrape job names of a Prometheus config (the file we wrote, or /api/v1/status/config's YAML), sorted. */
export function scrapeJobNames(prometheusYaml: string): string[] {
  let names: string[] | undefined;
  try {
    names = scanJobNames(prometheusYaml);
  } catch {
    names = undefined; // an item that does not parse alone (e.g. an alias): the whole document decides
  }
  return (names ?? jobNamesByFullParse(prometheusYaml)).sort();
}

/** What a full parse gives: the base name of every `scrape_config_files` entry. */
function scrapeConfigFilesByFullParse(prometheusYaml: string): string[] {
  const doc = parseYaml(prometheusYaml) as { scrape_config_files?: unknown[] } | null;
  return (doc?.scrape_config_files ?? []).map((f) => baseName(String(f ?? '')));
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** An entry Vigil writes (a path of plain file-name characters), which YAML reads only as this string. */
const SIMPLE_PATH = /^[A-Za-z0-9_/.][A-Za-z0-9_/.-]*$/;

/**
 * The base names of a Prometheus config's `scrape_config_files` (the file we wrote, or
 * /api/v1/status/config's YAML, where Prometheus shows each entry joined to the config file's
 * directory), sorted; [] when it has none. The header is looked for as a top-level line, which
 * in block YAML cannot be inside a scrape job; anything but a block list of simple paths under
 * it is read by a full parse, as scrapeJobNames does.
 */
export function scrapeConfigFiles(prometheusYaml: string): string[] {
  const firstContent = /^(?! *(#.*)?$).*$/m.exec(prometheusYaml)?.[0];
  const blockShape = !prometheusYaml.includes('\r') && !/^(\t|---|\.\.\.|%)/m.test(prometheusYaml) && firstContent !== undefined && TOP_LEVEL_KEY.test(firstContent);
  // The usual case, every config without partitions (megabytes at 10,000 services): not split into lines.
  if (blockShape && !prometheusYaml.includes('scrape_config_files')) return [];
  const lines = prometheusYaml.split('\n');
  const headers = lines.flatMap((l, i) => (l.startsWith('scrape_config_files:') ? [i] : []));
  if (blockShape && headers.length === 1 && lines[headers[0]!] === 'scrape_config_files:') {
    const names: string[] = [];
    let simple = true;
    for (let i = headers[0]! + 1; i < lines.length; i++) {
      const line = lines[i]!;
      const item = /^ *- (.*)$/.exec(line);
      if (item && SIMPLE_PATH.test(item[1]!) && !NON_STRING_WORDS.has(item[1]!)) {
        names.push(baseName(item[1]!));
        continue;
      }
      // The list ends at the next top-level key or the end of the text; anything else: parse it whole.
      simple = (line === '' && i === lines.length - 1) || TOP_LEVEL_KEY.test(line);
      break;
    }
    if (simple && names.length > 0) return names.sort();
  }
  return scrapeConfigFilesByFullParse(prometheusYaml).sort();
}
