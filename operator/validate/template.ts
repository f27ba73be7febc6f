// A syntax check for the Go text/template dialect Prometheus uses in alert annotations and labels.
// Prometheus parses every annotation and label template when it loads the rules, and one bad template
// makes the whole reload fail; this finds the same mistakes before the config is rendered:
// unclosed actions, unterminated strings, unbalanced if/range/with/define/block ... end,
// empty commands, unbalanced parentheses, undefined variables and unknown functions.
// It checks syntax only (like Go's template.Parse); it does not execute anything.

import { TEMPLATE_FUNCTION_NAMES } from './template-functions.js';

/** Variables Prometheus defines before expanding an alert template. */
const PROMETHEUS_VARIABLES = ['$labels', '$externalLabels', '$externalURL', '$value'];

/** Go's builtins plus the pinned Prometheus' functions: template-functions.ts is the one table. */
const TEMPLATE_FUNCTIONS = TEMPLATE_FUNCTION_NAMES;

const BLOCK_OPENERS = new Set(['if', 'range', 'with', 'define', 'block']);
const CONSTANT_WORDS = new Set(['true', 'false', 'nil']);

/** One token of an action; `at` is its offset in the whole template text. */
export type Token = { at: number } & (
  | { kind: 'word'; text: string } // identifier, keyword or constant word
  | { kind: 'field'; text: string } // .Foo.Bar or .
  | { kind: 'variable'; text: string } // $x or $x.Foo
  | { kind: 'string' | 'number' | 'char'; text: string }
  | { kind: 'declare' | 'assign' | 'pipe' | 'comma' | 'lparen' | 'rparen'; text: string }
);

/** One {{ action }} of a template: its tokens (none for a comment) and the text before it. */
export interface TemplateAction {
  /** Offsets of "{{" and just after "}}" in the template text. */
  start: number;
  end: number;
  tokens: Token[];
  comment: boolean;
}

/**
 * The actions of a template that passed checkGoTemplate, in order (shape: see TemplateAction).
 * Throws on a syntax error, so call it only after checkGoTemplate said ok.
 */
export function templateActions(text: string): TemplateAction[] {
  const actions: TemplateAction[] = [];
  let pos = 0;
  for (;;) {
    const open = text.indexOf('{{', pos);
    if (open < 0) return actions;
    const fail = (what: string): never => {
      throw new TemplateSyntaxError(what);
    };
    let bodyStart = open + 2;
    if (text[bodyStart] === '-' && /[ \t\r\n]/.test(text[bodyStart + 1] ?? '')) bodyStart += 2;
    const close = findActionEnd(text, bodyStart, fail);
    let bodyEnd = close;
    if (text[close - 1] === '-' && /[ \t\r\n]/.test(text[close - 2] ?? '')) bodyEnd = close - 2;
    pos = close + 2;
    const body = text.slice(bodyStart, bodyEnd);
    const comment = body.trim().startsWith('/*');
    actions.push({ start: open, end: pos, tokens: comment ? [] : tokenize(body, fail, bodyStart), comment });
  }
}

interface Scope {
  opener: string;
  variables: Set<string>;
  /** define/block bodies are separate templates: outer variables are not visible there. */
  isolated: boolean;
}

class TemplateSyntaxError extends Error {}

export function checkGoTemplate(text: string): { ok: true } | { ok: false; message: string } {
  try {
    checkTemplate(text);
    return { ok: true };
  } catch (err) {
    if (err instanceof TemplateSyntaxError) return { ok: false, message: err.message };
    return { ok: false, message: `template could not be checked: ${String(err)}` };
  }
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

function snippet(text: string, from: number): string {
  const s = text.slice(from, from + 40).replace(/\n/g, '\\n');
  return from + 40 < text.length ? `${s}...` : s;
}

function checkTemplate(text: string): void {
  const scopes: Scope[] = [{ opener: 'top', variables: new Set(['$', ...PROMETHEUS_VARIABLES]), isolated: false }];
  let pos = 0;
  for (;;) {
    const open = text.indexOf('{{', pos);
    if (open < 0) break;
    const where = lineColumn(text, open);
    const fail = (what: string): never => {
      throw new TemplateSyntaxError(`template error at ${where} in "${snippet(text, open)}": ${what}`);
    };
    let bodyStart = open + 2;
    // "{{- " trims the text before; the dash must be followed by a space.
    if (text[bodyStart] === '-' && /[ \t\r\n]/.test(text[bodyStart + 1] ?? '')) bodyStart += 2;
    const close = findActionEnd(text, bodyStart, fail);
    let bodyEnd = close;
    if (text[close - 1] === '-' && /[ \t\r\n]/.test(text[close - 2] ?? '')) bodyEnd = close - 2;
    pos = close + 2;
    const body = text.slice(bodyStart, bodyEnd);
    const trimmed = body.trim();
    if (trimmed.startsWith('/*')) {
      if (!trimmed.endsWith('*/') || trimmed.length < 4) fail('comment must end with */ right before }}');
      continue;
    }
    checkAction(tokenize(body, fail), scopes, fail);
  }
  const open = scopes[scopes.length - 1];
  if (scopes.length > 1 && open) {
    throw new TemplateSyntaxError(`template error: {{${open.opener}}} is never closed: add {{end}}`);
  }
}

/** Index of the "}}" closing the action whose body starts at `from`, skipping quoted strings and comments. */
function findActionEnd(text: string, from: number, fail: (what: string) => never): number {
  let i = from;
  while (i < text.length) {
    const c = text[i];
    if (c === '}' && text[i + 1] === '}') return i;
    if (c === '"' || c === "'") {
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\n') fail(`unterminated ${c === '"' ? 'quoted string' : 'character constant'}`);
        i += text[i] === '\\' ? 2 : 1;
      }
      if (i >= text.length) fail(`unterminated ${c === '"' ? 'quoted string' : 'character constant'}`);
    } else if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) fail('unterminated raw string');
      i = end;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) fail('unclosed comment');
      i = end + 1;
    }
    i++;
  }
  return fail('unclosed action: no matching }}');
}

