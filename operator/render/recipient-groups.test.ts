import { MAX_HEADER_LINE, recipientGroups } from './alertmanager.js';

const address = (i: number, length: number) => {
  const domain = '@example.com';
  const local = `r${i}-`.padEnd(length - domain.length, 'x');
  return local + domain;
};

describe('recipientGroups', () => {
  it.each([
    ['1 short address', [address(1, 20)]],
    ['100 addresses of 60 characters (the schema allows 100)', Array.from({ length: 100 }, (_, i) => address(i, 60))],
    ['100 addresses of 254 characters (the longest the schema admits)', Array.from({ length: 100 }, (_, i) => address(i, 254))],
    ['16 addresses of 62 characters (just past 998 in one line)', Array.from({ length: 16 }, (_, i) => address(i, 62))],
  ])('%s: every To line within 998 characters, every recipient exactly once, order kept', (_what, to) => {
    const groups = recipientGroups(to);
    for (const group of groups) expect(`To: ${group.join(', ')}`.length).toBeLessThanOrEqual(MAX_HEADER_LINE);
    expect(groups.flat()).toEqual(to);
  });

  it('fills a line up to exactly 998 characters and no further', () => {
    // "To: " + 10 x 97 + 9 x ", " = 4 + 970 + 18 = 992; an 11th of 97 would need 1091.
    const to = Array.from({ length: 11 }, (_, i) => address(i, 97));
    expect(recipientGroups(to).map((g) => g.length)).toEqual([10, 1]);
    const exact = [...Array.from({ length: 10 }, (_, i) => address(i, 97)), 'a@bc'];
    // 992 + ", " + 4 = 998: still one line; one more character would not be.
    expect(recipientGroups(exact).map((g) => g.length)).toEqual([11]);
    expect(recipientGroups([...exact.slice(0, 10), 'ab@cd']).map((g) => g.length)).toEqual([10, 1]);
  });
});
