#!/usr/bin/env node
// `herald serve [options]`: the only entry point that reads argv/env and picks a store.
// Exit status: 0 clean stop, 1 failure while running, 2 bad option/configuration or busy port.
import cluster from 'node:cluster';
import { backupSqlite } from './backup.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, helpText, loadConfig, type Config } from './config.js';
import { HeraldError } from './errors.js';
import { startHerald } from './herald.js';
import { createLogger } from './log.js';
import { shutdownOnSignal } from './shutdown.js';
import { isPrimaryOfWorkers, runPrimary } from './workers.js';

const USAGE_ERROR = 2;

// A reader that goes away (`herald --help | head -1`) must not crash the process.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

function version(): string {
  // ../package.json from both src/ (tsx) and dist/ (built).
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function usageError(message: string): number {
  process.stderr.write(`herald: ${message}\n`);
  return USAGE_ERROR;
}

/** Where the SQLite file is, absolute: a relative --store depends on the directory Herald started in. */
function dataFile(config: Config): string | undefined {
  return config.store.startsWith('sqlite:') ? resolve(config.store.slice('sqlite:'.length)) : undefined;
}

/** `herald backup <file> [--store sqlite:<path>]`: the store option as `serve` reads it. */
async function backup(args: string[]): Promise<number> {
  const [target, ...options] = args;
  if (target === undefined || target.startsWith('-')) return usageError('usage: herald backup <file> [--store sqlite:<path>]');
  try {
    const result = await backupSqlite(loadConfig(options, process.env).store, target);
    process.stdout.write(`backed up ${result.source} to ${result.target} (${result.pages} pages, ${result.ms} ms)\n`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) return usageError(error.message);
    throw error;
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v' || command === 'version' || rest.includes('--version')) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${helpText()}\n`);
    return command === undefined ? USAGE_ERROR : 0;
  }
  if (command === 'backup') return backup(rest);
  if (command !== 'serve') return usageError(`unknown command "${command}". Run "herald serve --help".`);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig(rest, process.env);
  } catch (error) {
    if (error instanceof ConfigError) return usageError(error.message);
    throw error;
  }
  const logger = createLogger(config.logLevel);
  if (isPrimaryOfWorkers(config.workers)) return runPrimary(config.workers, logger);
  const file = dataFile(config);
  if (file !== undefined && !cluster.isWorker) logger.info({ dataFile: file }, `data kept in ${file}`);
  let herald;
  try {
    herald = await startHerald(config, logger);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      return usageError(`port ${config.port} on ${config.host} is already in use (another Herald?): stop that process or choose another with --port`);
    }
    if (error instanceof HeraldError && error.code === 'invalid_config') return usageError(error.message);
    throw error;
  }
  logger.info({ url: herald.url, store: herald.broker.description }, `Herald listening on ${herald.url}`);
  return shutdownOnSignal(herald, {
    logger,
    timeoutMs: config.shutdownTimeoutMs,
    retryMs: config.shutdownRetryMs,
    // The primary relays the signal systemd also sent the whole group.
    secondSignalForces: !cluster.isWorker,
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`herald: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
