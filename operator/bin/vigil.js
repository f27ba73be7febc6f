#!/usr/bin/env node
// Entry point of `vigil` (npx vigil, the operator image). In a checkout the TypeScript sources run
// through tsx, so no build step is needed and a stale dist/ can never shadow the sources; the image
// ships only compiled JS in dist/ and no tsx.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

// Vigil needs Node 24 (client-node 2 / undici 8 crash on Node 20). `make deps` installs it from the
// npm registry into node_modules (Linux; on macOS the machine's Node 24 is used); `npx vigil` on a machine whose PATH has an older Node runs this file
// with that one, so hand over to the pinned Node (package.json carries no "engines" field, whose
// only effect was npm's EBADENGINE warnings on every npx run: issue #11).
const pinnedNode = join(here, '..', '..', 'node_modules', `node-${process.platform}-${process.arch}`, 'bin', 'node');
if (Number(process.versions.node.split('.')[0]) < 24 && existsSync(pinnedNode)) {
  const child = spawnSync(pinnedNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}
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
