import { runUninstallCommand, UNINSTALL_COMMAND } from './uninstall-command.js';

describe('vigil uninstall (flags)', () => {
  const run = async (argv: string[], env: Record<string, string | undefined> = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runUninstallCommand(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('takes the install namespace from $POD_NAMESPACE, the scope from --watch-namespaces, and waits 2m by default', () => {
    expect(UNINSTALL_COMMAND.parse(['--watch-namespaces=team-a,team-b'], { POD_NAMESPACE: 'monitoring' })).toMatchObject({
      namespace: 'monitoring',
      'watch-namespaces': ['team-a', 'team-b'],
      timeout: 120_000,
    });
    expect(UNINSTALL_COMMAND.parse(['--namespace=vigil-a', '--timeout=30s'], {})).toMatchObject({ namespace: 'vigil-a', 'watch-namespaces': [], timeout: 30_000 });
  });

  it('refuses a bad value naming the flag and what is accepted (exit 2), prints the usage on --help (exit 0)', async () => {
    const bad = await run(['--timeout=0s']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('"0s" is not a duration above 0 such as 30s or 2m');
    const ns = await run(['--namespace=Not_A_Namespace']);
    expect(ns.code).toBe(2);
    expect(ns.err).toContain('"Not_A_Namespace" is not a valid namespace name');
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('InstallRemoved');
  });
});
