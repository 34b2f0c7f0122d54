// Every process the bench starts goes through here, so that all of them die with
// the bench: servers run in their own process group (so nginx's worker or Herald's
// cluster workers go too) under `timeout -s KILL` (a hard bound even if the bench
// itself is SIGKILLed), and exit, SIGINT, SIGTERM or a crash kill every group left.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { liveParentOf } from './proc-stats.js';

const groups = new Set<number>();
const singles = new Set<number>();
const cleanups = new Set<() => void>();

/** A synchronous cleanup (e.g. removing a temp dir) for the exit sweep; returns its remover. */
export function onCleanup(fn: () => void): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export const HAS_TASKSET = hasCommand('taskset');
const HAS_TIMEOUT = hasCommand('timeout');

export interface ServerProcess {
  readonly child: ChildProcess;
  /** Root of the process tree (measure CPU and RSS over its descendants too). */
  readonly pid: number;
  /** The last few KB of its stdout and stderr, for error messages. */
  output(): string;
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  /** taskset CPU list, e.g. "0"; undefined: not pinned. */
  readonly cpus?: string;
  readonly lifetimeSeconds: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Also keep all of its stdout and stderr in this file (e.g. for `--trace-gc`). */
  readonly outputFile?: string;
}

export function spawnServer(command: string, args: readonly string[], options: SpawnOptions): ServerProcess {
  const argv = [command, ...args];
  if (options.cpus !== undefined && HAS_TASKSET) argv.unshift('taskset', '-c', options.cpus);
  if (HAS_TIMEOUT) argv.unshift('timeout', '-s', 'KILL', String(options.lifetimeSeconds));
  const child = spawn(argv[0]!, argv.slice(1), {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${command}`);
  groups.add(pid);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-4096);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  if (options.outputFile !== undefined) {
    const file = createWriteStream(options.outputFile, { flags: 'a' });
    child.stdout?.pipe(file, { end: false });
    child.stderr?.pipe(file, { end: false });
    child.once('close', () => file.end());
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    pid,
    output: () => tail,
    stop: async (graceMs = 3000) => {
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(pid, 'SIGTERM');
        const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      // The leader may exit before the rest of its group (nginx's worker, cluster workers).
      killGroup(pid, 'SIGKILL');
      groups.delete(pid);
    },
  };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Registers a single process (a forked load-generator worker) for the exit sweep. */
export function trackProcess(pid: number): void {
  singles.add(pid);
}

export function killEverything(): void {
  for (const pid of groups) killGroup(pid, 'SIGKILL');
  for (const pid of singles) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  groups.clear();
  singles.clear();
  for (const fn of cleanups) {
    try {
      fn();
    } catch {
      // Best effort while exiting.
    }
  }
  cleanups.clear();
}

/**
 * Our ancestors up to init. `npm run` under `sh -c` may die of a SIGTERM without
 * passing it on, which would leave the bench running orphaned: polled, so that the
 * bench stops as soon as whatever started it is gone.
 */
function watchAncestors(onGone: () => void): void {
  const chain: number[] = [];
  for (let pid = process.ppid; pid > 1 && chain.length < 32; ) {
    chain.push(pid);
    pid = liveParentOf(pid) ?? 0;
  }
  setInterval(() => {
    if (chain.some((pid) => liveParentOf(pid) === undefined)) onGone();
  }, 500).unref();
}

/** Installs the exit sweep; call once, first thing. */
export function installCleanup(): void {
  watchAncestors(() => {
    process.stderr.write('\nbench: the process that started it is gone, stopping every child process\n');
    killEverything();
    process.exit(129);
  });
  process.on('exit', killEverything);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping every child process\n`);
      killEverything();
      process.exit(130);
    });
  }
  const crash = (error: unknown): void => {
    process.stderr.write(`bench: crashed: ${String((error as Error)?.stack ?? error)}\n`);
    killEverything();
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}
