// A dry run of an alert template, the way Prometheus expands it (text/template with
// missingkey=zero, the data of template.AlertTemplateData, the functions of template-functions.ts),
// on representative data: label values are unknown strings, $value is a float.
// It explores every branch of if/with/range once, so a failure in any branch is found, and it
// reports whether the printed text depends on the alert's value (a label must not: issue #11).
// It runs templates that passed checkGoTemplate; it never throws. Cost: linear in the template,
// no regexes beyond the tokenizer; microseconds per annotation.
import { templateActions, type Token } from './template.js';
import { GO_TEMPLATE_BUILTINS, PROMETHEUS_TEMPLATE_FUNCTIONS, type ParamType, type ResultType } from './template-functions.js';

/** A Go value as far as the dry run knows it. `v` holds a known string/number/bool; absent = unknown content. */
type Value = { fromValue?: boolean } & (
  | { t: 'string'; v?: string }
  | { t: 'html' }
  | { t: 'float'; v?: number }
  | { t: 'int'; v?: number }
  | { t: 'bool' }
  | { t: 'labels' } // map[string]string with unknown keys
  | { t: 'args' } // map[string]interface{} from `args`
  | { t: 'data' } // the alert template data struct
  | { t: 'time' } // *time.Time from toTime: methods and fields of time.Time
  | { t: 'sample' }
  | { t: 'queryResult' }
  | { t: 'any' } // an interface{} of unknown dynamic type: nothing about it can fail here
  | { t: 'nil' } // an invalid value (nil interface)
);

/** Go type names, for error texts like Go's. */
const GO_TYPE: Record<Value['t'], string> = {
  string: 'string',
  html: 'template.HTML',
  float: 'float64',
  int: 'int',
  bool: 'bool',
  labels: 'map[string]string',
  args: 'map[string]interface {}',
  data: 'struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }',
  time: '*time.Time',
  sample: '*template.sample',
  queryResult: 'template.queryResult',
  any: 'interface {}',
  nil: '<nil>',
};

const DATA_FIELDS: Record<string, Value> = {
  Labels: { t: 'labels' },
  ExternalLabels: { t: 'labels' },
  ExternalURL: { t: 'string' },
  Value: { t: 'float', v: 1, fromValue: true },
};

class RunError extends Error {}

type Arg =
  | { k: 'field'; chain: string[] } // .A.B on dot
  | { k: 'dot' }
  | { k: 'var'; name: string; chain: string[] }
  | { k: 'func'; name: string; chain: string[] }
  | { k: 'string'; v: string }
  | { k: 'number'; text: string }
  | { k: 'bool' }
  | { k: 'nil' }
  | { k: 'pipe'; pipe: Pipe; chain: string[] };
type Command = Arg[];
interface Pipe {
  decl: string[];
  assign: boolean;
  cmds: Command[];
}
type Node = { k: 'action'; pipe: Pipe } | { k: 'if' | 'with' | 'range'; pipe: Pipe; body: Node[]; orElse: Node[] } | { k: 'template'; name: string; pipe?: Pipe } | { k: 'text' };

export interface DryRunResult {
  /** The Go-like error Prometheus would print inside `<error expanding template: ...>`. */
  error?: string;
  /** The expanded text changes with the alert's value ($value, .Value, or a branch on them). */
  dependsOnValue: boolean;
}

/** Dry-runs one annotation or label template (shape: see DryRunResult). */
export function dryRunTemplate(text: string): DryRunResult {
  try {
    const { nodes, defines } = parseTemplate(text);
    const run = new Run(defines);
    run.execList(nodes, { t: 'data' }, false);
    return { dependsOnValue: run.dependsOnValue };
  } catch (err) {
    if (err instanceof RunError) return { error: err.message, dependsOnValue: false };
    // A construct the parser below does not model: stay silent rather than refuse a working template.
    return { dependsOnValue: false };
  }
}

// ---- parsing: the actions of template.ts into a tree ------------------------------------------

