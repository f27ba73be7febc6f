import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { CoalescingQueue, exponentialBackoff } from './queue.js';

describe('CoalescingQueue', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('runs once for a burst that settles within the debounce window', async () => {
    let runs = 0;
    const q = new CoalescingQueue({ debounceMs: 250, maxDelayMs: 2000, run: async () => void runs++ });
    for (let i = 0; i < 1000; i++) q.add();
    expect(q.depth).toBe(1000);
    await jest.advanceTimersByTimeAsync(249);
    expect(runs).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toBe(1);
    expect(q.depth).toBe(0);
    await jest.advanceTimersByTimeAsync(5000);
    expect(runs).toBe(1);
  });

  it('still runs within maxDelay while changes keep arriving', async () => {
    let runs = 0;
    const q = new CoalescingQueue({ debounceMs: 250, maxDelayMs: 2000, run: async () => void runs++ });
    // A change every 100 ms for 5 s: the debounce alone would never fire.
    for (let t = 0; t < 5000; t += 100) {
      q.add();
      await jest.advanceTimersByTimeAsync(100);
    }
    await jest.advanceTimersByTimeAsync(2500);
    // ~ one run per 2 s of continuous changes plus the final one: a handful, not 50.
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(runs).toBeLessThanOrEqual(4);
  });

  it('runs one at a time and covers changes made during a run with exactly one more run', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const q = new CoalescingQueue({
      debounceMs: 10,
      maxDelayMs: 100,
      run: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs++;
        await new Promise((r) => setTimeout(r, 500));
        active--;
      },
    });
    q.add();
    await jest.advanceTimersByTimeAsync(20); // first run in progress
    expect(runs).toBe(1);
    for (let i = 0; i < 50; i++) q.add();
    await jest.advanceTimersByTimeAsync(2000);
    expect(runs).toBe(2);
    expect(maxActive).toBe(1);
  });

  it('retries a failed run with backoff even without new changes', async () => {
    const attempts: number[] = [];
    let calls = 0;
    const q = new CoalescingQueue({
      debounceMs: 10,
      maxDelayMs: 100,
      retryDelayMs: exponentialBackoff(100, 1000),
      run: async () => {
        calls++;
        if (calls < 3) throw new Error('API down');
      },
      onError: (_e, attempt) => attempts.push(attempt),
    });
    q.add();
    await jest.advanceTimersByTimeAsync(10);
    expect(calls).toBe(1);
    await jest.advanceTimersByTimeAsync(100);
    expect(calls).toBe(2);
    await jest.advanceTimersByTimeAsync(199);
    expect(calls).toBe(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls).toBe(3);
    await jest.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(3);
    expect(attempts).toEqual([1, 2]);
  });

  it('shutdown waits for the in-flight run and schedules nothing after it', async () => {
    let finished = false;
    let runs = 0;
    const q = new CoalescingQueue({
      debounceMs: 10,
      maxDelayMs: 100,
      run: async () => {
        runs++;
        await new Promise((r) => setTimeout(r, 300));
        finished = true;
      },
    });
    q.add();
    await jest.advanceTimersByTimeAsync(20);
    q.add();
    const done = q.shutdown();
    await jest.advanceTimersByTimeAsync(300);
    await done;
    expect(finished).toBe(true);
    q.add();
    await jest.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(1);
  });

  it('reports depth to onDepth', async () => {
    const depths: number[] = [];
    const q = new CoalescingQueue({ debounceMs: 10, maxDelayMs: 100, run: async () => {}, onDepth: (d) => depths.push(d) });
    q.add();
    q.add();
    await jest.advanceTimersByTimeAsync(10);
    expect(depths).toEqual([1, 2, 0]);
  });
});

describe('exponentialBackoff', () => {
  it('doubles up to the cap', () => {
    const b = exponentialBackoff(500, 4000);
    expect([1, 2, 3, 4, 5, 10].map(b)).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
  });
});
