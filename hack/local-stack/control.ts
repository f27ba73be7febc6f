// How `make outage` / `make restore` reach the running `make local-up`: the stack owns the demo
// target process, so it serves a tiny control API on loopback and records its address in
// .local/stack.json. Only start/stop of the demo target and a status report (which components run and
// answer, for the message of a timed-out `make outage`); nothing else is exposed.
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from './cluster.js';
import type { Stack } from './stack.js';
import type { ComponentStatus } from './supervisor.js';

export const LOCAL_DIR = join(REPO_ROOT, '.local');
export const STATE_FILE = join(LOCAL_DIR, 'stack.json');

export interface StackState {
  pid: number;
  controlUrl: string;
  kubeconfig: string;
  urls: Stack['urls'];
  mailApiUrl: string;
  boundSeconds: number;
  demo: { namespace: string; name: string };
}

export function startControlServer(stack: Stack): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    void (async () => {
      try {
        if (req.method === 'POST' && req.url === '/target/stop') {
          if (!stack.isTargetRunning()) return reply(409, { error: 'the demo target is already stopped (make restore starts it)' });
          const stoppedAt = await stack.stopTarget();
          return reply(200, { stoppedAt });
        }
        if (req.method === 'POST' && req.url === '/target/start') {
          if (stack.isTargetRunning()) return reply(409, { error: 'the demo target is already running' });
          const startedAt = Date.now();
          await stack.startTarget();
          return reply(200, { startedAt });
        }
        if (req.method === 'GET' && req.url === '/status') return reply(200, { targetRunning: stack.isTargetRunning(), components: await stack.componentStatus() });
        return reply(404, { error: 'unknown control endpoint' });
      } catch (err) {
        return reply(500, { error: (err as Error).message });
      }
    })();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('unexpected control server address'));
      resolve({ server, url: `http://127.0.0.1:${addr.port}` });
    });
  });
}

export async function readStackState(): Promise<StackState> {
  let text: string;
  try {
    text = await readFile(STATE_FILE, 'utf8');
  } catch {
    throw new Error(`no running local stack (${STATE_FILE} is missing): start one with \`make local-up\` in another terminal`);
  }
  const state = JSON.parse(text) as StackState;
  try {
    process.kill(state.pid, 0);
  } catch {
    throw new Error(`the local stack recorded in ${STATE_FILE} (pid ${state.pid}) is not running: start it with \`make local-up\``);
  }
  return state;
}

export async function control(state: StackState, path: '/target/stop' | '/target/start'): Promise<Record<string, number>> {
  const res = await fetch(`${state.controlUrl}${path}`, { method: 'POST', signal: AbortSignal.timeout(90_000) });
  const body = (await res.json()) as Record<string, number> & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

/** GET /status of the running stack: the demo target and every component (Stack.componentStatus). */
export async function stackStatus(state: StackState): Promise<{ targetRunning: boolean; components: ComponentStatus[] }> {
  const res = await fetch(`${state.controlUrl}/status`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${state.controlUrl}/status: HTTP ${res.status}`);
  return (await res.json()) as { targetRunning: boolean; components: ComponentStatus[] };
}
