// The one jest fixture for test files that run on the whole local stack (issue #12): starts it before
// the file's tests and stops it after them, the same way for every file.
// - needs root (Prometheus runs in a private mount namespace with its own /etc/hosts);
// - a fresh state dir vigil-<name>-* in the temp dir, removed afterwards unless VIGIL_KEEP_STACK=1;
// - every port free and chosen just before its server starts (ANY_FREE_PORTS: parallel runs do not collide);
// - progress lines `[<name>] ...` with VIGIL_TEST_VERBOSE=1.
// A file whose tests mostly wait (alert timings, observation windows) can use several stacks at once
// (useStacks) and let jest run its tests together (test.concurrent), the tests of one stack taking
// turns (takeTurns): the file then takes about as long as its slowest stack's tests.
import { afterAll, beforeAll } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANY_FREE_PORTS, type Stack, type StackOptions, startStack } from './stack.js';

type FixtureStackOptions = Omit<StackOptions, 'stateDir' | 'ports' | 'log'>;

export interface StackFixtureOptions extends FixtureStackOptions {
  /** Names the state dir and the progress lines, e.g. 'faults'. */
  name: string;
  /**
   * Runs in beforeAll before the stack starts; what it returns replaces those stack options (e.g.
   * settings naming ports picked just now for servers that setup starts).
   */
  prepare?: () => Promise<Partial<FixtureStackOptions>>;
  /** Runs in beforeAll once the stack is up (create namespaces, apply objects, start more servers). */
  setup?: (stack: Stack) => Promise<void>;
  /** Runs in afterAll before the stack stops, also after a failed setup (stop what setup started). */
  teardown?: (stack: Stack) => Promise<void>;
  /** beforeAll's timeout (start and setup); default 300 s. */
  startTimeoutMs?: number;
  /** afterAll's timeout (teardown and stop); default 60 s. */
  stopTimeoutMs?: number;
}

/**
 * Registers one beforeAll that starts every stack of `options` at the same time (then runs each
 * one's setup) and one afterAll that runs each one's teardown and stops it. Returns, per key, a
 * getter that gives that running stack or throws "the stack did not start" (so a failed start does
 * not show up as a confusing error in each test).
 * If one stack fails to start, beforeAll fails with its error and afterAll still stops the others.
 */
export function useStacks<K extends string>(options: Record<K, StackFixtureOptions>): Record<K, () => Stack> {
  const entries = Object.entries(options) as [K, StackFixtureOptions][];
  const running = new Map<K, Stack>();
  const stateDirs: string[] = [];
  beforeAll(
    async () => {
      if (process.getuid?.() !== 0) {
        throw new Error(`the ${entries.map(([, o]) => o.name).join(', ')} tests need root: Prometheus runs in a private mount namespace with its own /etc/hosts`);
      }
      const results = await Promise.allSettled(
        entries.map(async ([key, { name, prepare, setup, teardown, startTimeoutMs, stopTimeoutMs, ...stackOptions }]) => {
          const stateDir = await mkdtemp(join(tmpdir(), `vigil-${name}-`));
          stateDirs.push(stateDir);
          const log = process.env.VIGIL_TEST_VERBOSE === '1' ? (m: string) => console.log(`[${name}] ${m}`) : undefined;
          const stack = await startStack({ ...stackOptions, ...(await prepare?.()), stateDir, ports: ANY_FREE_PORTS, ...(log ? { log } : {}) });
          running.set(key, stack);
          await setup?.(stack);
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    Math.max(...entries.map(([, o]) => o.startTimeoutMs ?? 300_000)),
  );
  afterAll(
    async () => {
      try {
        await Promise.all(
          [...running].map(async ([key, stack]) => {
            try {
              await options[key].teardown?.(stack);
            } finally {
              await stack.stop();
            }
          }),
        );
      } finally {
        if (process.env.VIGIL_KEEP_STACK !== '1') await Promise.all(stateDirs.map((d) => rm(d, { recursive: true, force: true })));
      }
    },
    Math.max(...entries.map(([, o]) => o.stopTimeoutMs ?? 60_000)),
  );
  return Object.fromEntries(
    entries.map(([key]) => [
      key,
      () => {
        const stack = running.get(key);
        if (!stack) throw new Error('the stack did not start (see beforeAll)');
        return stack;
      },
    ]),
  ) as Record<K, () => Stack>;
}

/** One stack for the calling test file (useStacks with one entry). */
export function useStack(options: StackFixtureOptions): () => Stack {
  return useStacks({ stack: options }).stack;
}

/**
 * Turns on one stack for tests that jest starts together (test.concurrent): `turn(body)` gives a test
 * function that runs `body` once every body passed earlier to the same `turn` has finished (passed
 * or failed), in the order of the calls. Different `takeTurns()` queues overlap. A test's jest timeout
 * runs from its start, so it has to cover the wait for its turn too.
 */
export function takeTurns(): (body: () => Promise<void>) => () => Promise<void> {
  // Jest calls each concurrent test once, in declaration order: each call queues behind the last one.
  let last: Promise<void> = Promise.resolve();
  return (body) => () => {
    const mine = last.then(body);
    last = mine.catch(() => undefined);
    return mine;
  };
}
