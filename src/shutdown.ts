// Graceful shutdown on SIGTERM/SIGINT: what was queued is written, every stream is
// told when to come back (`retry:`) and ended, the server stops accepting while
// requests in flight finish (so every 200 is stored), the store is flushed and
// closed. A shutdown that outlives its bound (a client that never lets go) ends
// the process anyway, with a log line saying so.
import { guarded } from './timers.js';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Herald } from './herald.js';

export interface ShutdownOptions {
  readonly logger: Logger;
  /** After this long the process exits with code 1 whatever is still open. */
  readonly timeoutMs: number;
  /** The reconnection delay told to streams; each gets a value in [0.5, 1.5) times it. */
  readonly retryMs: number;
  /** Tests replace these. */
  readonly exit?: (code: number) => void;
  readonly random?: () => number;
  readonly signals?: readonly NodeJS.Signals[];
  /**
   * Whether a second signal exits at once (a user pressing Ctrl-C twice). A cluster
   * worker says no: systemd signals the whole group and the primary relays the same
   * signal, so a worker routinely gets two and must still drain.
   */
  readonly secondSignalForces?: boolean;
}

/** How long past the deadline the watchdog waits before it kills the process. */
const WATCHDOG_GRACE_MS = 2000;

/**
 * A deadline no stuck main thread can starve: a thread of its own that kills the
 * process when the shutdown (and its own forced exit) has not ended it in time,
 * e.g. a synchronous write blocked on a full pipe. Unreferenced: never keeps it alive.
 */
function startWatchdog(ms: number): Worker {
  const source = `const { workerData } = require('node:worker_threads');
setTimeout(() => process.kill(process.pid, 'SIGKILL'), workerData);`;
  const watchdog = new Worker(source, { eval: true, workerData: ms });
  watchdog.unref();
  return watchdog;
}

/**
 * Spread over half to one and a half times `retryMs`: thousands of clients told
 * the same delay would all come back in the same instant.
 */
export function jitteredRetry(retryMs: number, random: () => number = Math.random): number {
  return Math.round(retryMs * (0.5 + random()));
}

/**
 * The server's open connections. Node's closeIdleConnections() skips a connection
 * that has not sent a byte yet, so one silent client (or a pre-opened pooled
 * socket) would hold a shutdown until it is forced.
 */
export function trackConnections(server: Pick<Server, 'on'>): Set<Socket> {
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return open;
}

/** Ends the streams with a retry hint, then closes the server and the store. Returns the streams told. */
export async function shutDown(herald: Herald, retryMs: number, random: () => number = Math.random, connections?: ReadonlySet<Socket>): Promise<number> {
  // Updates already received go out before the goodbye.
  const told = herald.hub.drain(() => jitteredRetry(retryMs, random));
  // Node closes idle keep-alive connections once, when the server starts closing; a
  // request in flight then would leave its connection open for keepAliveTimeout
  // after its answer. Sweeping until the server is closed lets it go at once.
  const server = herald.app.server as { closeIdleConnections?: () => void };
  const sweep = setInterval(guarded('shutdown sweep', () => {
    server.closeIdleConnections?.();
    for (const socket of connections ?? []) if (socket.bytesRead === 0) socket.destroy();
  }), 50);
  try {
    await herald.close();
  } finally {
    clearInterval(sweep);
  }
  return told;
}

/**
 * Waits for SIGTERM or SIGINT, then shuts down. Resolves with the exit code (0 when
 * everything closed in time). A second signal, or the timeout, exits at once.
 */
export function shutdownOnSignal(herald: Herald, options: ShutdownOptions): Promise<number> {
  const { logger, timeoutMs, retryMs } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const connections = trackConnections(herald.app.server);
  return new Promise((resolve) => {
    let startedAt: number | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (startedAt !== undefined) {
        if (options.secondSignalForces === false) {
          logger.info({ signal }, 'signal repeated during shutdown: still draining (the deadline stands)');
          return;
        }
        logger.warn({ signal }, 'second signal during shutdown: exiting now');
        exit(1);
        return;
      }
      startedAt = Date.now();
      logger.info({ signal, timeoutMs }, 'shutting down: telling streams to reconnect, finishing requests, flushing the store');
      const watchdog = options.exit === undefined ? startWatchdog(timeoutMs + WATCHDOG_GRACE_MS) : undefined;
      const force = setTimeout(() => {
        logger.error({ timeoutMs, openStreams: herald.hub.subscriberCount }, `shutdown still not done after ${timeoutMs} ms: forcing exit`);
        exit(1);
      }, timeoutMs);
      shutDown(herald, retryMs, options.random, connections).then(
        (told) => {
          clearTimeout(force);
          void watchdog?.terminate();
          logger.info({ streams: told, ms: Date.now() - startedAt! }, 'shut down cleanly');
          resolve(0);
        },
        (error: unknown) => {
          clearTimeout(force);
          void watchdog?.terminate();
          logger.error({ err: error, ms: Date.now() - startedAt! }, 'error while shutting down');
          resolve(1);
        },
      );
    };
    for (const signal of signals) process.on(signal, onSignal);
  });
}
