// The flag table (flags.ts): one declaration per flag gives the parser, the environment variable,
// the default and the usage text; errors name the flag and say what is accepted.
import { describe, expect, it } from '@jest/globals';
import { commaList, defineCommand, envName, httpUrl, namespaceFlag, namespaceName, objectName, oneOf, repeatedFlag, switchFlag, UsageError, valueFlag, wrap } from './flags.js';
import { OPERATOR_COMMAND } from './operator-command.js';
import { RENDER_COMMAND } from './render-command.js';
import { SYNC_COMMAND } from './sync-command.js';

const demo = defineCommand({
  name: 'demo',
  synopsis: '[options]',
  description: 'A command for the tests.',
  flags: {
    namespace: namespaceFlag('where'),
    'reload-url': valueFlag({ placeholder: '<url>', help: 'reload endpoint', parse: httpUrl('http://127.0.0.1:9090/-/reload'), required: 'the reload endpoint' }),
    items: valueFlag({ placeholder: '<a,b>', help: 'a list', parse: commaList(namespaceName), default: (): string[] => [] }),
    kind: valueFlag({ placeholder: '<kind>', help: 'which', parse: oneOf(['x', 'y'] as const) }),
    file: repeatedFlag({ short: 'f', placeholder: '<path>', help: 'input' }),
    quiet: switchFlag({ help: 'say less' }),
    local: valueFlag({ placeholder: '<v>', help: 'command line only', env: false }),
  },
  footer: ['The end.'],
});
const required = ['--reload-url', 'http://127.0.0.1:9090/-/reload'];

describe('the flag table parser', () => {
  it('applies defaults, including one computed from the environment', () => {
    expect(demo.parse(required, {})).toEqual({
      namespace: 'vigil-system',
      'reload-url': 'http://127.0.0.1:9090/-/reload',
      items: [],
      kind: undefined,
      file: [],
      quiet: false,
      local: undefined,
    });
    expect(demo.parse(required, { POD_NAMESPACE: 'pod-ns' })).toMatchObject({ namespace: 'pod-ns' });
  });

  it('takes the command line over VIGIL_* over the default; an empty value counts as not given', () => {
    const env = { VIGIL_NAMESPACE: 'env-ns', POD_NAMESPACE: 'pod-ns', VIGIL_ITEMS: 'a, b,,c', VIGIL_QUIET: 'yes', VIGIL_LOCAL: 'ignored' };
    expect(demo.parse([...required, '--namespace', 'flag-ns'], env)).toMatchObject({ namespace: 'flag-ns', items: ['a', 'b', 'c'], quiet: true, local: undefined });
    expect(demo.parse(required, env)).toMatchObject({ namespace: 'env-ns' });
    expect(demo.parse(required, { ...env, VIGIL_NAMESPACE: '' })).toMatchObject({ namespace: 'pod-ns' });
    expect(demo.parse(['--namespace', '', ...required], { VIGIL_NAMESPACE: 'env-ns' })).toMatchObject({ namespace: 'env-ns' });
    expect(demo.parse(required, { VIGIL_QUIET: 'false' })).toMatchObject({ quiet: false });
    expect(demo.parse([], { VIGIL_RELOAD_URL: 'https://am:9093/-/reload' })).toMatchObject({ 'reload-url': 'https://am:9093/-/reload' });
  });

  it('collects a repeatable flag in order, short or long', () => {
    expect(demo.parse([...required, '-f', 'a.yaml', '--file', 'dir', '-f', 'b.yaml'], {})).toMatchObject({ file: ['a.yaml', 'dir', 'b.yaml'] });
  });

  it('names the flag, or the variable and its flag, and says what is accepted', () => {
    const error = (argv: string[], env = {}) => {
      try {
        demo.parse(argv, env);
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        return (err as Error).message;
      }
      throw new Error(`accepted ${argv.join(' ')}`);
    };
    expect(error(['--namespace', 'Bad_NS', ...required])).toBe('--namespace: "Bad_NS" is not a valid namespace name (lowercase letters, digits and -, at most 63)');
    expect(error(required, { VIGIL_NAMESPACE: 'Bad_NS' })).toBe('VIGIL_NAMESPACE (--namespace): "Bad_NS" is not a valid namespace name (lowercase letters, digits and -, at most 63)');
    expect(error(['--namespace', 'a'.repeat(64), ...required])).toMatch(/^--namespace: "a{64}" is not a valid namespace name/);
    expect(error(['--items', 'ok,NOT OK', ...required])).toBe('--items: "NOT OK" is not a valid namespace name (lowercase letters, digits and -, at most 63)');
    expect(error(['--kind', 'z', ...required])).toBe('--kind: "z" is not one of x, y');
    expect(error(['--reload-url', 'localhost:9090'])).toBe('--reload-url: "localhost:9090" must be an http(s) URL, e.g. http://127.0.0.1:9090/-/reload');
    expect(error(['--reload-url', '/-/reload'])).toBe('--reload-url: "/-/reload" is not a URL; expected e.g. http://127.0.0.1:9090/-/reload');
    expect(error([])).toBe('--reload-url <url> is required (or VIGIL_RELOAD_URL): the reload endpoint');
    expect(error(required, { VIGIL_QUIET: 'maybe' })).toBe('VIGIL_QUIET (--quiet): "maybe" is not a boolean; use true or false');
    expect(error(['--bogus', ...required])).toMatch(/Unknown option '--bogus'/);
    expect(error(['stray', ...required])).toMatch(/stray/);
    expect(error(['--namespace'])).toMatch(/--namespace/);
  });

  it('returns help for -h and --help, before checking anything else', () => {
    expect(demo.parse(['--help'], {})).toBe('help');
    expect(demo.parse(['-h', '--namespace', 'Bad_NS'], {})).toBe('help');
  });

  it('refuses a table that declares --help itself', () => {
    expect(() => defineCommand({ name: 'x', synopsis: '', description: '', flags: { help: switchFlag({ help: 'mine' }) }, footer: [] })).toThrow(/--help is built in/);
  });
});

