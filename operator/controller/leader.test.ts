import { describe, expect, it } from '@jest/globals';
import { canTakeOver } from './leader.js';

describe('canTakeOver', () => {
  const D = 15_000;
  it('takes a released or own lease at once', () => {
    expect(canTakeOver({ holderIdentity: '' }, 1000, 1000, D, 'me')).toBe(true);
    expect(canTakeOver({ holderIdentity: undefined }, 1000, 1000, D, 'me')).toBe(true);
    expect(canTakeOver({ holderIdentity: 'me' }, 1000, 1000, D, 'me')).toBe(true);
  });
  it("takes another holder's lease only after it stayed unchanged for the lease duration on our clock", () => {
    expect(canTakeOver({ holderIdentity: 'other' }, 1000, 1000 + D - 1, D, 'me')).toBe(false);
    expect(canTakeOver({ holderIdentity: 'other' }, 1000, 1000 + D, D, 'me')).toBe(true);
  });
});
