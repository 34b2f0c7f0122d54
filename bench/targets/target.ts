// What the orchestrator knows about a server under test: how to start it pinned,
// where its subscribers connect and how its publishes look, and its process tree
// for CPU/RSS. Herald, nchan and the tutorial baseline each implement it.
import { request } from 'node:http';
import type { PublishSpec, SubscribeSpec } from '../loadgen/protocol.js';
import type { ServerProcess } from '../proc/children.js';

export interface StartOptions {
  /** taskset CPU list for the server, undefined: not pinned. */
  readonly cpus?: string;
  /** Hard lifetime of the server process (killed past it even if the bench is gone). */
  readonly lifetimeSeconds: number;
  /** Expected number of subscriber connections (sizes limits and buffers). */
  readonly maxConnections: number;
}

export interface RunningTarget {
  readonly host: string;
  readonly port: number;
  /** The server's process (tree), for start errors. */
  readonly process: ServerProcess;
  /** Roots of every process tree the server's cost is summed over (e.g. Herald + its Redis). */
  readonly roots: readonly number[];
  /** Counts the server's JS heap allocation over a window (Herald only). */
  readonly alloc?: { begin(): void; end(): Promise<number | undefined> };
  subscribeSpec(topicCount: number): SubscribeSpec;
  publishSpec(topicCount: number): PublishSpec;
  stop(): Promise<void>;
}

export interface Target {
  /** Row label in the report, e.g. "herald", "nchan", "tutorial", "herald --workers 2". */
  readonly name: string;
  /** null when it can run here, or why it is skipped. */
  unavailable(): Promise<string | null>;
  start(options: StartOptions): Promise<RunningTarget>;
}

export const HOST = '127.0.0.1';

/** Bench topics are IRIs, as a Mercure client would use. */
export function topicIri(index: number): string {
  return `https://bench.herald.test/t/${index}`;
}

export function topicIris(count: number): string[] {
  return Array.from({ length: count }, (_, i) => topicIri(i));
}

export { freePort } from '../../scripts/cluster/ports.js';

function getStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: HOST, port, path, method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Polls `path` until 200; fails early when the process exits, or after `timeoutMs`. */
export async function waitHealthy(proc: ServerProcess, port: number, path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`server exited during start:\n${proc.output()}`);
    }
    if ((await getStatus(port, path)) === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server not healthy on ${path} after ${timeoutMs} ms:\n${proc.output()}`);
}
