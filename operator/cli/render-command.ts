// `vigil render -f <file-or-folder>... [--out <dir>] [--settings <yaml>] [--namespace <ns>]`
// What the operator would generate, offline: read MonitoredService YAML, report every problem as
// `<file>: <namespace>/<name>: <field>: <message>`, write the config of the valid ones.
// Exit codes: 0 all valid, 1 some object invalid (or none found), 2 usage or I/O error.
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { API_GROUP, KIND, type MonitoredService } from '../api/schema.js';
import type { GlobalSettings } from '../render/types.js';
import { formatIssue, validateMonitoredService } from '../validate/index.js';
import { defineCommand, type FlagValues, repeatedFlag, UsageError, valueFlag } from './flags.js';
import { EXIT } from './service.js';

const DEFAULT_OUT_DIR = 'vigil-out';

/** The flags of `vigil render`: parser and usage text (flags.ts). Command line only, no VIGIL_* variables. */
export const RENDER_COMMAND = defineCommand({
  name: 'render',
  synopsis: '-f <file-or-folder> [-f ...] [--out <dir>] [--settings <yaml>] [--namespace <ns>]',
  description: `Validates the MonitoredService objects in the given YAML files (folders are read recursively,
*.yaml and *.yml; other kinds are skipped) and writes what Vigil would generate for the valid ones:
  <out>/prometheus/prometheus.yml and <out>/prometheus/<namespace>__<name>.rules.yaml
  <out>/alertmanager/alertmanager.yml and its email template
Every problem is printed as "<file>: <namespace>/<name>: <field>: <message>".`,
  flags: {
    filename: repeatedFlag({ short: 'f', placeholder: '<path>', help: 'file or folder' }),
    // No default in the table: render says where the files went when --out was not given (issue #11).
    out: valueFlag({ short: 'o', placeholder: '<dir>', help: 'output folder', defaultHelp: `./${DEFAULT_OUT_DIR}`, env: false }),
    settings: valueFlag({ placeholder: '<file>', help: 'YAML of global settings (profile, smtp, defaultRecipients, ...)', env: false }),
    namespace: valueFlag({ short: 'n', placeholder: '<ns>', help: 'namespace for objects without metadata.namespace, as kubectl does', default: 'default', env: false }),
  },
  footer: [`Exit status: ${EXIT.OK} all objects valid, ${EXIT.FAILED} an object is invalid or none was found, ${EXIT.USAGE} usage or file error.`],
});

export const RENDER_USAGE = RENDER_COMMAND.usage;

export interface RenderIO {
  out: (line: string) => void;
  err: (line: string) => void;
  cwd: string;
}

const defaultIO: RenderIO = { out: (l) => console.log(l), err: (l) => console.error(l), cwd: process.cwd() };

interface FoundObject {
  file: string;
  raw: unknown;
}

async function yamlFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new UsageError(`${path}: no such file or folder`);
  if (!info.isDirectory()) return [path];
  const found: string[] = [];
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) found.push(...(await yamlFiles(child)));
    else if (/\.ya?ml$/i.test(entry.name)) found.push(child);
  }
  return found;
}

function isMonitoredService(doc: unknown): boolean {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return false;
  const { kind, apiVersion } = doc as Record<string, unknown>;
  // Same kind from another API group: not ours. A missing or broken apiVersion is reported by validation.
  return kind === KIND && (typeof apiVersion !== 'string' || apiVersion.startsWith(`${API_GROUP}/`));
}

/** Documents of one file, List items expanded; YAML errors are reported and count as invalid. */
function objectsOf(file: string, text: string, reportError: (message: string) => void): unknown[] {
  const objects: unknown[] = [];
  for (const doc of parseAllDocuments(text, { prettyErrors: true })) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) reportError(`${file}: YAML error: ${e.message.split('\n')[0]}`);
      continue;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    const isList = value !== null && typeof value === 'object' && !Array.isArray(value) && (value as Record<string, unknown>).kind === 'List';
    if (isList) objects.push(...(Array.isArray((value as Record<string, unknown>).items) ? ((value as Record<string, unknown>).items as unknown[]) : []));
    else objects.push(value);
  }
  return objects;
}

/** kubectl puts an object without a namespace into the current one; so does render, into --namespace. */
function withNamespace(raw: unknown, namespace: string): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const object = raw as Record<string, unknown>;
  const metadata = object.metadata;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return raw;
  if ((metadata as Record<string, unknown>).namespace !== undefined) return raw;
  return { ...object, metadata: { ...(metadata as Record<string, unknown>), namespace } };
}

