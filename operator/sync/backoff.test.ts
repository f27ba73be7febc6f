import { retryDelayMs } from './backoff.js';

describe('retryDelayMs', () => {
  it('doubles from 1 s and caps at 60 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelayMs(n))).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
    expect(retryDelayMs(1000)).toBe(60000);
    expect(retryDelayMs(0)).toBe(0);
  });
});