function parseTemplate(text: string): { nodes: Node[]; defines: Map<string, Node[]> } {
  const actions = templateActions(text).filter((a) => !a.comment);
  const defines = new Map<string, Node[]>();
  let i = 0;
  const unquote = (token: Token | undefined): string => (token?.kind === 'string' ? (JSON.parse(token.text.startsWith('`') ? JSON.stringify(token.text.slice(1, -1)) : token.text) as string) : '');
  // Parses nodes until {{end}} or {{else}}; returns the terminator keyword.
  const parseList = (): { nodes: Node[]; stop: 'end' | 'else' | 'eof'; elseTokens?: Token[] } => {
    const nodes: Node[] = [{ k: 'text' }];
    while (i < actions.length) {
      const tokens = (actions[i++] as { tokens: Token[] }).tokens;
      const keyword = tokens[0]?.kind === 'word' ? tokens[0].text : '';
      if (keyword === 'end') return { nodes, stop: 'end' };
      if (keyword === 'else') return { nodes, stop: 'else', elseTokens: tokens.slice(1) };
      if (keyword === 'if' || keyword === 'with' || keyword === 'range') {
        nodes.push(parseBranch(keyword, tokens.slice(1)));
      } else if (keyword === 'define') {
        const name = unquote(tokens[1]);
        defines.set(name, parseList().nodes);
      } else if (keyword === 'block') {
        const name = unquote(tokens[1]);
        const pipe = tokens.length > 2 ? parsePipe(tokens.slice(2)) : undefined;
        defines.set(name, parseList().nodes);
        nodes.push({ k: 'template', name, ...(pipe ? { pipe } : {}) });
      } else if (keyword === 'template') {
        const pipe = tokens.length > 2 ? parsePipe(tokens.slice(2)) : undefined;
        nodes.push({ k: 'template', name: unquote(tokens[1]), ...(pipe ? { pipe } : {}) });
      } else if (keyword === 'break' || keyword === 'continue') {
        // Exploration runs each body once: nothing to do.
      } else {
        nodes.push({ k: 'action', pipe: parsePipe(tokens) });
      }
    }
    return { nodes, stop: 'eof' };
  };
  const parseBranch = (keyword: 'if' | 'with' | 'range', tokens: Token[]): Node => {
    const pipe = parsePipe(tokens);
    const body = parseList();
    let orElse: Node[] = [];
    if (body.stop === 'else') {
      const chained = body.elseTokens?.[0];
      if (chained?.kind === 'word' && (chained.text === 'if' || chained.text === 'with')) {
        // {{else if x}} ... {{end}}: one end closes the whole chain.
        orElse = [parseBranch(chained.text, (body.elseTokens ?? []).slice(1))];
      } else {
        orElse = parseList().nodes;
      }
    }
    return { k: keyword, pipe, body: body.nodes, orElse };
  };
  const nodes = parseList().nodes;
  return { nodes, defines };
}

function parsePipe(tokens: Token[]): Pipe {
  const declAt = tokens.findIndex((t) => t.kind === 'declare' || t.kind === 'assign');
  const decl =
    declAt >= 0
      ? tokens
          .slice(0, declAt)
          .filter((t) => t.kind === 'variable')
          .map((t) => t.text)
      : [];
  const assign = declAt >= 0 && tokens[declAt]?.kind === 'assign';
  const rest = declAt >= 0 ? tokens.slice(declAt + 1) : tokens;
  let i = 0;
  const parseCommands = (): Command[] => {
    const cmds: Command[] = [[]];
    while (i < rest.length) {
      const token = rest[i++] as Token;
      const cmd = cmds[cmds.length - 1] as Command;
      switch (token.kind) {
        case 'pipe':
          cmds.push([]);
          break;
        case 'rparen':
          return cmds;
        case 'lparen':
          cmd.push({ k: 'pipe', pipe: { decl: [], assign: false, cmds: parseCommands() }, chain: [] });
          break;
        case 'field': {
          // (pipeline).Field: the field applies to the parenthesised result.
          const previous = rest[i - 2];
          const last = cmd[cmd.length - 1];
          if (previous?.kind === 'rparen' && previous.at + 1 === token.at && last?.k === 'pipe') {
            last.chain.push(...token.text.split('.').slice(1));
          } else cmd.push(token.text === '.' ? { k: 'dot' } : { k: 'field', chain: token.text.split('.').slice(1) });
          break;
        }
        case 'variable': {
          const [name, ...chain] = token.text.split('.');
          cmd.push({ k: 'var', name: name as string, chain });
          break;
        }
        case 'string':
          cmd.push({ k: 'string', v: token.text.startsWith('`') ? token.text.slice(1, -1) : (JSON.parse(token.text) as string) });
          break;
        case 'number':
        case 'char':
          cmd.push({ k: 'number', text: token.kind === 'char' ? '0' : token.text });
          break;
        case 'word': {
          const [name, ...chain] = token.text.split('.');
          if (name === 'true' || name === 'false') cmd.push({ k: 'bool' });
          else if (name === 'nil') cmd.push({ k: 'nil' });
          else cmd.push({ k: 'func', name: name as string, chain });
          break;
        }
        default:
          break;
      }
    }
    return cmds;
  };
  return { decl, assign, cmds: parseCommands() };
}