async function loadSettings(path: string | undefined): Promise<GlobalSettings> {
  const { defaultSettings } = await import('../render/index.js');
  if (path === undefined) return defaultSettings();
  const text = await readFile(path, 'utf8').catch(() => {
    throw new UsageError(`${path}: cannot read the settings file`);
  });
  const { settingsFromYaml } = await import('../render/settings.js');
  try {
    return settingsFromYaml(text, path);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function writeOutput(outDir: string, files: Record<string, Record<string, string>>): Promise<string[]> {
  const written: string[] = [];
  for (const [folder, contents] of Object.entries(files)) {
    const dir = join(outDir, folder);
    await mkdir(dir, { recursive: true });
    // Rule files of services no longer rendered would linger and mislead: remove Vigil's own stale ones.
    for (const existing of await readdir(dir)) {
      if (existing.endsWith('.rules.yaml') && !(existing in contents)) await rm(join(dir, existing));
    }
    for (const [name, content] of Object.entries(contents)) {
      if (name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new Error(`refusing to write unexpected file name ${JSON.stringify(name)}`);
      await writeFile(join(dir, name), content);
      written.push(join(folder, name));
    }
  }
  return written;
}

export async function runRenderCommand(argv: string[], io: RenderIO = defaultIO): Promise<number> {
  let args: FlagValues<typeof RENDER_COMMAND.flags> | 'help';
  try {
    // No VIGIL_* variables: render reads nothing from the environment.
    args = RENDER_COMMAND.parse(argv, {});
  } catch (err) {
    io.err(`vigil render: ${(err as Error).message}\n\n${RENDER_USAGE}`);
    return EXIT.USAGE;
  }
  if (args === 'help') {
    io.out(RENDER_USAGE);
    return EXIT.OK;
  }
  const inputs = args.filename;
  if (inputs.length === 0) {
    io.err(`vigil render: give at least one -f <file-or-folder>\n\n${RENDER_USAGE}`);
    return EXIT.USAGE;
  }
  const defaultNamespace = args.namespace;
  const outDir = resolve(io.cwd, args.out ?? DEFAULT_OUT_DIR);
  // Paths below the working directory print relative, others absolute.
  const show = (file: string) => {
    const rel = relative(io.cwd, file);
    return rel === '' || rel.startsWith('..') ? file : rel;
  };

  try {
    const settings = await loadSettings(args.settings === undefined ? undefined : resolve(io.cwd, args.settings));
    const found: FoundObject[] = [];
    let problems = 0;
    for (const input of inputs) {
      for (const file of await yamlFiles(resolve(io.cwd, input))) {
        const text = await readFile(file, 'utf8');
        for (const raw of objectsOf(show(file), text, (m) => (problems++, io.err(m)))) {
          if (isMonitoredService(raw)) found.push({ file: show(file), raw: withNamespace(raw, defaultNamespace) });
        }
      }
    }

    const { renderConfig } = await import('../assemble/config.js');
    const valid: MonitoredService[] = [];
    const seen = new Map<string, string>();
    let invalidObjects = 0;
    for (const { file, raw } of found) {
      // Rendered alone with these settings, as the operator does: their scrape limit ceilings apply.
      const result = validateMonitoredService(raw, (service) => renderConfig([service], settings));
      if (!result.ok) {
        invalidObjects++;
        for (const issue of result.issues) io.err(`${file}: ${formatIssue(result.ref, issue)}`);
        continue;
      }
      const key = `${result.service.metadata.namespace}/${result.service.metadata.name}`;
      const previous = seen.get(key);
      if (previous !== undefined) {
        invalidObjects++;
        io.err(`${file}: ${key}: metadata.name: ${key} is also defined in ${previous}; each MonitoredService must be unique per namespace`);
        continue;
      }
      seen.set(key, file);
      valid.push(result.service);
    }

    if (found.length === 0) {
      io.err(`vigil render: no MonitoredService (${API_GROUP}) found in ${inputs.join(', ')}`);
      return EXIT.FAILED;
    }
    const rendered = renderConfig(valid, settings);
    const written = await writeOutput(outDir, { prometheus: rendered.prometheus, alertmanager: rendered.alertmanager });
    io.out(
      `rendered ${valid.length} of ${found.length} MonitoredService${found.length === 1 ? '' : 's'}` +
        (invalidObjects > 0 ? ` (${invalidObjects} invalid, left out)` : '') +
        ` into ${show(outDir)}` +
        // Say where the files went when the user did not choose (issue #11).
        (args.out === undefined ? ' (the default output folder; choose another with --out <dir>):' : ':'),
    );
    for (const file of written) io.out(`  ${file}`);
    io.out(`prometheus config hash ${rendered.prometheusHash}, alertmanager config hash ${rendered.alertmanagerHash}`);
    return invalidObjects > 0 || problems > 0 ? EXIT.FAILED : EXIT.OK;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`vigil render: ${err.message}`);
      return EXIT.USAGE;
    }
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      io.err(`vigil render: ${(err as Error).message}`);
      return EXIT.USAGE;
    }
    throw err;
  }
}
