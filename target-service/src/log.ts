// Structured logs: one JSON object per line on stdout, so container runtimes and `jq` read them.
export type LogLevel = 'info' | 'warn' | 'error';

export type LogFields = Record<string, unknown>;

export type Logger = (level: LogLevel, msg: string, fields?: LogFields) => void;

export function jsonLogger(write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  return (level, msg, fields = {}) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
  };
}

export const silentLogger: Logger = () => {};