// ---- execution -------------------------------------------------------------------------------

const MAX_TEMPLATE_DEPTH = 8;
const taint = <T extends Value>(value: T, fromValue: boolean | undefined): T => (fromValue ? { ...value, fromValue: true } : value);

class Run {
  dependsOnValue = false;
  private scopes: Map<string, Value>[] = [new Map()];
  private depth = 0;
  constructor(private readonly defines: Map<string, Node[]>) {}

  execList(nodes: Node[], dot: Value, tainted: boolean): void {
    this.scopes.push(new Map());
    try {
      for (const node of nodes) this.exec(node, dot, tainted);
    } finally {
      this.scopes.pop();
    }
  }

  private exec(node: Node, dot: Value, tainted: boolean): void {
    switch (node.k) {
      case 'text':
        // Literal text inside a branch on the value is printed or not depending on the value.
        if (tainted) this.dependsOnValue = true;
        return;
      case 'action': {
        const value = this.evalPipe(node.pipe, dot);
        if (node.pipe.decl.length === 0) this.print(value, tainted);
        return;
      }
      case 'if':
      case 'with':
      case 'range': {
        this.scopes.push(new Map());
        try {
          const value = this.evalPipe(node.pipe, dot, node.k === 'range');
          const branchTaint = tainted || value.fromValue === true;
          let bodyDot = node.k === 'if' ? dot : value;
          if (node.k === 'range') bodyDot = this.rangeElement(value, node.pipe);
          this.execList(node.body, bodyDot, branchTaint);
          this.execList(node.orElse, dot, branchTaint);
        } finally {
          this.scopes.pop();
        }
        return;
      }
      case 'template': {
        const body = this.defines.get(node.name);
        if (!body) throw new RunError(`template: no such template "${node.name}"`);
        const data = node.pipe ? this.evalPipe(node.pipe, dot) : ({ t: 'nil' } as Value);
        if (this.depth >= MAX_TEMPLATE_DEPTH) return;
        this.depth++;
        const saved = this.scopes;
        this.scopes = [new Map()];
        try {
          this.execList(body, data, tainted);
        } finally {
          this.scopes = saved;
          this.depth--;
        }
        return;
      }
    }
  }

  private print(value: Value, tainted: boolean): void {
    if (tainted || value.fromValue || value.t === 'data') this.dependsOnValue = true;
  }

  private rangeElement(value: Value, pipe: Pipe): Value {
    let key: Value;
    let element: Value;
    switch (value.t) {
      case 'labels':
        key = { t: 'string' };
        element = { t: 'string' };
        break;
      case 'args':
        key = { t: 'string' };
        element = { t: 'any' };
        break;
      case 'queryResult':
        key = { t: 'int' };
        element = { t: 'sample' };
        break;
      case 'int':
        key = { t: 'int' };
        element = { t: 'int' };
        break;
      case 'any':
      case 'nil':
        key = { t: 'any' };
        element = { t: 'any' };
        break;
      default:
        throw new RunError(`range can't iterate over ${this.describe(value)}`);
    }
    const scope = this.scopes[this.scopes.length - 1] as Map<string, Value>;
    // {{range $i, $e := x}} declares index and element; {{range $e := x}} the element only.
    if (pipe.decl.length === 2) {
      scope.set(pipe.decl[0] as string, taint(key, value.fromValue));
      scope.set(pipe.decl[1] as string, taint(element, value.fromValue));
    } else if (pipe.decl.length === 1) scope.set(pipe.decl[0] as string, taint(element, value.fromValue));
    return taint(element, value.fromValue);
  }

  private describe(value: Value): string {
    if (value.t === 'string' && value.v !== undefined) return JSON.stringify(value.v);
    return GO_TYPE[value.t];
  }

