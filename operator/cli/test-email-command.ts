// `vigil test-email <namespace>/<name>`: asks for a test email the way the docs say to, by setting
// the vigil.dev/test-email annotation to a new token, then waits for the operator to record the
// outcome in status.testEmail and prints it. It needs what `kubectl annotate` needs (patch on the
// MonitoredService, get to read its status), nothing of the operator's.
import { API_GROUP, API_VERSION, PLURAL, type TestEmailStatus } from '../api/schema.js';
import { describeApiError, loadKubeConfig, MERGE_PATCH, makeClients, type KubeClients } from '../kube/client.js';
import { TEST_EMAIL_ANNOTATION } from '../render/test-email.js';
import { defineCommand, type FlagValues, kubeconfigFlag, positiveDurationMs, UsageError, valueFlag } from './flags.js';
import { EXIT } from './service.js';

export const TEST_EMAIL_COMMAND = defineCommand({
  name: 'test-email',
  synopsis: '<namespace>/<name> [--timeout <time>] [--kubeconfig <path>]',
  description: `Sends a test email through the MonitoredService's own route: sets its annotation
${TEST_EMAIL_ANNOTATION} to a new token (as kubectl annotate ms -n <namespace> <name> ${TEST_EMAIL_ANNOTATION}=$(date +%s) --overwrite
does), waits until the operator records the result in status.testEmail and prints it.`,
  flags: {
    kubeconfig: kubeconfigFlag,
    timeout: valueFlag({
      placeholder: '<time>',
      help: 'how long to wait for the result (a Prometheus duration); the test alert may still be sent later',
      parse: positiveDurationMs,
      default: 60_000,
      defaultHelp: '1m',
      env: false,
    }),
  },
  footer: [`Exit status: ${EXIT.OK} Alertmanager accepted the test alert (Sent), ${EXIT.FAILED} Failed, Refused or no result in time, ${EXIT.USAGE} usage error.`],
});

export interface TestEmailIO {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Record<string, string | undefined>;
  /** The new token; default: the current time in seconds, as `date +%s` gives it. */
  token?: () => string;
}

const defaultIO: TestEmailIO = { out: (l) => console.log(l), err: (l) => console.error(l), env: process.env };

/** `<namespace>/<name>` -> its parts, or a UsageError saying what is accepted. */
export function parseObjectArgument(raw: string | undefined): { namespace: string; name: string } {
  const m = raw === undefined ? null : /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(raw);
  if (!m) throw new UsageError(`give the MonitoredService as <namespace>/<name>, e.g. shop/checkout${raw === undefined ? '' : ` (got "${raw}")`}`);
  return { namespace: m[1] as string, name: m[3] as string };
}

/** The arguments that are neither a flag nor the value of a flag that takes one (`--timeout 30s`), and the rest. */
export function splitPositional(argv: readonly string[]): { positional: string[]; flags: string[] } {
  const takesValue = new Set(
    Object.entries(TEST_EMAIL_COMMAND.flags)
      .filter(([, f]) => f.type === 'string')
      .map(([name]) => `--${name}`),
  );
  const positional: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('-')) positional.push(a);
    else {
      flags.push(a);
      if (takesValue.has(a) && i + 1 < argv.length) flags.push(argv[++i] as string);
    }
  }
  return { positional, flags };
}

async function readTestEmail(clients: KubeClients, namespace: string, name: string): Promise<TestEmailStatus | undefined> {
  const obj = (await clients.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, plural: PLURAL, namespace, name })) as { status?: { testEmail?: TestEmailStatus } };
  return obj.status?.testEmail;
}

export async function runTestEmailCommand(argv: string[], io: TestEmailIO = defaultIO): Promise<number> {
  const usage = TEST_EMAIL_COMMAND.usage;
  let args: FlagValues<typeof TEST_EMAIL_COMMAND.flags> | 'help';
  let ref: { namespace: string; name: string };
  try {
    const { positional, flags } = splitPositional(argv);
    args = TEST_EMAIL_COMMAND.parse(flags, io.env);
    if (args === 'help') {
      io.out(usage);
      return EXIT.OK;
    }
    if (positional.length > 1) throw new UsageError(`one MonitoredService at a time (got ${positional.join(', ')})`);
    ref = parseObjectArgument(positional[0]);
  } catch (err) {
    io.err(`vigil test-email: ${(err as Error).message}\n\n${usage}`);
    return EXIT.USAGE;
  }
  const object = `MonitoredService ${ref.namespace}/${ref.name}`;
  const token = (io.token ?? (() => String(Math.floor(Date.now() / 1000))))();
  const clients = makeClients(loadKubeConfig(args.kubeconfig));
  try {
    await clients.custom.patchNamespacedCustomObject(
      { group: API_GROUP, version: API_VERSION, plural: PLURAL, ...ref, body: { metadata: { annotations: { [TEST_EMAIL_ANNOTATION]: token } } } },
      MERGE_PATCH,
    );
  } catch (err) {
    io.err(`vigil test-email: cannot annotate ${object}: ${describeApiError(err)}`);
    return EXIT.FAILED;
  }
  io.out(`${object}: ${TEST_EMAIL_ANNOTATION}=${token} set; waiting for the operator (status.testEmail)`);
  const deadline = Date.now() + args.timeout;
  let last: TestEmailStatus | undefined;
  for (;;) {
    try {
      last = await readTestEmail(clients, ref.namespace, ref.name);
    } catch (err) {
      io.err(`vigil test-email: cannot read ${object}: ${describeApiError(err)}`);
    }
    if (last?.token === token && last.result !== 'Waiting') {
      (last.result === 'Sent' ? io.out : io.err)(`${object}: ${last.result}: ${last.message}`);
      return last.result === 'Sent' ? EXIT.OK : EXIT.FAILED;
    }
    if (Date.now() >= deadline) {
      const state = last?.token === token ? `${last.result}: ${last.message}` : 'the operator has not recorded it (is it running, and does its scope select this object?)';
      io.err(`vigil test-email: no result for token ${token} within ${Math.round(args.timeout / 1000)} s: ${state}`);
      return EXIT.FAILED;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
