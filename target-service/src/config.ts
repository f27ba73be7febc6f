// Settings of the demo target from command-line flags and environment (flags win).
import { DEFAULT_HOST_PATHS, type HostPaths } from './host-metrics.js';

export interface TargetConfig {
  port: number;
  host: string;
  hostPaths: HostPaths;
  /** How long in-flight requests get to finish after SIGTERM/SIGINT before connections are cut. */
  shutdownGraceMs: number;
}

export const DEFAULT_PORT = 8000;

const USAGE = 'usage: main [--port N] [--host ADDR]   (env: PORT, HOST, DISK_PATH, PROC_ROOT, SYS_ROOT, SHUTDOWN_GRACE_MS)';

function parseInteger(value: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new Error(`${what}: "${value}" is not an integer from ${min} to ${max}`);
  }
  return Number(value);
}

export function parseTargetConfig(argv: readonly string[], env: NodeJS.ProcessEnv): TargetConfig {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const match = /^--(port|host)(?:=(.*))?$/.exec(arg);
    if (!match?.[1]) throw new Error(`unknown argument "${arg}"; ${USAGE}`);
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${match[1]} needs a value; ${USAGE}`);
    flags.set(match[1], value);
  }
  const portText = flags.get('port') ?? env.PORT;
  const host = flags.get('host') ?? env.HOST ?? '0.0.0.0';
  if (host === '') throw new Error('host: must not be empty');
  return {
    // 0 asks the OS for a free port; the bound one is logged.
    port: portText === undefined || portText === '' ? DEFAULT_PORT : parseInteger(portText, flags.has('port') ? '--port' : 'PORT', 0, 65535),
    host,
    hostPaths: {
      procRoot: env.PROC_ROOT || DEFAULT_HOST_PATHS.procRoot,
      sysRoot: env.SYS_ROOT || DEFAULT_HOST_PATHS.sysRoot,
      diskPath: env.DISK_PATH || DEFAULT_HOST_PATHS.diskPath,
    },
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS ? parseInteger(env.SHUTDOWN_GRACE_MS, 'SHUTDOWN_GRACE_MS', 0, 600_000) : 5000,
  };
}
