// Both sides of the IPC between the bench orchestrator and its load-generator
// processes: the worker answers named commands, the orchestrator sends them and
// awaits replies. A worker exits as soon as its parent goes away (IPC disconnect),
// and after a hard lifetime, so a crashed bench never leaves load generators behind.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerReply, WorkerRequest } from './protocol.js';

export type CommandHandlers = Record<string, (args: unknown) => unknown>;

const served: CommandHandlers = {};
let listening = false;

/**
 * Worker side: answer commands until the parent disconnects. Several roles may serve
 * from one process (each call adds its commands; a name both define runs both).
 */
export function serveCommands(handlers: CommandHandlers, maxLifetimeMs: number): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('a bench worker must be started with an IPC channel');
  for (const [name, handler] of Object.entries(handlers)) {
    const before = served[name];
    served[name] = before === undefined ? handler : async (args) => (await before(args), handler(args));
  }
  if (listening) return;
  listening = true;
  process.on('disconnect', () => process.exit(0));
  setTimeout(() => process.exit(3), maxLifetimeMs).unref();
  process.on('message', (raw) => {
    const request = raw as WorkerRequest;
    const handler = served[request.cmd];
    const reply = (r: WorkerReply): void => {
      if (process.connected) send(r);
    };
    if (!handler) {
      reply({ id: request.id, ok: false, error: `unknown command ${request.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(request.args))
      .then(
        (result) => reply({ id: request.id, ok: true, result }),
        (error: unknown) => reply({ id: request.id, ok: false, error: String((error as Error)?.stack ?? error) }),
      );
  });
}

export interface WorkerOptions {
  /** CPU list for taskset (e.g. "1"); undefined: not pinned. */
  readonly cpus?: string;
  readonly maxLifetimeMs: number;
}

/** Orchestrator side: one forked worker process. */
export class WorkerHandle {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exitError: Error | undefined;
  readonly child: ChildProcess;

  constructor(
    readonly name: string,
    script: string,
    options: WorkerOptions,
  ) {
    const path = fileURLToPath(new URL(script, import.meta.url));
    const node = [process.execPath, '--import', 'tsx'];
    // taskset execs node in place, so the pid and the IPC fd are node's own.
    const pinned = options.cpus !== undefined;
    this.child = fork(path, [], {
      execPath: pinned ? 'taskset' : process.execPath,
      execArgv: pinned ? ['-c', options.cpus!, ...node] : node.slice(1),
      env: { ...process.env, BENCH_WORKER_LIFETIME_MS: String(options.maxLifetimeMs) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    this.child.on('message', (raw) => {
      const reply = raw as WorkerReply;
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new Error(`${this.name}: ${reply.error}`));
    });
    this.child.on('exit', (code, signal) => {
      this.exitError = new Error(`${this.name} exited (code ${code}, signal ${signal})`);
      for (const waiter of this.pending.values()) waiter.reject(this.exitError);
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  request<T>(cmd: string, args?: unknown, timeoutMs = 120_000): Promise<T> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, cmd, args } satisfies WorkerRequest);
    });
  }

  /** Closes the IPC channel (the worker exits on it), then kills after a grace period. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

export function workerLifetimeMs(): number {
  return Number(process.env.BENCH_WORKER_LIFETIME_MS ?? 900_000);
}