describe('the usage text from the table', () => {
  it('lists every flag once with its placeholder, help, default or requirement, two spaces after the longest, then the footer', () => {
    expect(demo.usage).toBe(
      [
        'Usage: vigil demo [options]',
        '',
        'A command for the tests.',
        '',
        '  --namespace <ns>    where (default: $POD_NAMESPACE or vigil-system)',
        '  --reload-url <url>  reload endpoint (required)',
        '  --items <a,b>       a list',
        '  --kind <kind>       which',
        '  -f, --file <path>   input (repeatable)',
        '  --quiet             say less',
        '  --local <v>         command line only',
        '  -h, --help          print this text',
        'The end.',
      ].join('\n'),
    );
  });

  it('wraps long help under its column and keeps lines within 100 characters', () => {
    for (const command of [OPERATOR_COMMAND, SYNC_COMMAND, RENDER_COMMAND]) {
      for (const line of command.usage.split('\n').filter((l) => l.startsWith('  '))) expect(line.length).toBeLessThanOrEqual(100);
    }
    expect(OPERATOR_COMMAND.usage).toContain(
      [
        '  --owner-configmap <name>     ConfigMap in the install namespace that owns the generated ConfigMap,',
        '                               Secret and Lease: deleting it deletes them (the chart passes its',
      ].join('\n'),
    );
    expect(wrap('aaa bbb ccc', 7)).toEqual(['aaa bbb', 'ccc']);
    expect(wrap('a-very-long-word x', 5)).toEqual(['a-very-long-word', 'x']);
  });

  it('documents every flag of every command, and the VIGIL_* footer only where every flag has its variable', () => {
    for (const command of [OPERATOR_COMMAND, SYNC_COMMAND, RENDER_COMMAND]) {
      for (const [name, flag] of Object.entries(command.flags)) expect(command.usage).toMatch(new RegExp(`^  (-[a-z], )?--${name}${flag.placeholder ? ` ${flag.placeholder}` : ''} `, 'm'));
      const allFromEnv = Object.values(command.flags).every((f) => f.fromEnv);
      expect(command.usage.includes('Every flag can also be set as VIGIL_<FLAG>')).toBe(allFromEnv);
      expect(command.usage).toMatch(/^Exit status: 0 .*, 1 .*, 2 usage/m);
    }
    expect(Object.values(RENDER_COMMAND.flags).some((f) => f.fromEnv)).toBe(false);
    expect(envName('watch-namespaces')).toBe('VIGIL_WATCH_NAMESPACES');
  });
});

describe('value parsers', () => {
  it('accept exactly Kubernetes names', () => {
    expect(objectName('Secret')('smtp.example-1')).toBe('smtp.example-1');
    expect(() => objectName('Secret')('Not/A-Name')).toThrow('"Not/A-Name" is not a valid Secret name');
    expect(() => objectName('ConfigMap')('-x')).toThrow('ConfigMap');
    expect(() => namespaceName('a.b')).toThrow('is not a valid namespace name');
    expect(namespaceName('team-a')).toBe('team-a');
  });
});
