// runService (service.ts): the start / wait for SIGTERM or SIGINT / stop skeleton of `vigil operator`
// and `vigil sync`, and its exit status. Signals are delivered through the injected waiter.
import { describe, expect, it } from '@jest/globals';
import { createLogger, type Logger } from '../observability/index.js';
import { defineCommand, valueFlag } from './flags.js';
import { EXIT, podIdentity, runService, type Running, type ServiceIO } from './service.js';

const command = defineCommand({
  name: 'demo',
  synopsis: '[options]',
  description: 'd',
  flags: { mode: valueFlag({ placeholder: '<m>', help: 'how to behave', default: 'ok' }) },
  footer: [],
});

function harness(behaviour: { start?: () => Promise<Running>; signal?: NodeJS.Signals } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const events: string[] = [];
  let deliver: (s: NodeJS.Signals) => void = () => undefined;
  const io: ServiceIO = {
    env: {},
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    waitForSignal: () =>
      new Promise((resolve) => {
        events.push('waiting');
        deliver = resolve;
      }),
  };
  const logger = (): Logger => createLogger('demo', 'info', (line) => logs.push(JSON.parse(line)));
  const run = (argv: string[]) =>
    runService(
      {
        command,
        config: (v) => v,
        logger,
        start:
          behaviour.start ??
          (async () => {
            events.push('started');
            return { stop: async () => void events.push('stopped') };
          }),
      },
      argv,
      io,
    );
  return { run, out, err, logs, events, signal: (s: NodeJS.Signals) => deliver(s) };
}

describe('runService', () => {
  it('starts, waits for the signal, stops, exits 0 and logs each step', async () => {
    const h = harness();
    const done = h.run([]);
    await new Promise((r) => setImmediate(r));
    expect(h.events).toEqual(['started', 'waiting']);
    h.signal('SIGTERM');
    expect(await done).toBe(EXIT.OK);
    expect(h.events).toEqual(['started', 'waiting', 'stopped']);
    expect(h.logs.map((l) => [l.msg, l.signal])).toEqual([
      ['stopping', 'SIGTERM'],
      ['stopped', undefined],
    ]);
  });

  it('exits 2 with the message and the usage on stderr for a usage error, without starting', async () => {
    const h = harness();
    expect(await h.run(['--bogus'])).toBe(EXIT.USAGE);
    expect(h.err.join('')).toMatch(/^vigil demo: Unknown option '--bogus'.*\n\nUsage: vigil demo \[options\]/s);
    expect(h.events).toEqual([]);
  });

  it('prints the usage on stdout and exits 0 for --help', async () => {
    const h = harness();
    expect(await h.run(['--help'])).toBe(EXIT.OK);
    expect(h.out.join('')).toBe(`${command.usage}\n`);
    expect(h.events).toEqual([]);
  });

  it('exits 1 and logs the error when the start fails', async () => {
    const h = harness({ start: () => Promise.reject(new Error('API server unreachable')) });
    expect(await h.run([])).toBe(EXIT.FAILED);
    expect(h.logs).toEqual([expect.objectContaining({ level: 'error', msg: 'could not start', error: expect.objectContaining({ message: 'API server unreachable' }) })]);
  });

  it('exits 1 when stopping fails', async () => {
    const h = harness({ start: async () => ({ stop: () => Promise.reject(new Error('lease not released')) }) });
    const done = h.run([]);
    await new Promise((r) => setImmediate(r));
    h.signal('SIGINT');
    expect(await done).toBe(EXIT.FAILED);
    expect(h.logs.map((l) => l.msg)).toEqual(['stopping', 'could not stop cleanly']);
  });
});

describe('podIdentity', () => {
  it('is the pod name, else host and pid', () => {
    expect(podIdentity({ POD_NAME: 'vigil-operator-abc' })).toBe('vigil-operator-abc');
    expect(podIdentity({})).toMatch(new RegExp(`-${process.pid}$`));
  });
});
