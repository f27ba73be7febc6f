#!/usr/bin/env node
// Entry point of `vigil` (npx vigil, the operator image). In a checkout the TypeScript sources run
// through tsx, so no build step is needed and a stale dist/ can never shadow the sources; the image
// ships only compiled JS in dist/ and no tsx.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, '..', 'cli', 'main.ts');
const built = join(here, '..', '..', 'dist', 'operator', 'cli', 'main.js');

async function registerTsx() {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    return true;
  } catch {
    return false; // production image: dev dependencies are not installed
  }
}

let entry;
if (existsSync(source) && (await registerTsx())) {
  entry = pathToFileURL(source).href;
} else if (existsSync(built)) {
  entry = pathToFileURL(built).href;
} else {
  console.error('vigil: neither the sources (with tsx) nor a build in dist/ were found; run `npm ci` or `npm run build`');
  process.exit(2);
}
const { main } = await import(entry);
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  console.error(`vigil: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
}
