// Email recipients end up in Alertmanager's `to:` field, which becomes a mail header and is also
// expanded as a template: only plain local@domain addresses are accepted.
import { EMAIL_PATTERN } from '../api/schema.js';
import { parseMailAddress } from '../promql/wasm.js';

const EMAIL_RE = new RegExp(EMAIL_PATTERN);

/** Undefined when the address is acceptable, else what is wrong with it. */
export function emailAddressProblem(address: unknown): string | undefined {
  if (typeof address !== 'string') return 'must be an email address such as team@example.com';
  if (/[\r\n]/.test(address)) return 'contains a line break, which could inject mail headers; give one plain address such as team@example.com';
  if (/[\x00-\x1f\x7f]/.test(address)) return 'contains a control character; give one plain address such as team@example.com';
  if (/[<>]/.test(address)) return 'must be a bare address without a display name or angle brackets, e.g. team@example.com';
  if (/[,;]/.test(address)) return 'must be a single address; list several recipients as separate entries of to';
  if (/\s/.test(address)) return 'must not contain spaces; give one plain address such as team@example.com';
  if (/[{}]/.test(address)) return 'must not contain { or } (Alertmanager would read them as a template)';
  if (address.length > 254) return 'must be at most 254 characters long';
  const at = address.lastIndexOf('@');
  if (at < 0 || address.indexOf('@') !== at) return 'must contain exactly one @, as in team@example.com';
  const local = address.slice(0, at);
  if (local.length === 0) return 'is missing the part before @, as in team@example.com';
  if (local.length > 64) return 'the part before @ must be at most 64 characters long';
  if (at === address.length - 1) return 'is missing the domain after @, as in team@example.com';
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return "Alertmanager's address parser (Go net/mail) refuses it, and then no one on the list gets the email: the part before @ must not start or end with a dot or have two dots in a row";
  }
  if (!EMAIL_RE.test(address)) {
    return 'must be a plain email address such as team@example.com: letters, digits and . _ % + - before the @, a domain name after it';
  }
  return undefined;
}

/**
 * Undefined when Go's net/mail (the parser Alertmanager runs on the joined `to` list and on `from`)
 * reads `address` as exactly this one bare address, else why not. Meant for addresses the plain
 * pattern (EMAIL_PATTERN) accepted: it is the authority the pattern approximates.
 */
export function mailParserProblem(address: string): string | undefined {
  const parsed = parseMailAddress(address);
  const consequence = 'one malformed recipient makes Alertmanager fail the whole list, so no one gets the email';
  if (!parsed.ok) return `Alertmanager's address parser (Go net/mail) refuses it (${parsed.error}); ${consequence}; give one plain address such as team@example.com`;
  if (parsed.name !== '' || parsed.address !== address) {
    return `Alertmanager's address parser (Go net/mail) reads it as ${JSON.stringify(parsed.address)}; give one plain address such as team@example.com`;
  }
  return undefined;
}
