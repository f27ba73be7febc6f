// The flag table of the `vigil` commands: each flag is declared once (name, environment variable,
// default, parser, help text) and that one declaration produces both the parser and the usage text
// (issue #12). Parsing itself is node:util parseArgs (strict: unknown flags and missing values are
// errors); this module adds what parseArgs lacks: VIGIL_* environment variables, defaults that
// depend on the environment, value parsers whose errors name the flag, and the usage text.
import { parseArgs } from 'node:util';
import { LOG_LEVELS, parseLogLevel } from '../observability/index.js';
import { parseDurationMs } from '../validate/duration.js';

export type Env = Record<string, string | undefined>;

/** A flag's value could not be used; the message names the flag (or its environment variable). */
export class UsageError extends Error {}

/**
 * One row of the table. `T` is what the command sees: the parsed value, its default, or undefined
 * when the flag is optional, has no default and was not given.
 */
export interface Flag<T> {
  readonly type: 'string' | 'boolean';
  /** Repeatable (`-f a -f b`); the command sees every value in order. */
  readonly multiple: boolean;
  readonly short?: string;
  /** Placeholder in the usage text, e.g. `<ns>`; absent for a boolean switch. */
  readonly placeholder?: string;
  /** Whether VIGIL_<FLAG> is read too (the flag wins over the environment). */
  readonly fromEnv: boolean;
  readonly help: string;
  /** How the usage text states the default, if there is one. */
  readonly defaultHelp?: string;
  /** Set when a missing value is a usage error; says what the flag is for. */
  readonly required?: string;
  /** Raw text (never empty) -> value; throws an Error whose message says what is accepted. */
  readonly parse: (raw: string) => unknown;
  /** The value when neither the command line nor the environment gives one. */
  readonly fallback: (env: Env) => T;
}

interface CommonSpec {
  help: string;
  short?: string;
  /** false: the flag has no VIGIL_* environment variable (default: it has one). */
  env?: false;
}

interface ValueSpec<T> extends CommonSpec {
  placeholder: string;
  /** Default: the raw text. */
  parse?: (raw: string) => T;
  /** How the usage text states the default; for an optional flag, what happens without it. */
  defaultHelp?: string;
}

/** A flag that takes a value (`--namespace <ns>`); optional, with a default, or required. */
export function valueFlag<T = string>(spec: ValueSpec<T> & { default: T | ((env: Env) => T) }): Flag<T>;
export function valueFlag<T = string>(spec: ValueSpec<T> & { required: string }): Flag<T>;
export function valueFlag<T = string>(spec: ValueSpec<T>): Flag<T | undefined>;
export function valueFlag<T>(spec: ValueSpec<T> & { default?: T | ((env: Env) => T); required?: string }): Flag<T | undefined> {
  const { default: fallback } = spec;
  return {
    type: 'string',
    multiple: false,
    ...(spec.short ? { short: spec.short } : {}),
    placeholder: spec.placeholder,
    fromEnv: spec.env !== false,
    help: spec.help,
    ...(spec.defaultHelp !== undefined || (fallback !== undefined && typeof fallback !== 'function') ? { defaultHelp: spec.defaultHelp ?? String(fallback) } : {}),
    ...(spec.required ? { required: spec.required } : {}),
    parse: spec.parse ?? ((raw) => raw),
    fallback: (env) => (typeof fallback === 'function' ? (fallback as (env: Env) => T)(env) : fallback),
  };
}

/** A repeatable flag (`-f a -f b`); the command line only. */
export function repeatedFlag(spec: Omit<ValueSpec<string>, 'env' | 'parse'>): Flag<string[]> {
  return {
    type: 'string',
    multiple: true,
    ...(spec.short ? { short: spec.short } : {}),
    placeholder: spec.placeholder,
    fromEnv: false,
    help: `${spec.help} (repeatable)`,
    parse: (raw) => raw,
    fallback: () => [],
  };
}

