// Big YAML documents assembled from per-service pieces, byte-identical to stringifying the whole.
//
// prometheus.yml and alertmanager.yml hold one list item per MonitoredService. Stringifying the
// whole document with `yaml` builds a node tree of every item and the text of every level: for
// 2,000 services that is about a second of CPU and 100-200 MB of short-lived garbage, on every
// reconcile, although typically one service changed. So each service's items are stringified on
// their own (and memoised, see ServiceRenderMemo below), the document is stringified with one
// placeholder item per service, and the placeholders are replaced by the items' text.
//
// Why the text is the same: in block style, `yaml` (lineWidth 0: no folding) writes a list item the
// same way at any depth except for the indentation of each line, and its only depth-dependent
// choices are at the root (indent "") and at the first level (indent == indentStep). The items are
// therefore stringified one level deeper than the root, under a dummy key, exactly as a list under
// a top-level key, then re-indented to the placeholder's depth. Blank lines (inside block scalars)
// carry no indentation in either form. Whenever the placeholders are not found as expected the
// caller falls back to stringifying the whole document (see splice's undefined result).
import { stringify, type CreateNodeOptions, type DocumentOptions, type SchemaOptions, type ToStringOptions } from 'yaml';

/** Same options for every piece as for a whole document (YAML_OPTIONS). */
export type StringifyOptions = DocumentOptions & SchemaOptions & CreateNodeOptions & ToStringOptions;

const FRAGMENT_KEY = 'fragment';
const PLACEHOLDER_PREFIX = '__vigil_render_fragment_';
const PLACEHOLDER_LINE = new RegExp(`^( *)- ${PLACEHOLDER_PREFIX}(\\d+)__$`, 'gm');

/**
 * The text of `items` as the items of a block sequence, indented for a sequence under a top-level
 * key ("  - ..."); empty string for no items. Feed it to splice().
 */
export function stringifyItems(items: readonly unknown[], options: StringifyOptions): string {
  if (items.length === 0) return '';
  const text = stringify({ [FRAGMENT_KEY]: items }, options);
  const header = `${FRAGMENT_KEY}:\n`;
  if (!text.startsWith(header)) throw new Error(`unexpected YAML for a list fragment: ${text.slice(0, 40)}`);
  return text.slice(header.length);
}

/** A placeholder list item standing for fragment `index` (splice replaces it). */
export function placeholder(index: number): string {
  return `${PLACEHOLDER_PREFIX}${index}__`;
}

/**
 * `skeleton` (a stringified document holding one placeholder(i) item for each non-empty
 * `fragments[i]`) with every placeholder item replaced by its fragment. Undefined when the
 * placeholders are not found exactly so, at a nesting the fragments can take (the caller then
 * stringifies the whole document instead).
 */
export function splice(skeleton: string, fragments: readonly string[]): string | undefined {
  const seen = fragments.map((f) => f === '');
  let ok = true;
  const out = skeleton.replace(PLACEHOLDER_LINE, (line, indent: string, index: string) => {
    const i = Number(index);
    const fragment = fragments[i];
    if (fragment === undefined || seen[i] || indent.length < 2) {
      ok = false;
      return line;
    }
    seen[i] = true;
    // Drop the fragment's final newline: the placeholder line keeps its own.
    const body = fragment.endsWith('\n') ? fragment.slice(0, -1) : fragment;
    const extra = ' '.repeat(indent.length - 2);
    return extra === '' ? body : body.replace(/^(?=.)/gm, extra);
  });
  return ok && seen.every(Boolean) ? out : undefined;
}

/** How often splicedOr fell back to the whole document (tests assert it stays 0). */
export const fragmentStats = { wholeDocumentFallbacks: 0 };

/** splice(skeleton, fragments), or whole() when that is not possible. */
export function splicedOr(skeleton: string, fragments: readonly string[], whole: () => string): string {
  const spliced = splice(skeleton, fragments);
  if (spliced !== undefined) return spliced;
  fragmentStats.wholeDocumentFallbacks += 1;
  return whole();
}

/** Placeholders for the non-empty fragments, in order (what the skeleton's list holds). */
export function placeholdersFor(fragments: readonly string[]): string[] {
  const out: string[] = [];
  fragments.forEach((f, i) => {
    if (f !== '') out.push(placeholder(i));
  });
  return out;
}

/**
 * Rendered pieces of each service (its rule file, scrape jobs, Alertmanager route and receiver),
 * so that an unchanged service is not rendered again on every reconcile. Content-addressed: the
 * key is the service's JSON and the value is valid for one settings fingerprint (all settings, so
 * no renderer can come to depend on a setting the memo does not see), hence a hit returns exactly
 * what a fresh rendering would, whatever object the service arrives in.
 *
 * Memory follows the set of services being rendered: two generations of entries, the current one
 * holding at most `capacity` services (the largest rendering seen plus some spare); when it is full
 * it becomes the previous one and what was not used since the last switch is dropped. An entry in
 * use moves back to the current generation.
 */
export class ServiceRenderMemo {
  private fingerprint: string | undefined;
  private current = new Map<string, Map<string, string>>();
  private previous = new Map<string, Map<string, string>>();
  private largestRendering = 0;

  /** A whole-config rendering of `services` services is about to use the memo. */
  noteRendering(services: number): void {
    this.largestRendering = Math.max(this.largestRendering, services);
  }

  /**
   * `part` of `service` rendered with the settings of `fingerprint` (settingsFingerprint): the
   * memoised text, else render()'s (a throw is not memoised).
   */
  get(part: string, service: object, fingerprint: string, render: () => string): string {
    if (fingerprint !== this.fingerprint) {
      this.current = new Map();
      this.previous = new Map();
      this.fingerprint = fingerprint;
    }
    const key = JSON.stringify(service);
    let parts = this.current.get(key);
    if (!parts) {
      parts = this.previous.get(key);
      if (parts) this.previous.delete(key);
      else parts = new Map();
      if (this.current.size >= this.largestRendering + SPARE_ENTRIES) {
        this.previous = this.current;
        this.current = new Map();
      }
      this.current.set(key, parts);
    }
    let text = parts.get(part);
    if (text === undefined) {
      text = render();
      parts.set(part, text);
    }
    return text;
  }

  /** Number of services held (tests). */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}

/** Room for new and changed services beyond the largest rendering before a generation switch. */
const SPARE_ENTRIES = 1000;

/** Computed once per rendering, not once per service. */
export function settingsFingerprint(settings: object): string {
  return JSON.stringify(settings);
}

/** The one memo of this process's renderers (rendering is pure: sharing it is safe). */
export const SERVICE_RENDER_MEMO = new ServiceRenderMemo();

/**
 * The memo for a rendering of `services` services, or undefined for a single service: the operator
 * renders each new service alone once while validating it (with default settings), and letting
 * those renderings switch the memo's settings would throw away the whole config's pieces each time.
 */
export function memoFor(services: number): ServiceRenderMemo | undefined {
  if (services < 2) return undefined;
  SERVICE_RENDER_MEMO.noteRendering(services);
  return SERVICE_RENDER_MEMO;
}

/** memo.get(...) when there is a memo, else render(). */
export function memoised(memo: ServiceRenderMemo | undefined, part: string, service: object, fingerprint: string, render: () => string): string {
  return memo ? memo.get(part, service, fingerprint, render) : render();
}

