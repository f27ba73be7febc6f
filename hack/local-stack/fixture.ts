// The one jest fixture for test files that run on the whole local stack (issue #12): starts it before
// the file's tests and stops it after them, the same way for every file.
// - needs root (Prometheus runs in a private mount namespace with its own /etc/hosts);
// - a fresh state dir vigil-<name>-* in the temp dir, removed afterwards unless VIGIL_KEEP_STACK=1;
// - every port free and chosen just before its server starts (ANY_FREE_PORTS: parallel runs do not collide);
// - progress lines `[<name>] ...` with VIGIL_TEST_VERBOSE=1.
import { afterAll, beforeAll } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANY_FREE_PORTS, type Stack, type StackOptions, startStack } from './stack.js';

export interface StackFixtureOptions extends Omit<StackOptions, 'stateDir' | 'ports' | 'log'> {
  /** Names the state dir and the progress lines, e.g. 'faults'. */
  name: string;
  /** Runs in beforeAll once the stack is up (create namespaces, apply objects). */
  setup?: (stack: Stack) => Promise<void>;
}

/**
 * Registers beforeAll (start, 300 s) and afterAll (stop, 60 s) in the calling test file; returns a getter
 * that gives the running stack or throws "the stack did not start" (so a failed start does not show up
 * as a confusing error in each test).
 */
export function useStack(options: StackFixtureOptions): () => Stack {
  const { name, setup, ...stackOptions } = options;
  let stack: Stack | undefined;
  let stateDir: string | undefined;
  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error(`the ${name} tests need root: Prometheus runs in a private mount namespace with its own /etc/hosts`);
    stateDir = await mkdtemp(join(tmpdir(), `vigil-${name}-`));
    const log = process.env.VIGIL_TEST_VERBOSE === '1' ? (m: string) => console.log(`[${name}] ${m}`) : undefined;
    stack = await startStack({ ...stackOptions, stateDir, ports: ANY_FREE_PORTS, ...(log ? { log } : {}) });
    await setup?.(stack);
  }, 300_000);
  afterAll(async () => {
    try {
      await stack?.stop();
    } finally {
      if (stateDir && process.env.VIGIL_KEEP_STACK !== '1') await rm(stateDir, { recursive: true, force: true });
    }
  }, 60_000);
  return () => {
    if (!stack) throw new Error('the stack did not start (see beforeAll)');
    return stack;
  };
}
