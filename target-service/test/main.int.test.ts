// Runs the real entry point as its own process (Node 24 + the tsx loader), scrapes it and stops
// it with SIGTERM the way a container runtime or `make local-up` would.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { getText, sampleValue } from './support/http.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const mainTs = path.join('target-service', 'src', 'main.ts');

interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

interface RunningTarget {
  child: ChildProcessWithoutNullStreams;
  logs: LogLine[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first log line matching, rejects if the process exits first or after timeoutMs. */
  waitForLog(msg: string, timeoutMs: number): Promise<LogLine>;
}

function startMain(args: string[], env: Record<string, string>): RunningTarget {
  const { NODE_OPTIONS: _vmModulesFlagNotNeeded, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', mainTs, ...args], {
    cwd: repoRoot,
    env: { ...inherited, ...env },
  });
  const logs: LogLine[] = [];
  const waiters: Array<() => void> = [];
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      // Every stdout line must be one JSON object; JSON.parse throws (and fails the test) otherwise.
      logs.push(JSON.parse(line) as LogLine);
      waiters.forEach((w) => w());
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog(msg, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${msg}" log within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        const check = () => {
          const found = logs.find((l) => l.msg === msg);
          if (found) {
            clearTimeout(timer);
            resolve(found);
          }
        };
        waiters.push(check);
        check();
        void exited.then(() => {
          clearTimeout(timer);
          check();
          reject(new Error(`exited before logging "${msg}"; stderr: ${stderr}`));
        });
      });
    },
  };
}

describe('target-service/src/main.ts as a process', () => {
  const started: RunningTarget[] = [];
  afterAll(() => {
    for (const t of started) {
      if (t.child.exitCode === null && t.child.signalCode === null && t.child.pid !== undefined) process.kill(t.child.pid, 'SIGKILL');
    }
  });

  it('serves metrics on the given port and exits 0 promptly on SIGTERM', async () => {
    // --port 0: the OS picks a free port and the "listening" log line says which, so there is no race.
    const target = startMain(['--port', '0'], { HOST: '127.0.0.1' });
    started.push(target);
    const listening = await target.waitForLog('listening', 20_000);
    expect(listening).toMatchObject({ level: 'info', host: '127.0.0.1', port: expect.any(Number) });
    const url = `http://127.0.0.1:${listening.port as number}`;

    expect(await getText(`${url}/healthz`)).toMatchObject({ status: 200, body: 'ok\n' });
    const { status, body } = await getText(`${url}/metrics`);
    expect(status).toBe(200);
    expect(sampleValue(body, 'http_request_duration_seconds_count{method="GET",route="/healthz",status_code="200"}')).toBe(1);
    expect(body).toMatch(/^target_ticks_total \d+$/m);
    expect(body).toMatch(/^target_sine_wave -?\d/m);
    expect(body).toMatch(/^target_host_memory_used_percent \d/m);
    expect(body).toMatch(/^target_host_disk_used_percent\{path="\/"\} \d/m);
    expect(body).toMatch(/^process_start_time_seconds \d/m);
    // The temperature series exists exactly when the process found a sensor on this machine.
    expect(body.includes('target_host_cpu_temperature_celsius{')).toBe(listening.temperatureSensor !== null);

    const signalled = Date.now();
    target.child.kill('SIGTERM');
    expect(await target.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(5000);
    expect(target.logs.map((l) => l.msg)).toEqual(['listening', 'shutting down', 'stopped']);
    expect(target.logs[2]).toMatchObject({ level: 'info', forced: false });
    expect(target.stderr()).toBe('');
  }, 40_000);

  it('refuses a bad PORT with a JSON error line and exit code 1', async () => {
    const target = startMain([], { HOST: '127.0.0.1', PORT: 'eighty' });
    started.push(target);
    expect(await target.exited).toEqual({ code: 1, signal: null });
    expect(target.logs).toEqual([expect.objectContaining({ level: 'error', msg: 'failed to start', error: 'PORT: "eighty" is not an integer from 0 to 65535' })]);
  }, 40_000);
});
