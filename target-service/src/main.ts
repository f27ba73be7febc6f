// Entry point of the demo target: `PORT=8000 npx tsx target-service/src/main.ts`
// (compiled: `node dist/target-service/src/main.js`).
import { parseTargetConfig } from './config.js';
import { jsonLogger } from './log.js';
import { boundPort, closeGracefully, createTargetApp, listen } from './server.js';

const log = jsonLogger();

async function main(): Promise<void> {
  const config = parseTargetConfig(process.argv.slice(2), process.env);
  const target = await createTargetApp({ hostPaths: config.hostPaths });
  const server = await listen(target.app, config.port, config.host);
  log('info', 'listening', {
    host: config.host,
    port: boundPort(server),
    temperatureSensor: target.temperatureSensor?.name ?? null,
    ...config.hostPaths,
  });

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) {
      log('warn', 'second signal, exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    log('info', 'shutting down', { signal, graceMs: config.shutdownGraceMs });
    const { forced } = await closeGracefully(server, config.shutdownGraceMs);
    target.stop();
    log(forced ? 'warn' : 'info', 'stopped', { forced });
    process.exit(0);
  };
  process.on('SIGTERM', (signal) => void shutdown(signal));
  process.on('SIGINT', (signal) => void shutdown(signal));
}

main().catch((err: unknown) => {
  log('error', 'failed to start', { error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