function tokenize(body: string, fail: (what: string) => never, offset = 0): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i] ?? '';
    const rest = body.slice(i);
    let m: RegExpExecArray | null;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < body.length && body[j] !== c) j += c !== '`' && body[j] === '\\' ? 2 : 1;
      tokens.push({ kind: c === '"' || c === '`' ? 'string' : 'char', text: body.slice(i, j + 1), at: offset + i });
      i = j + 1;
    } else if (rest.startsWith(':=')) {
      tokens.push({ kind: 'declare', text: ':=', at: offset + i });
      i += 2;
    } else if (c === '=') {
      tokens.push({ kind: 'assign', text: '=', at: offset + i });
      i++;
    } else if (c === '|') {
      tokens.push({ kind: 'pipe', text: '|', at: offset + i });
      i++;
    } else if (c === ',') {
      tokens.push({ kind: 'comma', text: ',', at: offset + i });
      i++;
    } else if (c === '(') {
      tokens.push({ kind: 'lparen', text: '(', at: offset + i });
      i++;
    } else if (c === ')') {
      tokens.push({ kind: 'rparen', text: ')', at: offset + i });
      i++;
    } else if ((m = /^\$[A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*/.exec(rest))) {
      tokens.push({ kind: 'variable', text: m[0], at: offset + i });
      i += m[0].length;
    } else if ((m = /^(\.[A-Za-z_][A-Za-z0-9_]*)+/.exec(rest)) || (m = /^\.(?![0-9])/.exec(rest))) {
      tokens.push({ kind: 'field', text: m[0], at: offset + i });
      i += m[0].length;
    } else if ((m = /^[+-]?(0[xX][0-9a-fA-F_]+|[0-9][0-9_]*(\.[0-9_]*)?([eE][+-]?[0-9]+)?|\.[0-9]+([eE][+-]?[0-9]+)?)i?/.exec(rest))) {
      tokens.push({ kind: 'number', text: m[0], at: offset + i });
      i += m[0].length;
    } else if ((m = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(rest))) {
      tokens.push({ kind: 'word', text: m[0], at: offset + i });
      i += m[0].length;
    } else if (rest.startsWith('/*')) {
      fail('a comment must be the whole action: {{/* ... */}}');
    } else {
      fail(`unexpected "${c}" in action`);
    }
  }
  return tokens;
}

function variableName(token: Token): string {
  return token.text.split('.')[0] ?? token.text;
}

function isDefined(scopes: Scope[], name: string): boolean {
  for (let i = scopes.length - 1; i >= 0; i--) {
    const scope = scopes[i];
    if (!scope) continue;
    if (scope.variables.has(name)) return true;
    if (scope.isolated) return name === '$';
  }
  return false;
}

