// Child processes for integration tests: output goes to a log file, stop() sends SIGTERM to the
// PID and SIGKILL after a grace period, and anything still running when this Node process exits
// is killed, so a crashed test does not leave servers behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export function startProcess(name: string, command: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): ManagedProcess {
  installExitHook();
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ['ignore', fd, fd], env: env ?? process.env });
  } finally {
    closeSync(fd); // the child holds its own copy
  }
  running.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
    child.once('error', () => {
      running.delete(child);
      resolve({ code: -1, signal: null });
    });
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command} (is it installed? run \`make tools\`)`);
  const pid = child.pid;
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  return {
    name,
    pid,
    logFile,
    exited,
    isRunning: () => !ended,
    async stop(graceMs = 10_000) {
      if (ended) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // exited meanwhile
        }
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The last `lines` lines of a log file, for error messages. */
export function logTail(logFile: string, lines = 40): string {
  if (!existsSync(logFile)) return `(no log at ${logFile})`;
  const all = readFileSync(logFile, 'utf8').trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}
