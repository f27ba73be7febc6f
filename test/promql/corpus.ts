// A generated corpus of PromQL expressions, valid and invalid, over the whole grammar of the pinned
// parser: every function (from parser.Functions) with right and wrong argument counts and types,
// every aggregation with and without grouping and parameters, every binary operator with every
// kind of operand and every vector-matching modifier (on, ignoring, group_left/right, bool, fill),
// offset and @, selectors and matchers, subqueries, literals, and seeded random combinations.
// operator/validate/promtool-agreement.int.test.ts asserts that operator/wasm and promtool agree
// on every one.
import type { PromQLGrammar, ValueType } from '../../operator/promql/wasm.js';

const ARG: Record<ValueType, string> = { vector: 'x', matrix: 'x[5m]', scalar: '1', string: '"a"' };
const WRONG: Record<ValueType, string> = { vector: 'x[5m]', matrix: 'x', scalar: '"a"', string: '1' };

const OPERANDS: [string, string][] = [
  ['x', 'y'],
  ['x', '1'],
  ['1', 'x'],
  ['1', '2'],
  ['x', '"s"'],
  ['x[5m]', 'y'],
  ['sum(x)', 'rate(y[5m])'],
];

const MATCHING = [
  '',
  'bool',
  'on(a)',
  'ignoring(a)',
  'on()',
  'on(a) group_left',
  'on(a) group_left(b)',
  'on(a) group_right(b)',
  'ignoring(a) group_left(b)',
  'on(a) group_left(a)',
  'ignoring(a) group_right(a)',
  'group_left',
  'bool on(a)',
  'on(a) bool',
  'bool on(a) group_left(b)',
  'on(a, b) group_right',
  'on("a.b") group_left("c.d")',
  'fill(0)',
  'on(a) group_left fill(0)',
];

const SELECTORS = [
  'x offset 5m',
  'x offset -5m',
  'x @ 100',
  'x @ start()',
  'x @ end()',
  'x @ 100 offset 5m',
  'x offset 5m @ 100',
  'x offset 5m offset 1m',
  'x @ 1 @ 2',
  'rate(x[5m] offset 1m)',
  'rate(x[5m] @ end())',
  'rate(x offset 1m [5m])',
  'sum(x) offset 5m',
  'sum(x) @ 100',
  '(x) offset 5m',
  'x[5m:1m] offset 1m',
  'x[5m:] @ end()',
  'rate(x[5m])[10m:1m]',
  'x[5m][10m:1m]',
  'x[0s]',
  'x[1m:0s]',
  'x[-5m]',
  'x offset 1.5',
  'x[1h30m]',
  'x[1d]',
  'x[1w]',
  'x[1y]',
  'x[5ms]',
  'x[90]',
  'x[1e3]',
  'x[5m+1m]',
  'x[5m*2]',
  'x[step()]',
  'x[range()]',
  'x[5m:step()]',
  'x offset (1h - 5m)',
  'x[min_of(5m, 1h)]',
  'x[5m] anchored',
  'x[5m] smoothed',
  'x{a="b"}',
  'x{a!="b"}',
  'x{a=~"b.*"}',
  'x{a!~"b"}',
  'x{a=""}',
  '{a=""}',
  '{a=~".*"}',
  '{a=~".+"}',
  '{a!=""}',
  'x{a=~"("}',
  'x{a="b",}',
  'x{,}',
  'x{}',
  '{}',
  'x{a="b" b="c"}',
  'x{"a.b"="c"}',
  '{"x"}',
  '{"x", a="b"}',
  '{"x", "y"}',
  'x{__name__="y"}',
  '{__name__="x"}',
  '{__name__=~"x|y"}',
  "x{a='b'}",
  'x{a=`b`}',
  'x{a="\\d"}',
  'x{a="\\\\d"}',
  'x{a=b}',
  'x{1a="b"}',
  'x{a="\\u00e9"}',
  'x:y:z',
  'x.y',
  'on',
  'by',
  'offset',
  'bool',
  'sum',
  'rate',
  'inf',
  'nan',
];

const LITERALS = [
  '1',
  '-1',
  '+1',
  '0x1F',
  '1e3',
  'Inf',
  'NaN',
  '-Inf',
  '1_000',
  '.5',
  '5.',
  '5m',
  '-5m',
  '"a"',
  "'a'",
  '`a`',
  '"unterminated',
  '1 +',
  '()',
  '(x',
  'x)',
  '',
  ' ',
  '# only a comment',
  'x # comment',
  '- - x',
  '-(-x)',
  '+x',
  '!x',
];

