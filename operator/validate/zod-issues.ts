// zod issues -> one ValidationIssue per problem, with a field path and a message saying what is accepted.
import type { z } from 'zod';
import type { ValidationIssue } from '../render/types.js';
import { emailAddressProblem } from './email.js';
import { describeValue, formatPath, valueAt } from './paths.js';

type ZodIssue = z.ZodError['issues'][number];

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a map of fields',
  array: 'a list',
  record: 'a map of strings',
};

/** zod's own messages start like this; anything else is a message written in schema.ts. */
function isDefaultMessage(message: string): boolean {
  return /^(Invalid|Too (big|small)|Unrecognized)/.test(message);
}

function plural(n: number | bigint, word: string): string {
  return `${n} ${word}${Number(n) === 1 ? '' : 's'}`;
}

function sizeMessage(issue: Extract<ZodIssue, { code: 'too_big' | 'too_small' }>): string {
  const bound = issue.code === 'too_big' ? issue.maximum : issue.minimum;
  const relation = issue.code === 'too_big' ? 'at most' : 'at least';
  switch (issue.origin) {
    case 'string':
      if (issue.code === 'too_small' && Number(bound) === 1) return 'must not be empty';
      return `must be ${relation} ${plural(bound, 'character')} long`;
    case 'array':
    case 'set':
      if (issue.code === 'too_small' && Number(bound) === 1) return 'must have at least one entry';
      return `must have ${relation} ${plural(bound, 'entry').replace('entrys', 'entries')}`;
    default:
      return `must be ${relation} ${bound}`;
  }
}

function messageFor(issue: ZodIssue, raw: unknown, path: PropertyKey[]): string {
  const value = valueAt(raw, path);
  if (!isDefaultMessage(issue.message) && issue.code !== 'invalid_type') return issue.message;
  switch (issue.code) {
    case 'invalid_type': {
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      if (value === undefined) return `is required (${expected})`;
      if (issue.expected === 'int' && typeof value === 'number') return `must be a whole number, got ${value}`;
      return `must be ${expected}, got ${describeValue(value)}`;
    }
    case 'too_big':
    case 'too_small':
      return sizeMessage(issue);
    case 'invalid_value': {
      const options = issue.values.map((v) => JSON.stringify(v));
      return options.length === 1 ? `must be ${options[0]}` : `must be one of ${options.join(', ')}`;
    }
    case 'invalid_format':
      return issue.format === 'regex' && 'pattern' in issue ? `must match the pattern ${String(issue.pattern)}` : `must be a valid ${issue.format}`;
    default:
      return issue.message;
  }
}

export function zodIssuesToValidationIssues(error: z.ZodError, raw: unknown): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const push = (path: PropertyKey[], message: string) => {
    const field = formatPath(path);
    if (!out.some((i) => i.field === field && i.message === message)) out.push({ field, message });
  };
  for (const issue of error.issues) {
    const path = issue.path as PropertyKey[];
    if (issue.code === 'invalid_key') {
      // A record key (label name) is wrong: name the key and say why.
      const inner = issue.issues[0];
      const why = inner ? messageFor(inner as ZodIssue, String(path[path.length - 1]), []) : 'is not allowed';
      push(path, `key ${JSON.stringify(String(path[path.length - 1]))} ${why}`);
      continue;
    }
    if ((issue.code === 'invalid_format' || issue.code === 'too_small' || issue.code === 'too_big') && isEmailPath(path)) {
      push(path, emailAddressProblem(valueAt(raw, path)) ?? messageFor(issue, raw, path));
      continue;
    }
    push(path, messageFor(issue, raw, path));
  }
  return out;
}

function isEmailPath(path: PropertyKey[]): boolean {
  return path.length === 5 && path[0] === 'spec' && path[1] === 'notify' && path[2] === 'email' && path[3] === 'to';
}
