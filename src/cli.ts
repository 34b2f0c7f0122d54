#!/usr/bin/env node
// `herald serve [options]`: the only entry point that reads argv/env and picks a store.
import { ConfigError, helpText, loadConfig } from './config.js';
import { startHerald } from './herald.js';
import { createLogger } from './log.js';
import { shutdownOnSignal } from './shutdown.js';
import { isPrimaryOfWorkers, runPrimary } from './workers.js';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${helpText()}\n`);
    return command === undefined ? 1 : 0;
  }
  if (command !== 'serve') {
    process.stderr.write(`herald: unknown command "${command}". Run "herald serve --help".\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  let config;
  try {
    config = loadConfig(rest, process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`herald: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  if (isPrimaryOfWorkers(config.workers)) return runPrimary(config.workers, logger);
  const herald = await startHerald(config, logger);
  logger.info({ url: herald.url, store: herald.broker.description }, `Herald listening on ${herald.url}`);
  return shutdownOnSignal(herald, { logger, timeoutMs: config.shutdownTimeoutMs, retryMs: config.shutdownRetryMs });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`herald: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
