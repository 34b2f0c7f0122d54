// A private redis-server for `herald --workers N` (workers share the store through
// Redis): started on a free port, pinned with the hub, no persistence, and measured
// as part of the server, since a clustered Herald costs what its Redis costs too.
// Using the shared Redis at :6379 would hide that cost and collide with other runs.
import { spawnSync } from 'node:child_process';
import { spawnServer, type ServerProcess } from '../proc/children.js';
import { HOST, freePort } from './target.js';

export const REDIS_SERVER = 'redis-server';

export function hasRedisServer(): boolean {
  return spawnSync('sh', ['-c', `command -v ${REDIS_SERVER}`], { stdio: 'ignore' }).status === 0;
}

export interface PrivateRedis {
  readonly url: string;
  readonly process: ServerProcess;
}

async function waitReady(proc: ServerProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`redis-server exited:\n${proc.output()}`);
    if (/ready to accept connections/i.test(proc.output())) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server not ready after ${timeoutMs} ms:\n${proc.output()}`);
}

export async function startRedis(options: { cpus?: string; lifetimeSeconds: number }): Promise<PrivateRedis> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'notice'];
  const proc = spawnServer(REDIS_SERVER, args, options);
  try {
    await waitReady(proc, 10_000);
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return { url: `redis://${HOST}:${port}/0`, process: proc };
}
