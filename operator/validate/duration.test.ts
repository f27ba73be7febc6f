import { formatDurationMs, parseDurationMs } from './duration.js';

describe('parseDurationMs (Prometheus durations)', () => {
  it.each([
    ['0', 0],
    ['0s', 0],
    ['250ms', 250],
    ['15s', 15000],
    ['1m30s', 90000],
    ['2h', 7200000],
    ['1d12h', 129600000],
    ['1w', 604800000],
    ['1y', 31536000000],
    // Up to 2^63-1 ns, as `promtool check rules` accepts (a rule's for: 292y24w3d23h47m16s854ms passes, 855ms does not).
    ['290y', 9145440000000],
    ['292y24w3d23h47m16s854ms', 9223372036854],
    ['9223372036854ms', 9223372036854],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });
  it.each(['', '1', '1s1m', '5 m', '-1s', '1.5s', '1M', '1h1h', '99999999999999999y', '292y24w3d23h47m16s855ms', '9223372036855ms', '293y'])('rejects %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });
  it('formats milliseconds back', () => {
    expect(formatDurationMs(90000)).toBe('1m30s');
    expect(formatDurationMs(0)).toBe('0s');
    expect(formatDurationMs(86400000 + 250)).toBe('1d250ms');
  });
});
