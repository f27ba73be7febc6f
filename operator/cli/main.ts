// `vigil <command>`: one program for the CLI, the operator and the sync sidecar.
// Each subcommand lives in its own module, imported only when it runs, so `vigil render`
// does not load the Kubernetes client and a build without some command still starts.

export interface Subcommand {
  summary: string;
  /** Resolves to the command's entry point: argv after the command name -> exit code. */
  load: () => Promise<(argv: string[]) => Promise<number>>;
}

export const SUBCOMMANDS: Record<string, Subcommand> = {
  render: {
    summary: 'validate MonitoredService YAML files and write the Prometheus/Alertmanager config they produce',
    load: async () => (await import('./render-command.js')).runRenderCommand,
  },
  operator: {
    summary: 'run the controller that turns MonitoredServices into the generated ConfigMap and Secret',
    load: async () => (await import('./operator-command.js')).runOperatorCommand,
  },
  'test-email': {
    summary: "send a test email through a MonitoredService's own route and print what status.testEmail says",
    load: async () => (await import('./test-email-command.js')).runTestEmailCommand,
  },
  uninstall: {
    summary: 'end an install before helm uninstall deletes it: its MonitoredServices say InstallRemoved and are free for another install',
    load: async () => (await import('./uninstall-command.js')).runUninstallCommand,
  },
  sync: {
    summary: 'run the sidecar that writes the generated config next to Prometheus/Alertmanager and reloads them',
    load: async () => (await import('./sync-command.js')).runSyncCommand,
  },
};

export const USAGE = `Usage: vigil <command> [options]

Commands:
${Object.entries(SUBCOMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run "vigil <command> --help" for the options of a command.`;

function isMissingModule(err: unknown, file: string): boolean {
  const e = err as { code?: string; message?: string; url?: string };
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module/.test(e?.message ?? '')) && `${e.url ?? ''} ${e.message ?? ''}`.includes(file);
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    (name === undefined ? console.error : console.log)(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = SUBCOMMANDS[name];
  if (!command) {
    console.error(`vigil: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  let run: (argv: string[]) => Promise<number>;
  try {
    run = await command.load();
  } catch (err) {
    if (isMissingModule(err, `${name}-command`)) {
      console.error(`vigil ${name}: not available in this build yet`);
      return 2;
    }
    throw err;
  }
  return run(rest);
}

// Run when executed directly (bin/vigil.js imports this module and calls main itself).
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`vigil: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}