/** A switch (`--leader-elect`); from the environment it takes true/false, 1/0 or yes/no. */
export function switchFlag(spec: CommonSpec): Flag<boolean> {
  return {
    type: 'boolean',
    multiple: false,
    ...(spec.short ? { short: spec.short } : {}),
    fromEnv: spec.env !== false,
    help: spec.help,
    parse: parseBoolean,
    fallback: () => false,
  };
}

// `any`, not `unknown`: as the contextual type of a table literal, Flag<unknown> would make TypeScript
// infer T = unknown for every valueFlag() call in it instead of its own default (string).
// biome-ignore lint/suspicious/noExplicitAny: see above
export type FlagTable = Record<string, Flag<any>>;
export type FlagValues<F extends FlagTable> = { [K in keyof F]: F[K] extends Flag<infer T> ? T : never };

/** `watch-namespaces` -> `VIGIL_WATCH_NAMESPACES`. */
export function envName(flag: string): string {
  return `VIGIL_${flag.toUpperCase().replace(/-/g, '_')}`;
}

export interface CommandSpec<F extends FlagTable> {
  /** `operator` for `vigil operator`. */
  name: string;
  /** What follows `vigil <name>` in the first usage line, e.g. `[options]`. */
  synopsis: string;
  /** Paragraph(s) between the usage line and the flags. */
  description: string;
  flags: F;
  /** Lines after the flags (the exit status, an example of the environment variables). */
  footer: string[];
}

export interface Command<F extends FlagTable> {
  readonly name: string;
  readonly flags: F;
  readonly usage: string;
  /**
   * The command line, then VIGIL_* variables, then defaults; an empty value counts as not given.
   * Returns 'help' for -h/--help. Throws a UsageError naming the flag on bad input.
   */
  parse(argv: string[], env: Env): FlagValues<F> | 'help';
}

const HELP_FLAG = switchFlag({ help: 'print this text', short: 'h', env: false });

export function defineCommand<F extends FlagTable>(spec: CommandSpec<F>): Command<F> {
  if ('help' in spec.flags) throw new Error(`vigil ${spec.name}: --help is built in`);
  return {
    name: spec.name,
    flags: spec.flags,
    usage: usageText(spec),
    parse: (argv, env) => parseFlags(spec.flags, argv, env),
  };
}

function parseFlags<F extends FlagTable>(flags: F, argv: string[], env: Env): FlagValues<F> | 'help' {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries({ ...flags, help: HELP_FLAG }).map(([name, f]) => [name, { type: f.type, multiple: f.multiple, ...(f.short ? { short: f.short } : {}) }])),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const out: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(flags)) {
    const given = values[name];
    const fromArgv = Array.isArray(given) ? given.length > 0 : given !== undefined && given !== '';
    const envValue = flag.fromEnv ? env[envName(name)] : undefined;
    // Where the value came from, as the error message names it.
    const source = fromArgv ? `--${name}` : `${envName(name)} (--${name})`;
    const parseOne = (raw: string): unknown => {
      try {
        return flag.parse(raw);
      } catch (err) {
        throw new UsageError(`${source}: ${(err as Error).message}`);
      }
    };
    if (fromArgv) {
      // A switch on the command line is simply true; values are parsed.
      out[name] = flag.type === 'boolean' ? true : Array.isArray(given) ? given.map((g) => parseOne(String(g))) : parseOne(String(given));
    } else if (envValue !== undefined && envValue !== '') {
      out[name] = parseOne(envValue);
    } else if (flag.required !== undefined) {
      throw new UsageError(`--${name} ${flag.placeholder} is required${flag.fromEnv ? ` (or ${envName(name)})` : ''}: ${flag.required}`);
    } else {
      out[name] = flag.fallback(env);
    }
  }
  return out as FlagValues<F>;
}

const USAGE_WIDTH = 100;

