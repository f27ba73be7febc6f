// Structured logging: one JSON object per line on stderr, so `kubectl logs` and any log shipper
// can parse it. Kept dependency-free and tiny because the operator, the sync sidecar and the CLI share it.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger for a sub-part that writes the same component plus fixed fields (e.g. {object}). */
  child(fields: LogFields): Logger;
}

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export const LOG_LEVELS = Object.keys(LEVEL_ORDER) as LogLevel[];

export function parseLogLevel(value: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  if (value === undefined || value === '') return fallback;
  const lower = value.toLowerCase();
  if (lower in LEVEL_ORDER) return lower as LogLevel;
  throw new Error(`invalid log level "${value}": use one of ${LOG_LEVELS.join(', ')}`);
}

/** Errors do not serialize with JSON.stringify (their fields are not enumerable). */
function serializeValue(value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { message: value.message, name: value.name };
    const code = (value as { code?: unknown; statusCode?: unknown }).code ?? (value as { statusCode?: unknown }).statusCode;
    if (code !== undefined) out.code = code;
    return out;
  }
  return value;
}

export type LogSink = (line: string) => void;

const stderrSink: LogSink = (line) => {
  process.stderr.write(line + '\n');
};

/**
 * createLogger('operator', 'info').info('config written', { hash }) writes
 * {"ts":"...","level":"info","component":"operator","msg":"config written","hash":"..."}.
 * Fields never override ts/level/component/msg. Callers must not pass secrets.
 */
export function createLogger(component: string, level: LogLevel | string = 'info', sink: LogSink = stderrSink, baseFields: LogFields = {}): Logger {
  const threshold = LEVEL_ORDER[parseLogLevel(level)];
  const write = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (LEVEL_ORDER[lvl] < threshold) return;
    const record: Record<string, unknown> = {};
    for (const [k, v] of Object.entries({ ...baseFields, ...fields })) record[k] = serializeValue(v);
    let line: string;
    try {
      line = JSON.stringify({ ...record, ts: new Date().toISOString(), level: lvl, component, msg });
    } catch {
      // Circular or BigInt fields: still log the message rather than throw from a logger.
      line = JSON.stringify({ ts: new Date().toISOString(), level: lvl, component, msg, fieldsError: 'unserializable fields' });
    }
    sink(line);
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (fields) => createLogger(component, level, sink, { ...baseFields, ...fields }),
  };
}
