// Prometheus durations (model.ParseDuration): units y, w, d, h, m, s, ms in that order, each at most once.
// Prometheus counts a year as 365 days and a week as 7 days.

const UNIT_MS: Record<string, number> = {
  y: 365 * 24 * 3600 * 1000,
  w: 7 * 24 * 3600 * 1000,
  d: 24 * 3600 * 1000,
  h: 3600 * 1000,
  m: 60 * 1000,
  s: 1000,
  ms: 1,
};
const DURATION_RE = /^(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$/;

/**
 * The grammar as a pattern string (JSON Schema / CRD / values.schema.json; RE2-safe). It also matches
 * the empty string, which Prometheus refuses: check `text !== ''` too, or use isDuration.
 */
export const DURATION_PATTERN = '^([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$';
/** The units scrape_interval/scrape_timeout take in Vigil (CEL's duration() parses exactly these). */
export const SCRAPE_DURATION_PATTERN = '^([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$';

/** Whether text is a Prometheus duration by grammar ("0" included, "" not); range not checked (see parseDurationMs). */
export function isDuration(text: string): boolean {
  return text === '0' || (text !== '' && DURATION_RE.test(text));
}
const UNITS = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const;

/**
 * Longest duration Prometheus accepts, ms: it stores durations as int64 nanoseconds and refuses
 * more than 2^63-1 ns ("duration out of range", model.ParseDuration), so 292y24w3d23h47m16s854ms.
 * A safe integer in ms, so the sum below is exact up to it.
 */
export const MAX_DURATION_MS = 9_223_372_036_854;

/** Milliseconds of a Prometheus duration, or undefined when it is not one (or overflows). */
export function parseDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  if (text.length === 0 || text.length > 64) return undefined;
  const m = DURATION_RE.exec(text);
  if (!m) return undefined;
  let total = 0;
  UNITS.forEach((unit, i) => {
    const digits = m[i + 1];
    if (digits !== undefined) total += Number(digits) * (UNIT_MS[unit] ?? 0);
  });
  // Digits beyond 2^53 lose precision but stay far above the bound.
  if (!Number.isSafeInteger(total) || total > MAX_DURATION_MS) return undefined;
  return total;
}

/** Short human form for messages: 90000 -> "1m30s". */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of UNITS) {
    const size = UNIT_MS[unit] ?? 1;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
