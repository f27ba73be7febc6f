// `vigil uninstall`: what the chart's pre-delete hook runs with the operator's own ServiceAccount
// before `helm uninstall` deletes the release. Marks the install's Lease removed, waits until its
// operator writes no more, and leaves every MonitoredService it claims with status InstallRemoved
// and no claim, so that nothing stays green without a writer and another install takes them over at
// once (controller/uninstall.ts).
import { loadKubeConfig, makeClients } from '../kube/client.js';
import { createLogger } from '../observability/index.js';
import { removeInstall } from '../controller/uninstall.js';
import { commaList, defineCommand, envFooter, type Env, type FlagValues, kubeconfigFlag, logLevelFlag, namespaceFlag, namespaceName, positiveDurationMs, valueFlag } from './flags.js';
import { EXIT } from './service.js';

export const UNINSTALL_COMMAND = defineCommand({
  name: 'uninstall',
  synopsis: '[options]',
  description: `Ends an install before its objects are deleted (the chart's pre-delete hook runs it): marks its Lease removed, waits until
its operator stops writing, then sets every MonitoredService the install claims (status.install) to Ready=False,
reason InstallRemoved, and removes the claim, so that another install whose scope selects it takes it over at once.`,
  flags: {
    kubeconfig: kubeconfigFlag,
    namespace: namespaceFlag('the install namespace being removed'),
    'watch-namespaces': valueFlag({
      placeholder: '<a,b>',
      help: "the install's --watch-namespaces (where its claims can be)",
      parse: commaList(namespaceName),
      default: (): string[] => [],
      defaultHelp: 'all',
    }),
    timeout: valueFlag({
      placeholder: '<time>',
      help: 'how long to wait for the operator to stop writing (a Prometheus duration)',
      parse: positiveDurationMs,
      default: 120_000,
      defaultHelp: '2m',
    }),
    'log-level': logLevelFlag,
  },
  footer: [envFooter('VIGIL_WATCH_NAMESPACES=team-a,team-b'), `Exit status: ${EXIT.OK} done, ${EXIT.FAILED} failed (nothing or only part written; run it again), ${EXIT.USAGE} usage error.`],
});

export interface UninstallIO {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Env;
}

const defaultIO: UninstallIO = { out: (l) => console.log(l), err: (l) => console.error(l), env: process.env };

export async function runUninstallCommand(argv: string[], io: UninstallIO = defaultIO): Promise<number> {
  let args: FlagValues<typeof UNINSTALL_COMMAND.flags> | 'help';
  try {
    args = UNINSTALL_COMMAND.parse(argv, io.env);
  } catch (err) {
    io.err(`vigil uninstall: ${(err as Error).message}\n\n${UNINSTALL_COMMAND.usage}`);
    return EXIT.USAGE;
  }
  if (args === 'help') {
    io.out(UNINSTALL_COMMAND.usage);
    return EXIT.OK;
  }
  const log = createLogger('uninstall', args['log-level'], io.err);
  try {
    const result = await removeInstall({
      clients: makeClients(loadKubeConfig(args.kubeconfig)),
      namespace: args.namespace,
      watchNamespaces: args['watch-namespaces'],
      timeoutMs: args.timeout,
      log,
    });
    io.out(`install ${args.namespace} removed: ${result.released.length} MonitoredService(s) now say InstallRemoved${result.released.length > 0 ? ` (${result.released.join(', ')})` : ''}`);
    return EXIT.OK;
  } catch (err) {
    io.err(`vigil uninstall: ${(err as Error).message}`);
    return EXIT.FAILED;
  }
}
