import { describe, expect, it } from '@jest/globals';
import { forEachLimited } from './limited.js';

/** A call that finishes when the test says so, to observe how many are in flight. */
function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('forEachLimited', () => {
  it('never has more than `limit` calls in flight and calls every item once, in order', async () => {
    const started: number[] = [];
    const gates = Array.from({ length: 10 }, gate);
    let inFlight = 0;
    let maxInFlight = 0;
    const run = forEachLimited([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3, async (i) => {
      started.push(i);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await gates[i]!.promise;
      inFlight--;
    });
    await tick();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) {
      g.open();
      await tick();
    }
    expect(await run).toEqual({ errors: [], skipped: 0 });
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(maxInFlight).toBe(3);
  });

  it('collects failures and goes on with the other items', async () => {
    const done: number[] = [];
    const outcome = await forEachLimited([1, 2, 3, 4], 2, async (i) => {
      if (i % 2 === 0) throw new Error(`item ${i}`);
      done.push(i);
    });
    expect(done).toEqual([1, 3]);
    expect(outcome.skipped).toBe(0);
    expect(outcome.errors.map((e) => (e as Error).message)).toEqual(['item 2', 'item 4']);
  });

  it('starts no further item once stopWhen says so, lets those in flight finish, and counts the rest as skipped', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    let superseded = false;
    const gates = Array.from({ length: 6 }, gate);
    const run = forEachLimited(
      [0, 1, 2, 3, 4, 5],
      2,
      async (i) => {
        started.push(i);
        await gates[i]!.promise;
        finished.push(i);
      },
      () => superseded,
    );
    await tick();
    gates[0]!.open();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    superseded = true;
    gates[1]!.open();
    gates[2]!.open();
    expect(await run).toEqual({ errors: [], skipped: 3 });
    expect(started).toEqual([0, 1, 2]);
    expect(finished).toEqual([0, 1, 2]);
  });

  it('does nothing for no items', async () => {
    let calls = 0;
    expect(await forEachLimited([], 4, async () => void calls++)).toEqual({ errors: [], skipped: 0 });
    expect(calls).toBe(0);
  });
});
