// Big YAML documents assembled from per-service pieces, byte-identical to stringifying the whole.
//
// prometheus.yml and alertmanager.yml hold one list item per MonitoredService. Stringifying the
// whole document with `yaml` builds a node tree of every item and the text of every level: for
// 2,000 services that is about a second of CPU and 100-200 MB of short-lived garbage, on every
// reconcile, although typically one service changed. So each service's items are stringified on
// their own (the operator keeps them per object and generation: controller/service-cache.ts), the
// document is stringified with one placeholder item per list, and each placeholder is replaced by
// the joined text of the items.
//
// Why the text is the same: in block style, `yaml` (lineWidth 0: no folding) writes a list item the
// same way at any depth except for the indentation of each line, and its only depth-dependent
// choices are at the root (indent "") and at the first level (indent == indentStep). The items are
// therefore stringified one level deeper than the root, under a dummy key, exactly as a list under
// a top-level key, then re-indented to the placeholder's depth. Blank lines (inside block scalars)
// carry no indentation in either form. Whenever the placeholders are not found as expected,
// splicedOrThrow throws (the skeleton depends on the settings only: tests cover it).
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
  // Concatenated, not String.replace: the fragments of 10,000 services are megabytes, and replace
  // copies them into a new string once more on every reconcile (issue #13).
  let out = '';
  let from = 0;
  for (const match of skeleton.matchAll(PLACEHOLDER_LINE)) {
    const [line, indent = '', index = ''] = match;
    const i = Number(index);
    const fragment = fragments[i];
    if (fragment === undefined || seen[i] || indent.length < 2) return undefined;
    seen[i] = true;
    // Drop the fragment's final newline: the placeholder line keeps its own.
    const body = fragment.endsWith('\n') ? fragment.slice(0, -1) : fragment;
    const extra = ' '.repeat(indent.length - 2);
    out += skeleton.slice(from, match.index) + (extra === '' ? body : body.replace(/^(?=.)/gm, extra));
    from = match.index + line.length;
  }
  return seen.every(Boolean) ? out + skeleton.slice(from) : undefined;
}

/**
 * splice(skeleton, fragments), or an Error naming `file`. The skeleton depends only on the
 * settings, so a failure is a renderer bug the golden and fragment tests catch, not an input case.
 */
export function splicedOrThrow(skeleton: string, fragments: readonly string[], file: string): string {
  const spliced = splice(skeleton, fragments);
  if (spliced === undefined) throw new Error(`${file}: the per-service pieces could not be placed into the document (renderer bug)`);
  return spliced;
}

/** Placeholders for the non-empty fragments, in order (what the skeleton's list holds). */
export function placeholdersFor(fragments: readonly string[]): string[] {
  const out: string[] = [];
  fragments.forEach((f, i) => {
    if (f !== '') out.push(placeholder(i));
  });
  return out;
}
