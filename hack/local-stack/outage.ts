// `make outage` / `make restore` against a running `make local-up` (the CLI around demoAction).
import { readStackState } from './control.js';
import { demoAction } from './demo-action.js';

async function main(): Promise<void> {
  const action = process.argv[2];
  if (action !== 'outage' && action !== 'restore') throw new Error('usage: outage.ts outage|restore');
  await demoAction(action, await readStackState());
}

main().catch((err: unknown) => {
  console.error(`\n${(err as Error).message}`);
  process.exit(1);
});