/** The corpus, deduplicated, in a stable order. */
export function promqlCorpus(grammar: PromQLGrammar, randomCount = 1000): string[] {
  const out = new Set<string>();
  const add = (e: string) => out.add(e);

  for (const f of grammar.functions) {
    const args = f.argTypes.map((t) => ARG[t]);
    const last = args[args.length - 1] ?? '1';
    const call = (a: string[]) => `${f.name}(${a.join(', ')})`;
    const valid = call(args);
    add(valid);
    add(call(args.slice(0, -1)));
    add(call(args.slice(0, -2)));
    add(call([...args, last]));
    add(call([...args, last, last]));
    add(`${f.name}()`);
    f.argTypes.forEach((t, i) => add(call(args.map((a, j) => (i === j ? WRONG[t] : a)))));
    add(`${valid} > 0`);
    add(`sum by (a) (${valid})`);
    add(`${valid}[10m:1m]`);
    add(`${valid} offset 5m`);
    add(`-${valid}`);
  }

  for (const a of grammar.aggregations) {
    const param = a.name === 'count_values' ? '"v"' : a.name === 'quantile' ? '0.9' : a.name === 'limit_ratio' ? '0.5' : '2';
    const body = a.hasParam ? `${param}, x` : 'x';
    for (const e of [
      `${a.name}(${body})`,
      `${a.name} by (a) (${body})`,
      `${a.name} without (a) (${body})`,
      `${a.name}(${body}) by (a)`,
      `${a.name}(${body}) without (a, b)`,
      `${a.name} by () (${body})`,
      `${a.name} by (a) (${body}) by (b)`,
      `${a.name} by ("a.b") (${body})`,
      `${a.name} by (__name__) (${body})`,
      `${a.name} bool (${body})`,
      `${a.name}(${a.hasParam ? `${param}, ` : ''}x[5m])`,
      `${a.name}(${a.hasParam ? `${param}, ` : ''}1)`,
      `${a.name}(${a.hasParam ? 'x' : '2, x'})`,
      `${a.name}(${a.hasParam ? '"s", x' : 'x, y'})`,
      `${a.name}()`,
      `${a.name}(${body}) > 0`,
      `${a.name} by (a) (${body})[5m:1m]`,
      `${a.name}(${a.hasParam ? 'scalar(y), x' : 'rate(x[5m])'})`,
    ])
      add(e);
  }

  for (const { op } of grammar.operators) {
    for (const [l, r] of OPERANDS) for (const m of MATCHING) add(`${l} ${op} ${m ? `${m} ` : ''}${r}`);
  }
  for (const e of ['a ^ b ^ c', '-x ^ 2', 'a + b * c', 'a and b or c unless d', 'a > b > c', '1 > bool 2 > bool 3', 'a == bool on(x) b', '(a + b) / on(c) group_left (d)']) add(e);

  for (const e of [...SELECTORS, ...LITERALS]) add(e);

  // Seeded random combinations of the pieces above (a linear congruential generator: the same corpus every run).
  let seed = 21;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const pick = <T>(items: readonly T[]): T => items[next(items.length)] as T;
  const fnNames = grammar.functions.map((f) => f.name);
  const aggNames = grammar.aggregations.map((a) => a.name);
  const ops = grammar.operators.map((o) => o.op);
  const atom = (depth: number): string => {
    const kind = depth > 2 ? next(3) : next(7);
    switch (kind) {
      case 0:
        return pick(['x', 'y{a="b"}', '1', '0.5', '"s"', 'x[5m]', 'up']);
      case 1:
        return pick(SELECTORS);
      case 2:
        return pick(['x', 'time()', 'vector(1)']);
      case 3:
        return `${pick(fnNames)}(${atom(depth + 1)}${next(3) === 0 ? `, ${atom(depth + 1)}` : ''})`;
      case 4:
        return `${pick(aggNames)}${next(2) ? ` by (${pick(['a', 'b', ''])})` : ''} (${next(3) === 0 ? `${atom(depth + 1)}, ` : ''}${atom(depth + 1)})`;
      case 5:
        return `${atom(depth + 1)} ${pick(ops)} ${next(2) ? `${pick(MATCHING)} ` : ''}${atom(depth + 1)}`;
      default:
        return `(${atom(depth + 1)})${pick(['', '[5m:1m]', ' offset 1m', '[1m]'])}`;
    }
  };
  for (let i = 0; out.size < 100000 && i < randomCount; i++) add(atom(0));
  return [...out];
}
