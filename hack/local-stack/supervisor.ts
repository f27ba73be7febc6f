// Restart policy and health report of the long-running local stack (`make local-up`, issue #15): users
// of the original compose stack had `restart: unless-stopped`, so a component that crashes comes back
// by itself; unlike compose, the restarts are limited, and past the limit the stack stops with a message
// naming the component instead of restarting it forever. Pure functions here; the I/O is in stack.ts.

export interface RestartPolicy {
  /** Restarts allowed within `windowMs`; one more crash in that window stops the stack. */
  limit: number;
  /** Delay before the first restart; doubled for each further crash within the window. */
  backoffMs: number;
  /** Upper bound of the delay. Default 30 s. */
  maxBackoffMs?: number;
  /** Crashes older than this no longer count (a stack running for days may crash now and then). Default 10 min. */
  windowMs?: number;
}

/** `make local-up`'s policy: 5 restarts within 10 min, 1 s, 2 s, 4 s, 8 s, 16 s apart. */
export const LOCAL_UP_RESTART_POLICY: RestartPolicy = { limit: 5, backoffMs: 1000, maxBackoffMs: 30_000, windowMs: 10 * 60_000 };

export type RestartDecision = { restart: true; attempt: number; delayMs: number } | { restart: false; crashes: number };

/**
 * What to do after a crash at `now` (ms), given the times of earlier crashes of the same component
 * (ms, any order; they include this one): restart as attempt n of `limit` after
 * backoffMs * 2^(n-1) (capped), or give up when this crash is the (limit+1)-th within the window.
 */
export function restartDecision(crashTimes: readonly number[], now: number, policy: RestartPolicy): RestartDecision {
  const windowMs = policy.windowMs ?? 10 * 60_000;
  const recent = crashTimes.filter((t) => now - t < windowMs).length;
  if (recent > policy.limit) return { restart: false, crashes: recent };
  const attempt = Math.max(recent, 1);
  const delayMs = Math.min(policy.backoffMs * 2 ** (attempt - 1), policy.maxBackoffMs ?? 30_000);
  return { restart: true, attempt, delayMs };
}

/** "exited with code 1" / "exited with code null (signal SIGKILL)": how a process ended. */
export function describeExit(exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  return exit.signal ? `exited with code ${exit.code} (signal ${exit.signal})` : `exited with code ${exit.code}`;
}

/** One component of the running stack, as `make outage` / `make restore` report it. */
export interface ComponentStatus {
  name: string;
  /** PID of its current process (absent for the API server, whose harness does not expose it). */
  pid?: number;
  running: boolean;
  /** How the process ended, when it is not running (describeExit). */
  exit?: string;
  /** The endpoint probed (URL or host:port). */
  endpoint: string;
  /** undefined: answered; otherwise why not (HTTP status, ECONNREFUSED, timeout). */
  problem?: string;
  logFile: string;
  /** Restarts by the supervisor since the stack started. */
  restarts: number;
}

/** The components that are not running or not answering, one phrase each; [] when all are fine. */
export function componentProblems(statuses: readonly ComponentStatus[]): string[] {
  return statuses.flatMap((s) => {
    const pid = s.pid === undefined ? '' : ` (pid ${s.pid})`;
    if (!s.running) return [`${s.name} is not running: its process${pid} ${s.exit ?? 'exited'} (log: ${s.logFile})`];
    if (s.problem !== undefined) return [`${s.name}${pid} does not answer on ${s.endpoint}: ${s.problem} (log: ${s.logFile})`];
    return [];
  });
}

/**
 * The message of a timed-out `make outage` / `make restore`: the timeout itself, then which components
 * are dead or not answering (the likely reason), or that every component is up (so look elsewhere).
 */
export function timeoutReport(timeout: string, statuses: readonly ComponentStatus[]): string {
  const problems = componentProblems(statuses);
  if (problems.length === 0)
    return `${timeout}\nevery component of the local stack is running and answering (${statuses.map((s) => s.name).join(', ')}); see the Prometheus alerts page and the logs in .local/run/`;
  return `${timeout}\nthe local stack is not whole:\n${problems.map((p) => `  - ${p}`).join('\n')}`;
}
