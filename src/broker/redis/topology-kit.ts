// Test support (not used by the hub): real redis-server processes on free loopback
// ports, in a temporary directory, without persistence. A Sentinel setup (one primary,
// one replica, three sentinels) and a three-master Cluster, each torn down with every
// process killed, pass or fail (`stop()`, registered by the caller in an after hook).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { canConnect, freePort } from '../../../scripts/cluster/ports.js';
import { isHeraldError } from '../../errors.js';
import { makeUpdate, type BrokerFactory, type BrokerHandle } from '../contract/contract.js';
import type { Broker } from '../types.js';
import { createRedisBroker, type RedisBroker, type RedisBrokerOptions } from './redis-broker.js';

export const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedisServer && process.env.CI) throw new Error('redis-server is required under CI for the Sentinel and Cluster tests');
/** `skip` for node:test when this machine has no redis-server. */
export const skipWithoutRedisServer: string | false = hasRedisServer ? false : 'redis-server is not installed';

export const MASTER_NAME = 'herald';

export interface RedisProcess {
  readonly port: number;
  readonly child: ChildProcess;
  /** A plain client on this server (its own connection, closed by the topology's stop()). */
  client(): Redis;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
}

/** Polls `check` every 50 ms until it is true; rejects after `ms` saying what it waited for. */
export async function waitFor(what: string, ms: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await Promise.resolve().then(check).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await sleep(50);
  }
}

class Processes {
  readonly dir = mkdtempSync(join(tmpdir(), 'herald-redis-topology-'));
  private readonly children = new Set<ChildProcess>();
  private readonly clients = new Set<Redis>();

