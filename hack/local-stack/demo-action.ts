// `make outage` / `make restore`: stop (or start) the demo target of a running `make local-up` and wait,
// with progress, until the firing (or resolved) email is in the mail catcher. When the email does not come,
// the error names the components that are not running or not answering (issue #15), from the stack's
// control API; a generic "timed out" would leave the user to find the dead one.
import { control, type StackState, stackStatus } from './control.js';
import { MailpitClient, waitForAlertEmail, type AlertState } from './mailpit.js';
import { timeoutReport } from './supervisor.js';

export interface DemoActionOptions {
  /** How long to wait for the email; default the alert bound + 60 s. */
  timeoutMs?: number;
  /** Progress and result lines; default stdout. */
  print?: (line: string) => void;
}

/** Runs `make outage` (action 'outage') or `make restore`; throws on a timeout with the report of dead components. */
export async function demoAction(action: 'outage' | 'restore', state: StackState, o: DemoActionOptions = {}): Promise<void> {
  const print = o.print ?? ((line: string) => console.log(line));
  const tty = o.print === undefined && process.stdout.isTTY;
  const mail = new MailpitClient(state.mailApiUrl);
  const { namespace, name } = state.demo;
  const expected: AlertState = action === 'outage' ? 'firing' : 'resolved';
  const timeoutMs = o.timeoutMs ?? (state.boundSeconds + 60) * 1000;

  let since: number;
  if (action === 'outage') {
    print(`stopping the demo target ${namespace}/${name} ...`);
    since = (await control(state, '/target/stop')).stoppedAt ?? Date.now();
    print(`target stopped; waiting for the firing email (bound S + E + ceil(F/E)*E + 2 s = ${state.boundSeconds} s)`);
  } else {
    print(`starting the demo target ${namespace}/${name} ...`);
    since = (await control(state, '/target/start')).startedAt ?? Date.now();
    print('target running again; waiting for the resolved email');
  }
  let lastLine = 0;
  let result: Awaited<ReturnType<typeof waitForAlertEmail>>;
  try {
    result = await waitForAlertEmail(mail, {
      state: expected,
      namespace,
      name,
      since,
      timeoutMs,
      // A ticking counter on a terminal; a line every 5 s when the output goes to a file or CI log.
      onProgress: (s) => {
        if (tty) process.stdout.write(`\r  waiting ${s.toFixed(0).padStart(3)} s ...`);
        else if (s - lastLine >= 5) {
          lastLine = s;
          print(`  waiting ${s.toFixed(0)} s ...`);
        }
      },
    });
  } catch (err) {
    if (tty) process.stdout.write('\r\x1b[K');
    throw new Error(await explainTimeout((err as Error).message, state));
  }
  if (tty) process.stdout.write('\r\x1b[K');
  const { mail: email, elapsedS } = result;
  const to = (email.To ?? []).map((a) => a.Address).join(', ');
  print(`${expected} email after ${elapsedS.toFixed(1)} s${action === 'outage' ? ` (bound ${state.boundSeconds} s)` : ''}`);
  print(`  Subject: ${email.Subject}`);
  print(`  To:      ${to}`);
  print(`  Open:    ${state.mailApiUrl}/view/${email.ID}`);
}

/** The timeout (or mail catcher) error plus which components are dead, or that the stack process itself is gone. */
async function explainTimeout(message: string, state: StackState): Promise<string> {
  try {
    return timeoutReport(message, (await stackStatus(state)).components);
  } catch (err) {
    return `${message}\nthe local stack (pid ${state.pid}) does not answer on ${state.controlUrl} (${(err as Error).message}): is \`make local-up\` still running?`;
  }
}
