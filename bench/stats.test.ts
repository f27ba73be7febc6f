import { percentile, summary } from './stats.js';

// Nearest rank: the ceil(p/100 * n)-th smallest sample (1-based).
test('percentile by nearest rank returns a measured sample', () => {
  const ten = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
  expect(percentile(ten, 50)).toBe(5); // rank 5
  expect(percentile(ten, 95)).toBe(10); // rank ceil(9.5) = 10
  expect(percentile(ten, 10)).toBe(1);
  expect(percentile(ten, 11)).toBe(2); // rank ceil(1.1) = 2
  const thirty = Array.from({ length: 30 }, (_, i) => i + 1);
  expect(percentile(thirty, 50)).toBe(15);
  expect(percentile(thirty, 95)).toBe(29); // rank ceil(28.5) = 29
  expect(percentile([4.2], 95)).toBe(4.2);
});

test('percentile refuses an empty sample and p outside (0, 100]', () => {
  expect(() => percentile([], 50)).toThrow('empty sample');
  expect(() => percentile([1], 0)).toThrow('(0, 100]');
  expect(() => percentile([1], 101)).toThrow('(0, 100]');
});

test('summary gives n, min, p50, p95, max', () => {
  expect(summary([3, 1, 2])).toEqual({ n: 3, min: 1, p50: 2, p95: 3, max: 3 });
});