  private lookup(name: string): Value {
    if (name === '$') return { t: 'data' };
    const prefixed: Record<string, Value> = {
      $labels: DATA_FIELDS.Labels as Value,
      $externalLabels: DATA_FIELDS.ExternalLabels as Value,
      $externalURL: DATA_FIELDS.ExternalURL as Value,
      $value: DATA_FIELDS.Value as Value,
    };
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const found = this.scopes[i]?.get(name);
      if (found) return found;
    }
    return prefixed[name] ?? { t: 'any' };
  }

  private setVariable(name: string, value: Value, assign: boolean): void {
    if (assign) {
      for (let i = this.scopes.length - 1; i >= 0; i--) {
        const scope = this.scopes[i] as Map<string, Value>;
        if (scope.has(name)) {
          scope.set(name, value);
          return;
        }
      }
    }
    (this.scopes[this.scopes.length - 1] as Map<string, Value>).set(name, value);
  }

  private evalPipe(pipe: Pipe, dot: Value, isRange = false): Value {
    let value: Value | undefined;
    for (const cmd of pipe.cmds) value = this.evalCommand(cmd, dot, value);
    const result = value ?? { t: 'nil' };
    // A range declares its variables per element (rangeElement).
    if (!isRange) for (const name of pipe.decl) this.setVariable(name, result, pipe.assign);
    return result;
  }

  private evalCommand(cmd: Command, dot: Value, final: Value | undefined): Value {
    const [first, ...args] = cmd;
    if (!first) return { t: 'nil' };
    if (first.k === 'func' && first.chain.length === 0) return this.call(first.name, args, dot, final);
    if (args.length > 0 || final !== undefined) {
      // Only a method can take arguments; time.Time has methods (e.g. .Format "2006").
      const receiver = first.k === 'field' || first.k === 'var' || first.k === 'pipe' ? this.evalArg(first, dot) : undefined;
      if (receiver?.t === 'time' || receiver?.t === 'any') return { t: 'any', ...(receiver.fromValue ? { fromValue: true } : {}) };
      if (first.k === 'field' || (first.k === 'var' && first.chain.length > 0)) {
        const name = first.k === 'field' ? first.chain[first.chain.length - 1] : first.chain[first.chain.length - 1];
        throw new RunError(`${name} has arguments but cannot be invoked as function`);
      }
      throw new RunError(`can't give argument to non-function ${this.argText(first)}`);
    }
    return this.evalArg(first, dot);
  }

  private argText(arg: Arg): string {
    switch (arg.k) {
      case 'var':
        return [arg.name, ...arg.chain].join('.');
      case 'field':
        return `.${arg.chain.join('.')}`;
      case 'string':
        return JSON.stringify(arg.v);
      case 'number':
        return arg.text;
      default:
        return arg.k;
    }
  }

  /** An argument evaluated without a target type (numbers become Go's ideal constants). */
  private evalArg(arg: Arg, dot: Value): Value {
    switch (arg.k) {
      case 'dot':
        return dot;
      case 'field':
        return this.fieldChain(dot, arg.chain);
      case 'var':
        return this.fieldChain(this.lookup(arg.name), arg.chain);
      case 'func':
        return this.fieldChain(this.call(arg.name, [], dot, undefined), arg.chain);
      case 'string':
        return { t: 'string', v: arg.v };
      case 'number':
        return /^[+-]?(0[xX][0-9a-fA-F_]+|[0-9][0-9_]*)$/.test(arg.text) ? { t: 'int', v: Number(arg.text.replace(/_/g, '')) } : { t: 'float', v: Number(arg.text.replace(/_/g, '')) };
      case 'bool':
        return { t: 'bool' };
      case 'nil':
        return { t: 'nil' };
      case 'pipe':
        return this.fieldChain(this.evalPipe(arg.pipe, dot), arg.chain);
    }
  }

  private fieldChain(receiver: Value, chain: string[]): Value {
    let value = receiver;
    for (const name of chain) value = this.field(value, name);
    return value;
  }

  /** text/template evalField with missingkey=zero. */
  private field(receiver: Value, name: string): Value {
    switch (receiver.t) {
      case 'nil':
        return { t: 'nil' }; // a missing value stays missing (printed as <no value>)
      case 'any':
      case 'time':
        return taint({ t: 'any' }, receiver.fromValue);
      case 'data': {
        const field = DATA_FIELDS[name];
        if (!field) throw new RunError(`can't evaluate field ${name} in type ${GO_TYPE.data}`);
        return field;
      }
      case 'labels':
        return taint({ t: 'string' }, receiver.fromValue);
      case 'args':
        return taint({ t: 'any' }, receiver.fromValue);
      case 'sample':
        if (name === 'Labels') return { t: 'labels' };
        if (name === 'Value') return { t: 'float' };
        throw new RunError(`can't evaluate field ${name} in type ${GO_TYPE.sample}`);
      default:
        // .Value is interface{} holding a float64: Go names the static type.
        throw new RunError(`can't evaluate field ${name} in type ${receiver.fromValue && receiver.t === 'float' ? 'interface {}' : GO_TYPE[receiver.t]}`);
    }
  }

  /** An argument converted to a Go parameter type (text/template validateType + evalArg). */
  private convert(arg: Arg | Value, param: ParamType, dot: Value, fn: string): Value {
    const value = 'k' in arg ? this.evalArgFor(arg, param, dot) : arg;
    if (value.t === 'any') return value;
    switch (param) {
      case 'any':
        return value;
      case 'string':
        if (value.t === 'string') return value;
        if (value.t === 'nil') throw new RunError(`error calling ${fn}: invalid value; expected string`);
        throw new RunError(`wrong type for value; expected string; got ${GO_TYPE[value.t]}`);
      case 'float':
        if (value.t === 'float' || value.t === 'int' || value.t === 'string') return value;
        throw new RunError(`error calling ${fn}: can't convert ${value.t === 'nil' ? '<nil>' : GO_TYPE[value.t]} to float`);
      case 'sample':
      case 'queryResult':
        if (value.t === param) return value;
        throw new RunError(`wrong type for value; expected ${GO_TYPE[param]}; got ${GO_TYPE[value.t]}`);
    }
  }

  /** Constants take the parameter's type (text/template evalArg): a number for a string parameter is an error. */
  private evalArgFor(arg: Arg, param: ParamType, dot: Value): Value {
    if (param === 'string' && (arg.k === 'number' || arg.k === 'bool' || arg.k === 'nil')) {
      throw new RunError(`expected string; found ${this.argText(arg)}`);
    }
    return this.evalArg(arg, dot);
  }

  private call(name: string, argNodes: Arg[], dot: Value, final: Value | undefined): Value {
    const args: (Arg | Value)[] = [...argNodes, ...(final !== undefined ? [final] : [])];
    const values = (): Value[] => args.map((a) => ('k' in a ? this.evalArg(a, dot) : a));
    const tainted = (vs: Value[]): boolean => vs.some((v) => v.fromValue);
    const prometheus = PROMETHEUS_TEMPLATE_FUNCTIONS[name];
    if (prometheus) {
      const { params, variadic } = prometheus;
      if (variadic ? args.length < params.length - 1 : args.length !== params.length) {
        throw new RunError(`wrong number of args for ${name}: want ${variadic ? 'at least ' + (params.length - 1) : params.length} got ${args.length}`);
      }
      const converted = args.map((a, i) => this.convert(a, params[Math.min(i, params.length - 1)] as ParamType, dot, name));
      const problem = prometheus.failsWith?.(converted.map((v) => ('v' in v ? v.v : undefined)));
      if (problem) throw new RunError(`error calling ${name}: ${problem}`);
      return taint(resultValue(prometheus.result), tainted(converted));
    }
    if (!(GO_TEMPLATE_BUILTINS as readonly string[]).includes(name)) throw new RunError(`function "${name}" not defined`);
    const vs = values();
    const fromValue = tainted(vs);
    switch (name) {
      case 'and':
      case 'or':
        if (vs.length === 0) throw new RunError(`wrong number of args for ${name}: want at least 1 got 0`);
        return taint(vs[vs.length - 1] as Value, fromValue);
      case 'not':
        if (vs.length !== 1) throw new RunError(`wrong number of args for not: want 1 got ${vs.length}`);
        return taint({ t: 'bool' }, fromValue);
      case 'len': {
        if (vs.length !== 1) throw new RunError(`wrong number of args for len: want 1 got ${vs.length}`);
        const v = vs[0] as Value;
        if (!['string', 'labels', 'args', 'queryResult', 'any', 'html'].includes(v.t)) throw new RunError(`error calling len: len of type ${GO_TYPE[v.t]}`);
        return taint({ t: 'int' }, fromValue);
      }
      case 'index': {
        const [item, ...keys] = vs;
        if (!item) throw new RunError('wrong number of args for index: want at least 1 got 0');
        let v: Value = item;
        for (const key of keys) {
          if (v.t === 'labels' || v.t === 'args') {
            if (key.t !== 'string' && key.t !== 'any') throw new RunError(`error calling index: value has type ${GO_TYPE[key.t]}; should be string`);
            v = v.t === 'labels' ? { t: 'string' } : { t: 'any' };
          } else if (v.t === 'queryResult' || v.t === 'string') {
            if (key.t !== 'int' && key.t !== 'any') throw new RunError(`error calling index: cannot index slice/array with type ${GO_TYPE[key.t]}`);
            v = v.t === 'queryResult' ? { t: 'sample' } : { t: 'int' };
          } else if (v.t === 'nil') {
            throw new RunError('error calling index: index of untyped nil');
          } else if (v.t !== 'any') {
            throw new RunError(`error calling index: can't index item of type ${GO_TYPE[v.t]}`);
          }
        }
        return taint(v, fromValue);
      }
      case 'slice':
        return taint(vs[0] ?? { t: 'nil' }, fromValue);
      case 'print':
      case 'println':
      case 'html':
      case 'js':
      case 'urlquery':
        return taint({ t: 'string' }, fromValue);
      case 'printf': {
        if (args.length === 0) throw new RunError('wrong number of args for printf: want at least 1 got 0');
        this.convert(args[0] as Arg | Value, 'string', dot, 'printf');
        return taint({ t: 'string' }, fromValue);
      }
      case 'eq':
      case 'ne':
      case 'lt':
      case 'le':
      case 'gt':
      case 'ge':
        compare(name, vs);
        return taint({ t: 'bool' }, fromValue);
      case 'call':
        if (vs[0]?.t !== 'any') throw new RunError(`error calling call: non-function of type ${GO_TYPE[(vs[0] ?? { t: 'nil' }).t]}`);
        return { t: 'any' };
      default:
        return { t: 'any' };
    }
  }
}

