// The skeleton of the long-running commands (`vigil operator`, `vigil sync`): parse the flag table,
// start, wait for SIGTERM (Kubernetes stopping the pod) or SIGINT (Ctrl-C), stop gracefully, and
// exit with the documented status (issue #12).
import { hostname } from 'node:os';
import type { Logger } from '../observability/index.js';
import { type Command, type Env, type FlagTable, type FlagValues, UsageError } from './flags.js';

/** Exit status of every `vigil` command. `vigil render` also uses INVALID for objects that do not validate. */
export const EXIT = {
  /** Stopped by SIGTERM/SIGINT after a clean stop (or --help, or render: every object valid). */
  OK: 0,
  /** Could not start, or did not stop cleanly (render: an object is invalid or none was found). */
  FAILED: 1,
  /** Usage error: an unknown flag, a missing or bad value; the message names the flag. */
  USAGE: 2,
} as const;

/** The footer lines stating EXIT for a long-running command. */
export const SERVICE_EXIT_STATUS = 'Exit status: 0 stopped by SIGTERM or SIGINT, 1 could not start or stop cleanly, 2 usage error.';

/** Identity of this process towards the API (Lease holder, sidecar instance): the pod name, else host-pid. */
export function podIdentity(env: Env): string {
  return env.POD_NAME || `${hostname()}-${process.pid}`;
}

export interface Running {
  /** Graceful: lets in-flight work finish, then releases what was taken. */
  stop(): Promise<void>;
}

export interface ServiceIO {
  env: Env;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Resolves with the first of SIGTERM/SIGINT. */
  waitForSignal: () => Promise<NodeJS.Signals>;
}

/** SIGTERM or SIGINT on this process, whichever comes first; both listeners are removed afterwards. */
export function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => () => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve(signal);
    };
    const onTerm = on('SIGTERM');
    const onInt = on('SIGINT');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
  });
}

const processIO = (): ServiceIO => ({
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  waitForSignal: waitForStopSignal,
});

export interface ServiceSpec<F extends FlagTable, C> {
  command: Command<F>;
  /** Flag values -> the command's config; may throw a UsageError for checks across flags. */
  config: (values: FlagValues<F>, env: Env) => C;
  logger: (config: C) => Logger;
  start: (config: C, log: Logger) => Promise<Running>;
}

/**
 * Runs a long-running command to its exit status (EXIT): usage errors print the message and the
 * usage text to stderr (2); --help prints the usage to stdout (0); a failed start is logged (1);
 * otherwise it runs until SIGTERM/SIGINT, then stops (0, or 1 if stopping throws).
 */
export async function runService<F extends FlagTable, C>(spec: ServiceSpec<F, C>, argv: string[], io: ServiceIO = processIO()): Promise<number> {
  let config: C;
  try {
    const values = spec.command.parse(argv, io.env);
    if (values === 'help') {
      io.stdout(`${spec.command.usage}\n`);
      return EXIT.OK;
    }
    config = spec.config(values, io.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`vigil ${spec.command.name}: ${err.message}\n\n${spec.command.usage}\n`);
    return EXIT.USAGE;
  }
  const log = spec.logger(config);
  let running: Running;
  try {
    running = await spec.start(config, log);
  } catch (err) {
    log.error('could not start', { error: err });
    return EXIT.FAILED;
  }
  const signal = await io.waitForSignal();
  log.info('stopping', { signal });
  try {
    await running.stop();
  } catch (err) {
    log.error('could not stop cleanly', { error: err });
    return EXIT.FAILED;
  }
  log.info('stopped', {});
  return EXIT.OK;
}