  async start(args: readonly string[], port: number, configFile?: string): Promise<RedisProcess> {
    const child = spawn('redis-server', [...(configFile ? [configFile] : []), '--port', String(port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    });
    child.once('exit', () => this.children.delete(child));
    await waitFor(`redis-server on ${port} (${args.join(' ')}):\n${output}`, 10_000, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited:\n${output}`);
      return canConnect('127.0.0.1', port, 500);
    });
    const clients = this.clients;
    return {
      port,
      child,
      client() {
        const client = new Redis({ host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
        client.on('error', () => {});
        clients.add(client);
        return client;
      },
      async kill() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      },
    };
  }

  /** Kills every process, drops every client, deletes the directory. */
  async stop(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    const exits = [...this.children].map((child) => {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      return once(child, 'exit');
    });
    await Promise.all(exits);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface SentinelTopology {
  /** The --store URL naming all three sentinels. */
  readonly url: string;
  readonly primary: RedisProcess;
  readonly replica: RedisProcess;
  readonly sentinels: readonly RedisProcess[];
  /** The primary's port as the sentinels currently see it. */
  primaryPort(): Promise<number>;
  /** Starts an empty redis-server on a dead process's port, as a replica of the current primary. */
  restartAsReplica(dead: RedisProcess): Promise<RedisProcess>;
  stop(): Promise<void>;
}

/** One primary, one replica and three sentinels (quorum 2), failing over after 1 s without a primary. */
export async function startSentinelTopology(): Promise<SentinelTopology> {
  const processes = new Processes();
  try {
    const primary = await processes.start([], await freePort());
    const replica = await processes.start(['--replicaof', '127.0.0.1', String(primary.port)], await freePort());
    const sentinels: RedisProcess[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const file = join(processes.dir, `sentinel-${port}.conf`);
      writeFileSync(file, [
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primary.port} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
        `sentinel failover-timeout ${MASTER_NAME} 4000`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        '',
      ].join('\n'));
      sentinels.push(await processes.start(['--sentinel'], port, file));
    }
    const sentinelClients = sentinels.map((s) => s.client());
    // A failover needs each sentinel to know the replica and the two other sentinels (hello messages, every 2 s).
    await waitFor('the sentinels to find the replica and each other', 30_000, async () => {
      for (const client of sentinelClients) {
        const replicas = (await client.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[];
        const others = (await client.call('SENTINEL', 'SENTINELS', MASTER_NAME)) as unknown[];
        if (replicas.length < 1 || others.length < 2) return false;
      }
      return true;
    });
    const replicaClient = replica.client();
    await waitFor('the replica to sync', 10_000, async () => /master_link_status:up/.test(await replicaClient.info('replication')));
    const topology: SentinelTopology = {
      url: `redis-sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${MASTER_NAME}`,
      primary,
      replica,
      sentinels,
      async primaryPort() {
        const [, port] = (await sentinelClients[0]!.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string];
        return Number(port);
      },
      async restartAsReplica(dead) {
        const primaryPort = await topology.primaryPort();
        return processes.start(['--replicaof', '127.0.0.1', String(primaryPort)], dead.port);
      },
      stop: () => processes.stop(),
    };
    return topology;
  } catch (error) {
    await processes.stop();
    throw error;
  }
}

export interface ClusterTopology {
  /** The --store URL naming all three masters. */
  readonly url: string;
  readonly masters: readonly RedisProcess[];
  /** Which master owns `slot` right now (by CLUSTER SLOTS of the first master). */
  ownerOf(slot: number): Promise<RedisProcess>;
  /**
   * A live reshard of one slot, as `redis-cli --cluster reshard` does it: IMPORTING on
   * `to`, MIGRATING on the owner, MIGRATE `batch` keys at a time, then SETSLOT NODE on
   * every master. Resolves with the number of keys moved.
   */
  migrateSlot(slot: number, to: RedisProcess, batch: number): Promise<number>;
  stop(): Promise<void>;
}

/** A port whose cluster bus port (+10000) is free too. */
async function clusterPort(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = await freePort();
    if (port + 10_000 <= 65_535 && !(await canConnect('127.0.0.1', port + 10_000, 200))) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

/** Three masters, no replicas, the 16384 slots split evenly by `redis-cli --cluster create`. */
export async function startClusterTopology(): Promise<ClusterTopology> {
  const processes = new Processes();
  try {
    const masters: RedisProcess[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await clusterPort();
      masters.push(await processes.start(['--cluster-enabled', 'yes', '--cluster-config-file', join(processes.dir, `nodes-${port}.conf`), '--cluster-node-timeout', '3000'], port));
    }
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...masters.map((m) => `127.0.0.1:${m.port}`), '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.stdout}\n${created.stderr}`);
    const clients = masters.map((m) => m.client());
    await waitFor('cluster_state:ok on every master', 30_000, async () => {
      for (const client of clients) if (!/cluster_state:ok/.test(await client.cluster('INFO'))) return false;
      return true;
    });
    const topology: ClusterTopology = {
      url: `redis-cluster://${masters.map((m) => `127.0.0.1:${m.port}`).join(',')}`,
      masters,
      async ownerOf(slot) {
        const ranges = await clients[0]!.cluster('SLOTS');
        const range = ranges.find(([from, to]) => slot >= from && slot <= to);
        const owner = masters.find((m) => m.port === Number(range?.[2]?.[1]));
        if (owner === undefined) throw new Error(`no master owns slot ${slot}`);
        return owner;
      },
      async migrateSlot(slot, to, batch) {
        const from = await topology.ownerOf(slot);
        const clientOf = (m: RedisProcess): Redis => clients[masters.indexOf(m)]!;
        const [fromId, toId] = await Promise.all([clientOf(from).cluster('MYID'), clientOf(to).cluster('MYID')]);
        await clientOf(to).cluster('SETSLOT', slot, 'IMPORTING', fromId);
        await clientOf(from).cluster('SETSLOT', slot, 'MIGRATING', toId);
        let moved = 0;
        for (let round = 0; round < 100_000; round++) {
          const keys = await clientOf(from).cluster('GETKEYSINSLOT', slot, batch);
          if (keys.length === 0) break;
          await clientOf(from).call('MIGRATE', '127.0.0.1', String(to.port), '', '0', '10000', 'KEYS', ...keys);
          moved += keys.length;
        }
        for (const client of [clientOf(to), clientOf(from), ...clients]) await client.cluster('SETSLOT', slot, 'NODE', toId);
        return moved;
      },
      stop: () => processes.stop(),
    };
    return topology;
  } catch (error) {
    await processes.stop();
    throw error;
  }
}

/** The Broker contract's factory for brokers on `url` (a fresh key prefix per store; the servers are private). */
export function topologyFactory(url: string, extra: Partial<RedisBrokerOptions> = {}): BrokerFactory {
  let stores = 0;
  const sharded = (extra.logBuckets ?? 1) > 1;
  return {
    durable: true,
    shared: true,
    shardedCaps: sharded,
    async create(opts): Promise<BrokerHandle> {
      const prefix = `contract${sharded ? `-${extra.logBuckets}b` : ''}:${++stores}:`;
      const opened: RedisBroker[] = [];
      const open = async (): Promise<RedisBroker> => {
        const broker = await createRedisBroker({ url, prefix, retention: opts.retention, ...(opts.now ? { now: opts.now } : {}), ...extra });
        opened.push(broker);
        return broker;
      };
      return { broker: await open(), reopen: open, cleanup: async () => void (await Promise.all(opened.map((b) => b.close()))) };
    },
  };
}

export interface PublishFailure {
  readonly id: string;
  readonly code: string;
  readonly message: string;
}

/** Publishes `<prefix><n>` (`dataBytes` of data each) continuously from `lanes` concurrent publishers until stopped, recording every outcome. */
export function keepPublishing(broker: Broker, prefix: string, lanes = 4, dataBytes = 0) {
  const data = 'x'.repeat(dataBytes);
  const acked: string[] = [];
  const failures: PublishFailure[] = [];
  let next = 0;
  let stopped = false;
  const lane = async (): Promise<void> => {
    while (!stopped) {
      const id = `${prefix}${++next}`;
      try {
        await broker.publish(makeUpdate(id, `urn:topology:${next % 7}`, dataBytes > 0 ? { data } : {}));
        acked.push(id);
      } catch (error) {
        failures.push({ id, code: isHeraldError(error) ? error.code : 'thrown', message: error instanceof Error ? error.message : String(error) });
        // Failing fast: do not spin while the store is away.
        await sleep(20);
      }
    }
  };
  const running = Array.from({ length: lanes }, lane);
  return {
    acked,
    failures,
    /** Resolves once `count` more publishes were acknowledged. */
    waitForMore: (count: number, ms: number): Promise<void> => {
      const target = acked.length + count;
      return waitFor(`${count} more acknowledged publishes (${acked.length} so far, ${failures.length} failed: ${failures.at(-1)?.message ?? ''})`, ms, () => acked.length >= target);
    },
    async stop(): Promise<void> {
      stopped = true;
      await Promise.all(running);
    },
  };
}
