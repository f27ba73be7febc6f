// Retry timing for failed reloads: exponential from 1 s, capped so a broken config is retried
// about once a minute (the server might have been fixed, e.g. a missing file mounted later).

export const RETRY_BASE_MS = 1000;
export const RETRY_CAP_MS = 60_000;

/** Delay before retry number `failures` (1 = after the first failure). */
export function retryDelayMs(failures: number, baseMs = RETRY_BASE_MS, capMs = RETRY_CAP_MS): number {
  if (failures < 1) return 0;
  const exponent = Math.min(failures - 1, 30);
  return Math.min(capMs, baseMs * 2 ** exponent);
}
