// The labels of SCRAPE_ERROR_INFO_METRIC (render/names.ts) for one service: Prometheus's scrape
// errors as TargetsHealthy knows them, made short enough for a label and an email line.
import type { TargetCounts } from './conditions.js';
import { maskLocalAddress } from './targets.js';

/** Distinct errors in the label (the most common first, as TargetsHealthy's message lists them). */
export const ERRORS_IN_LABEL = 3;
/** Longest error label in characters (code points): a few Go errors with a URL each. */
export const MAX_ERROR_LABEL_CHARS = 500;

/**
 * `{ reason, error }` of a service with at least one failing target, else undefined. reason: the
 * class of the most common error (TargetsHealthy's reasons, e.g. TLSError); error: its distinct
 * lastErrors joined by "; ", the local end of a connection masked (maskLocalAddress: its ephemeral
 * port would make a new series every poll), whitespace runs made one space, cut at MAX_ERROR_LABEL_CHARS with "…".
 * The text is kept as Prometheus wrote it, `{{` included: the alert template prints it as data.
 */
export function scrapeErrorLabels(counts: TargetCounts | undefined): { reason: string; error: string } | undefined {
  const failures = counts?.failures;
  if (!failures || failures.length === 0) return undefined;
  const errors = [...new Set(failures.slice(0, ERRORS_IN_LABEL).map((f) => maskLocalAddress(f.error).replace(/\s+/g, ' ').trim()))];
  return { reason: failures[0]!.reason, error: truncateCodePoints(errors.join('; '), MAX_ERROR_LABEL_CHARS) };
}

/** At most `max` code points (a surrogate pair is never split), the last one "…" when cut. */
function truncateCodePoints(text: string, max: number): string {
  const points = Array.from(text);
  return points.length <= max ? text : `${points.slice(0, max - 1).join('')}…`;
}