/** The usage text: synopsis, description, one entry per flag (help, default), footer. */
function usageText<F extends FlagTable>(spec: CommandSpec<F>): string {
  const left = (name: string, f: Flag<unknown>) => `${f.short ? `-${f.short}, ` : ''}--${name}${f.placeholder ? ` ${f.placeholder}` : ''}`;
  const rows = Object.entries({ ...spec.flags, help: HELP_FLAG }).map(([name, f]) => ({
    left: left(name, f),
    help: `${f.help}${f.defaultHelp !== undefined ? ` (default: ${f.defaultHelp})` : ''}${f.required !== undefined ? ' (required)' : ''}`,
  }));
  const column = Math.max(...rows.map((r) => r.left.length)) + 4;
  const lines = rows.flatMap((r) => wrap(r.help, USAGE_WIDTH - column).map((text, i) => `${(i === 0 ? `  ${r.left}` : '').padEnd(column)}${text}`));
  return [`Usage: vigil ${spec.name} ${spec.synopsis}`, '', spec.description, '', ...lines, ...spec.footer].join('\n');
}

/** Greedy word wrap; a word longer than the width gets a line of its own. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line];
}

// Value parsers: each throws an Error saying what is wrong and what would be accepted; the caller
// prefixes the flag.

function parseBoolean(raw: string): boolean {
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new Error(`"${raw}" is not a boolean; use true or false`);
}

// Kubernetes names (apimachinery validation): namespaces are DNS labels (RFC 1123), ConfigMap and
// Secret names DNS subdomains. The schema's DNS_LABEL_PATTERN is the same rule for metadata.namespace.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function namespaceName(raw: string): string {
  if (!DNS_LABEL.test(raw) || raw.length > 63) throw new Error(`"${raw}" is not a valid namespace name (lowercase letters, digits and -, at most 63)`);
  return raw;
}

/** A ConfigMap/Secret name; `kind` goes into the message. */
export function objectName(kind: string): (raw: string) => string {
  return (raw) => {
    if (!DNS_SUBDOMAIN.test(raw) || raw.length > 253) throw new Error(`"${raw}" is not a valid ${kind} name (lowercase letters, digits, - and ., at most 253)`);
    return raw;
  };
}

/** `a, b,,c` -> [a, b, c], each checked by `item`. */
export function commaList<T>(item: (raw: string) => T): (raw: string) => T[] {
  return (raw) =>
    raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(item);
}

/** An http:// or https:// URL; `example` is shown when the text is not one. */
export function httpUrl(example: string): (raw: string) => string {
  return (raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new Error(`"${raw}" is not a URL; expected e.g. ${example}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`"${raw}" must be an http(s) URL, e.g. ${example}`);
    return raw;
  };
}

/** A Prometheus duration above 0 (`30s`, `2m`), in ms. */
export function positiveDurationMs(raw: string): number {
  const ms = parseDurationMs(raw);
  if (ms === undefined || ms <= 0) throw new Error(`"${raw}" is not a duration above 0 such as 30s or 2m`);
  return ms;
}

export function oneOf<T extends string>(choices: readonly T[]): (raw: string) => T {
  return (raw) => {
    if (!(choices as readonly string[]).includes(raw)) throw new Error(`"${raw}" is not one of ${choices.join(', ')}`);
    return raw as T;
  };
}

// Flags shared by `vigil operator` and `vigil sync`, declared once.

/** The install namespace (operator) or the watched object's namespace (sync): the pod's own by default. */
export function namespaceFlag(help: string): Flag<string> {
  return valueFlag({ placeholder: '<ns>', help, parse: namespaceName, default: (env) => env.POD_NAMESPACE || 'vigil-system', defaultHelp: '$POD_NAMESPACE or vigil-system' });
}

export const kubeconfigFlag = valueFlag({ placeholder: '<path>', help: 'kubeconfig file', defaultHelp: 'in-cluster, else $KUBECONFIG or ~/.kube/config' });

export function listenFlag(what: string, fallback: string): Flag<string> {
  return valueFlag({ placeholder: '<host:port>', help: what, default: fallback });
}

export const logLevelFlag = valueFlag({
  placeholder: '<level>',
  help: LOG_LEVELS.join(' | '),
  default: 'info',
  parse: (raw) => {
    parseLogLevel(raw);
    return raw;
  },
});

/** The footer line that says every flag has a VIGIL_* variable (true for the operator and sync tables). */
export function envFooter(example: string): string {
  return `Every flag can also be set as VIGIL_<FLAG>, e.g. ${example}.`;
}
