// What the Redis bench (`npm run bench -- --redis`) runs on: a private Redis Cluster
// (topology-kit: real redis-server processes on free ports, pinned with the servers),
// Herald processes (dist/cli.js) on it, the masters' CPU from INFO, and the few HTTP
// calls the scenarios make (batch and single publishes, a stream reader).
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import type { Redis } from 'ioredis';
import { startClusterTopology, type ClusterTopology } from '../../src/broker/redis/topology-kit.js';
import { optionDocs } from '../../src/config.js';
import { HAS_TASKSET, onCleanup, spawnServer } from '../proc/children.js';
import { cpuBusyUs, cpuTimeUs, processTree } from '../proc/proc-stats.js';
import { HOST, freePort, waitHealthy } from '../targets/target.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** The sharded log's option, once it exists (issue 13); the bench compares 1 bucket with this many. */
export const LOG_BUCKETS_FLAG = '--redis-log-buckets';
export const HAS_LOG_BUCKETS = optionDocs().some((o) => o.flag === LOG_BUCKETS_FLAG);

export interface BenchCluster {
  readonly topology: ClusterTopology;
  /** The masters' process ids (for the server CPU's other tenants, see othersOnServerCpu). */
  readonly pids: readonly number[];
  /** used_cpu_sys + used_cpu_user of each current master, in µs, in `masters` order. */
  masterCpuUs(): Promise<number[]>;
  /**
   * Commands and read events (socket reads, i.e. requests and pipelines) every master
   * processed so far, summed: counts, so unlike CPU time they do not move with the box's load.
   */
  masterCounts(): Promise<{ commands: number; reads: number }>;
  stop(): Promise<void>;
}

export async function startBenchCluster(masters: 1 | 2 | 3, cpus: string | undefined): Promise<BenchCluster> {
  const topology = await startClusterTopology({ masters });
  const pids = topology.masters.map((m) => m.child.pid!);
  // Killed with the bench whatever happens (topology.stop() is the normal way).
  const forget = onCleanup(() => pids.forEach((pid) => process.kill(pid, 'SIGKILL')));
  if (cpus !== undefined && HAS_TASKSET) for (const pid of pids) spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  const clients: Redis[] = topology.masters.map((m) => m.client());
  return {
    topology,
    pids,
    async masterCpuUs() {
      return Promise.all(clients.map(async (client) => {
        const info = await client.info('cpu');
        const field = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
        return (field('used_cpu_sys') + field('used_cpu_user')) * 1e6;
      }));
    },
    async masterCounts() {
      const stats = await Promise.all(clients.map((client) => client.info('stats')));
      const sum = (name: string): number => stats.reduce((total, info) => total + Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1] ?? NaN), 0);
      return { commands: sum('total_commands_processed'), reads: sum('total_reads_processed') };
    },
    async stop() {
      await topology.stop();
      forget();
    },
  };
}

export interface BenchHerald {
  readonly url: string;
  readonly pid: number;
  readonly token: string;
  cpuUs(): number;
  stop(): Promise<void>;
}

/** `options.cli`: another build's dist/cli.js (--before); default this checkout's. */
export async function startHerald(store: string, prefix: string, extra: readonly string[], options: { cpus?: string; lifetimeSeconds: number; cli?: string }): Promise<BenchHerald> {
  const port = await freePort();
  const secret = randomBytes(32).toString('hex');
  const token = await new SignJWT({ mercure: { publish: ['*'] } }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
  const proc = spawnServer(process.execPath, [options.cli ?? CLI, 'serve', '--port', String(port), '--host', HOST, '--store', store, '--redis-prefix', prefix,
    '--publisher-jwt-key', secret, '--log-level', 'warn', '--no-chat', '--no-subscriptions', '--heartbeat', '0', '--history-max-per-topic', '0', ...extra], options);
  try {
    await waitHealthy(proc, port, '/readyz', 30_000);
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return {
    url: `http://${HOST}:${port}`,
    pid: proc.pid,
    token,
    // The root is the `timeout`/`taskset` wrapper: Herald is a descendant.
    cpuUs: () => cpuTimeUs(processTree(proc.pid)),
    stop: () => proc.stop(),
  };
}

/** Herald's JSON batch: one request, `updates.length` publishes. Rejects unless 200. */
export async function publishBatch(herald: BenchHerald, updates: ReadonlyArray<{ topic: string; data: string }>): Promise<void> {
  const response = await fetch(`${herald.url}/.well-known/mercure`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${herald.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ updates }),
  });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`batch publish answered ${response.status}: ${body.slice(0, 200)}`);
}

/** One form publish; resolves with the status. */
export async function publishOne(herald: BenchHerald, fields: Record<string, string>): Promise<number> {
  const response = await fetch(`${herald.url}/.well-known/mercure`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${herald.token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  await response.text();
  return response.status;
}

/** A stream reader calling `onEvent(id, data)` per event; `close()` aborts it. */
export async function readStream(url: string, headers: Record<string, string>, onEvent: (id: string, data: string) => void): Promise<{ close(): void }> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: controller.signal });
  if (response.status !== 200) throw new Error(`subscribe answered ${response.status}: ${await response.text()}`);
  void (async () => {
    let buffer = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: ?(.*)$/m.exec(block)?.[1];
        const data = /^data: ?(.*)$/m.exec(block)?.[1];
        if (id !== undefined) onEvent(id, data ?? '');
      }
    }
  })().catch(() => undefined);
  return { close: () => controller.abort() };
}

/**
 * Busy time of the server's CPU (pinned: one CPU) not spent by `roots`' process trees
 * over a window, in % of that CPU: other tenants (another bench, a test run) whose
 * work lands in the latency. NaN when not pinned to a single CPU.
 */
export function othersOnServerCpu(cpus: string | undefined, roots: readonly number[]): () => number {
  const cpu = cpus !== undefined && /^\d+$/.test(cpus) ? Number(cpus) : undefined;
  const ours = (): number => cpuTimeUs(roots.flatMap(processTree));
  const [busy, own, wall] = [cpu === undefined ? NaN : cpuBusyUs(cpu), ours(), performance.now()];
  return () => {
    if (cpu === undefined) return NaN;
    const others = cpuBusyUs(cpu) - busy - (ours() - own);
    return Math.max(0, (others / 1000 / (performance.now() - wall)) * 100);
  };
}

/** CPU of this process (the load generator) over a window, in % of one CPU. */
export function loadCpuWindow(): () => number {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  return () => {
    const used = process.cpuUsage(cpu);
    return ((used.user + used.system) / 1000 / (performance.now() - wall)) * 100;
  };
}