function checkAction(tokens: Token[], scopes: Scope[], fail: (what: string) => never): void {
  const first = tokens[0];
  if (!first) fail('empty action {{ }}: missing value for command');
  const keyword = first.kind === 'word' ? first.text : '';
  const current = (): Scope => scopes[scopes.length - 1] as Scope;

  if (keyword === 'end') {
    if (tokens.length > 1) fail('unexpected arguments after end');
    if (scopes.length === 1) fail('{{end}} without a matching if, range, with, define or block');
    scopes.pop();
    return;
  }
  if (keyword === 'else') {
    const opener = current().opener;
    if (!['if', 'range', 'with'].includes(opener)) fail('{{else}} outside of if, range or with');
    // {{else}} or {{else if ...}} / {{else with ...}}: a new branch with its own variables.
    const scope = scopes.pop() as Scope;
    scopes.push({ opener: scope.opener, variables: new Set(), isolated: false });
    const chained = tokens[1];
    if (tokens.length === 1) return;
    if (chained?.kind !== 'word' || !['if', 'with'].includes(chained.text)) fail('else may only be followed by if or with');
    checkPipeline(tokens.slice(2), scopes, fail, true);
    return;
  }
  if (keyword === 'define' || keyword === 'template' || keyword === 'block') {
    const name = tokens[1];
    if (!name || name.kind !== 'string') fail(`{{${keyword}}} needs a quoted template name`);
    if (keyword === 'define') {
      if (tokens.length > 2) fail('unexpected arguments after the define name');
      scopes.push({ opener: 'define', variables: new Set(['$']), isolated: true });
      return;
    }
    if (tokens.length > 2) checkPipeline(tokens.slice(2), scopes, fail, false);
    if (keyword === 'block') scopes.push({ opener: 'block', variables: new Set(['$']), isolated: true });
    return;
  }
  if (keyword === 'break' || keyword === 'continue') {
    if (tokens.length > 1) fail(`unexpected arguments after ${keyword}`);
    if (!scopes.some((s) => s.opener === 'range')) fail(`{{${keyword}}} outside {{range}}`);
    return;
  }
  if (BLOCK_OPENERS.has(keyword)) {
    scopes.push({ opener: keyword, variables: new Set(), isolated: false });
    checkPipeline(tokens.slice(1), scopes, fail, true);
    return;
  }
  checkPipeline(tokens, scopes, fail, true);
}

/** A pipeline, optionally starting with `$x :=` / `$x, $y :=` declarations or `$x =` assignments. */
function checkPipeline(tokens: Token[], scopes: Scope[], fail: (what: string) => never, allowDeclarations: boolean): void {
  if (tokens.length === 0) fail('missing pipeline');
  let start = 0;
  const declIndex = tokens.findIndex((t) => t.kind === 'declare' || t.kind === 'assign');
  if (declIndex >= 0) {
    const targets = tokens.slice(0, declIndex).filter((t) => t.kind !== 'comma');
    const op = tokens[declIndex] as Token;
    if (!allowDeclarations || targets.length === 0 || targets.length > 2 || targets.some((t) => t.kind !== 'variable' || t.text.includes('.'))) {
      fail(`"${op.text}" must follow one or two variables, as in {{ $x := .Value }}`);
    }
    for (const target of targets) {
      if (op.kind === 'assign' && !isDefined(scopes, target.text)) fail(`undefined variable "${target.text}"`);
    }
    start = declIndex + 1;
    checkCommands(tokens.slice(start), scopes, fail);
    if (op.kind === 'declare') for (const target of targets) (scopes[scopes.length - 1] as Scope).variables.add(target.text);
    return;
  }
  checkCommands(tokens, scopes, fail);
}

function checkCommands(tokens: Token[], scopes: Scope[], fail: (what: string) => never): void {
  if (tokens.length === 0) fail('missing value for command');
  let depth = 0;
  let commandLength = 0;
  for (const token of tokens) {
    switch (token.kind) {
      case 'lparen':
        depth++;
        commandLength = 0;
        break;
      case 'rparen':
        if (depth === 0) fail('unexpected right parenthesis');
        if (commandLength === 0) fail('missing value for command');
        depth--;
        commandLength = 1;
        break;
      case 'pipe':
        if (commandLength === 0) fail('missing value for command before |');
        commandLength = 0;
        break;
      case 'declare':
      case 'assign':
      case 'comma':
        fail(`unexpected "${token.text}" in command`);
        break;
      case 'variable':
        if (!isDefined(scopes, variableName(token))) fail(`undefined variable "${variableName(token)}"`);
        commandLength++;
        break;
      case 'word': {
        const head = token.text.split('.')[0] ?? '';
        if (BLOCK_OPENERS.has(head) || ['else', 'end', 'template', 'break', 'continue'].includes(head)) {
          fail(`unexpected keyword "${head}" inside a command`);
        }
        if (!CONSTANT_WORDS.has(head) && !TEMPLATE_FUNCTIONS.has(head)) fail(`function "${head}" not defined`);
        commandLength++;
        break;
      }
      default:
        commandLength++;
    }
  }
  if (depth > 0) fail('unclosed left parenthesis');
  if (commandLength === 0) fail('missing value for command after |');
}
