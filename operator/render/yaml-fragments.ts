// Big YAML documents assembled from per-service pieces, byte-identical to stringifying the whole.
//
// prometheus.yml and alertmanager.yml hold one list item per MonitoredService. Stringifying the
// whole document with `yaml` builds a node tree of every item and the text of every level: for
// 2,000 services that is about a second of CPU and 100-200 MB of short-lived garbage, on every
// reconcile, although typically one service changed. So each service's items are stringified on
// their own (the operator keeps them per object and generation: assemble/service-cache.ts), the
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

/** The text of list items (stringifyItems), or texts whose concatenation is that: one per service. */
export type Fragment = string | readonly string[];

function textsOf(fragment: Fragment): readonly string[] {
  return typeof fragment === 'string' ? [fragment] : fragment;
}

/**
 * `skeleton` (a stringified document holding one placeholder(i) item for each non-empty
 * `fragments[i]`) with every placeholder item replaced by its fragment. Undefined when the
 * placeholders are not found exactly so, at a nesting the fragments can take (the caller then
 * stringifies the whole document instead).
 */
export function splice(skeleton: string, fragments: readonly Fragment[]): string | undefined {
  const seen = fragments.map((f) => textsOf(f).every((t) => t === ''));
  // The output is joined once from the skeleton's slices and the services' texts: the texts of
  // 10,000 services are megabytes, and joining them first, then replacing, copied them twice on
  // every reconcile (issue #13).
  const out: string[] = [];
  let from = 0;
  for (const match of skeleton.matchAll(PLACEHOLDER_LINE)) {
    const [line, indent = '', index = ''] = match;
    const i = Number(index);
    const fragment = fragments[i];
    if (fragment === undefined || seen[i] || indent.length < 2) return undefined;
    seen[i] = true;
    out.push(skeleton.slice(from, match.index));
    const texts = textsOf(fragment);
    const extra = ' '.repeat(indent.length - 2);
    if (extra === '') pushWithoutFinalNewline(out, texts);
    else out.push(withoutFinalNewline(texts.join('')).replace(/^(?=.)/gm, extra));
    from = match.index + line.length;
  }
  if (!seen.every(Boolean)) return undefined;
  out.push(skeleton.slice(from));
  return out.join('');
}

/** The placeholder line keeps its own newline: a fragment's final one goes. */
function withoutFinalNewline(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** Pushes `texts` onto `out`, the last non-empty one without its final newline. */
function pushWithoutFinalNewline(out: string[], texts: readonly string[]): void {
  let last = texts.length - 1;
  while (last >= 0 && texts[last] === '') last--;
  for (let i = 0; i < last; i++) out.push(texts[i]!);
  if (last >= 0) out.push(withoutFinalNewline(texts[last]!));
}

/**
 * splice(skeleton, fragments), or an Error naming `file`. The skeleton depends only on the
 * settings, so a failure is a renderer bug the golden and fragment tests catch, not an input case.
 */
export function splicedOrThrow(skeleton: string, fragments: readonly Fragment[], file: string): string {
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