function resultValue(result: ResultType): Value {
  switch (result) {
    case 'string':
      return { t: 'string' };
    case 'float':
      return { t: 'float' };
    case 'bool':
      return { t: 'bool' };
    case 'time':
      return { t: 'time' };
    case 'html':
      return { t: 'html' };
    case 'sample':
      return { t: 'sample' };
    case 'queryResult':
      return { t: 'queryResult' };
    case 'args':
      return { t: 'args' };
  }
}

/** text/template eq/lt and friends (funcs.go): basic kinds only, and the same kind on both sides. */
function compare(name: string, vs: Value[]): void {
  const kind = (v: Value): string | undefined => {
    switch (v.t) {
      case 'string':
      case 'html':
        return 'string';
      case 'float':
        return 'float';
      case 'int':
        return 'int';
      case 'bool':
        return 'bool';
      default:
        return undefined;
    }
  };
  if (vs.length < 2) throw new RunError(name === 'eq' ? 'error calling eq: missing argument for comparison' : `wrong number of args for ${name}: want 2 got ${vs.length}`);
  const [a, ...rest] = vs as [Value, ...Value[]];
  if (name !== 'eq' && rest.length !== 1) throw new RunError(`wrong number of args for ${name}: want 2 got ${vs.length}`);
  for (const b of rest) {
    if (a.t === 'any' || b.t === 'any') continue;
    const ka = kind(a);
    const kb = kind(b);
    if (name === 'eq' || name === 'ne') {
      if (a.t === 'nil' || b.t === 'nil') continue;
      if (ka === undefined || kb === undefined) {
        if (ka !== kb) throw new RunError(`error calling ${name}: incompatible types for comparison`);
        continue;
      }
      if (ka !== kb) throw new RunError(`error calling ${name}: incompatible types for comparison`);
      continue;
    }
    if (ka === undefined || kb === undefined || ka === 'bool') throw new RunError(`error calling ${name}: invalid type for comparison`);
    if (ka !== kb) throw new RunError(`error calling ${name}: incompatible types for comparison`);
  }
}
