// `make outage` / `make restore` against a running `make local-up`: stop (or start) the demo
// target and wait, with progress, until the firing (or resolved) email is in the mail catcher.
import { control, readStackState } from './control.js';
import { MailpitClient, waitForAlertEmail, type AlertState } from './mailpit.js';

async function main(): Promise<void> {
  const action = process.argv[2];
  if (action !== 'outage' && action !== 'restore') throw new Error('usage: outage.ts outage|restore');
  const state = await readStackState();
  const mail = new MailpitClient(state.mailApiUrl);
  const { namespace, name } = state.demo;
  const expected: AlertState = action === 'outage' ? 'firing' : 'resolved';

  let since: number;
  if (action === 'outage') {
    console.log(`stopping the demo target ${namespace}/${name} ...`);
    since = (await control(state, '/target/stop')).stoppedAt ?? Date.now();
    console.log(`target stopped; waiting for the firing email (bound S + E + ceil(F/E)*E + 2 s = ${state.boundSeconds} s)`);
  } else {
    console.log(`starting the demo target ${namespace}/${name} ...`);
    since = (await control(state, '/target/start')).startedAt ?? Date.now();
    console.log('target running again; waiting for the resolved email');
  }
  let lastLine = 0;
  const { mail: email, elapsedS } = await waitForAlertEmail(mail, {
    state: expected,
    namespace,
    name,
    since,
    timeoutMs: (state.boundSeconds + 60) * 1000,
    // A ticking counter on a terminal; a line every 5 s when the output goes to a file or CI log.
    onProgress: (s) => {
      if (process.stdout.isTTY) process.stdout.write(`\r  waiting ${s.toFixed(0).padStart(3)} s ...`);
      else if (s - lastLine >= 5) {
        lastLine = s;
        console.log(`  waiting ${s.toFixed(0)} s ...`);
      }
    },
  });
  if (process.stdout.isTTY) process.stdout.write('\r\x1b[K');
  const to = (email.To ?? []).map((a) => a.Address).join(', ');
  console.log(`${expected} email after ${elapsedS.toFixed(1)} s${action === 'outage' ? ` (bound ${state.boundSeconds} s)` : ''}`);
  console.log(`  Subject: ${email.Subject}`);
  console.log(`  To:      ${to}`);
  console.log(`  Open:    ${state.mailApiUrl}/view/${email.ID}`);
}

main().catch((err: unknown) => {
  console.error(`\n${(err as Error).message}`);
  process.exit(1);
});
