// Test support (not used by the hub): real redis-server processes on free loopback
// ports, in a temporary directory, without persistence. A Sentinel setup (one primary,
// one replica, three sentinels) and a three-master Cluster (optionally a replica per master), each torn down with every
// process killed, pass or fail (`stop()`, registered by the caller in an after hook).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { canConnect, ephemeralPortsStart, freePort, tryListen } from '../../ports.js';
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
    const deadline = Date.now() + 10_000;
    // Its output says why it did not come up (a port taken, a bad option): read at the failure, not before.
    while (!(await canConnect('127.0.0.1', port, 500))) {
      if (child.exitCode !== null) throw new Error(`redis-server on ${port} (${args.join(' ')}) exited with ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} (${args.join(' ')}) accepted no connection within 10 s:\n${output}`);
      await sleep(50);
    }
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

export interface StandaloneRedis {
  readonly server: RedisProcess;
  /** Kills the server, drops its clients, deletes its directory. */
  stop(): Promise<void>;
}

/** One standalone redis-server on a free port, for benches and tests that need a server of their own. */
export async function startStandaloneRedis(): Promise<StandaloneRedis> {
  const processes = new Processes();
  try {
    return { server: await processes.start([], await freePort()), stop: () => processes.stop() };
  } catch (error) {
    await processes.stop();
    throw error;
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
        // Priority 0: Sentinel never promotes it. It comes back empty and syncs; were the
        // new primary to miss pings for a second meanwhile (a loaded box), Sentinel would
        // otherwise fail over to this empty replica and the primary would resync from it,
        // wiping what was acknowledged (seen once: the oldest 247 updates gone).
        return processes.start(['--replicaof', '127.0.0.1', String(primaryPort), '--replica-priority', '0'], dead.port);
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
  /** The masters as created (a failover makes one of them a replica; see `masterPorts`). */
  readonly masters: readonly RedisProcess[];
  /** The replicas as created, `replicas[i]` replicating `masters[i]` at first (empty without replicas). */
  readonly replicas: readonly RedisProcess[];
  /** Which node owns `slot` right now (by CLUSTER SLOTS of a live node). */
  ownerOf(slot: number): Promise<RedisProcess>;
  /** The nodes serving slots right now, by CLUSTER SLOTS. */
  currentMasters(): Promise<RedisProcess[]>;
  /** A replica currently replicating `master`, its link up (by INFO replication; waits up to 15 s for one). */
  replicaOf(master: RedisProcess): Promise<RedisProcess>;
  /**
   * A manual failover (`CLUSTER FAILOVER` on `replica`: its master pauses writers until
   * the replica caught up, so nothing acknowledged is lost). Resolves once every node
   * agrees the replica owns its master's slots.
   */
  failover(replica: RedisProcess): Promise<void>;
  /**
   * A live reshard of one slot, as `redis-cli --cluster reshard` does it: IMPORTING on
   * `to`, MIGRATING on the owner, MIGRATE `batch` keys at a time, then SETSLOT NODE on
   * every master. Resolves with the number of keys moved.
   */
  migrateSlot(slot: number, to: RedisProcess, batch: number): Promise<number>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Masters (1-3; default 3). */
  readonly masters?: 1 | 2 | 3;
  /** Replicas per master (0 or 1; default 0). */
  readonly replicas?: 0 | 1;
}

/**
 * Builds the cluster by hand, as `redis-cli --cluster create` would (which refuses
 * fewer than three masters): the slots split evenly over the masters, every node
 * MEETs the first, each replica REPLICATEs its master.
 */
async function createCluster(masters: readonly Redis[], replicas: readonly Redis[], firstPort: number): Promise<void> {
  const share = Math.ceil(16_384 / masters.length);
  for (const [i, client] of masters.entries()) await client.call('CLUSTER', 'ADDSLOTSRANGE', String(i * share), String(Math.min(16_383, (i + 1) * share - 1)));
  for (const [i, client] of [...masters, ...replicas].entries()) {
    await client.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1)).catch(() => undefined);
    await client.cluster('MEET', '127.0.0.1', firstPort);
  }
  const total = masters.length + replicas.length;
  await waitFor('every node to know every other', 30_000, async () => {
    for (const client of [...masters, ...replicas]) if (String(await client.cluster('NODES')).trim().split('\n').length < total) return false;
    return true;
  });
  for (const [i, replica] of replicas.entries()) await replica.cluster('REPLICATE', await masters[i % masters.length]!.cluster('MYID'));
}

/** A port whose cluster bus port (+10000) is free too, both below the ephemeral range (no client socket takes them meanwhile). */
async function clusterPort(): Promise<number> {
  const ceiling = ephemeralPortsStart();
  for (let tries = 0; tries < 100; tries++) {
    const port = await freePort();
    if (port + 10_000 < ceiling && (await tryListen('127.0.0.1', port + 10_000)) !== null) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

/** Three masters (or as many as asked; and one replica each when asked), the 16384 slots split evenly. */
export async function startClusterTopology(options: ClusterOptions = {}): Promise<ClusterTopology> {
  const processes = new Processes();
  const replicaCount = options.replicas ?? 0;
  const masterCount = options.masters ?? 3;
  try {
    const nodes: RedisProcess[] = [];
    for (let i = 0; i < masterCount * (1 + replicaCount); i++) {
      const port = await clusterPort();
      nodes.push(await processes.start(['--cluster-enabled', 'yes', '--cluster-config-file', join(processes.dir, `nodes-${port}.conf`), '--cluster-node-timeout', '3000'], port));
    }
    const clients = nodes.map((m) => m.client());
    const clientOf = (m: RedisProcess): Redis => clients[nodes.indexOf(m)]!;
    const masters = nodes.slice(0, masterCount);
    const replicas = nodes.slice(masterCount);
    await createCluster(masters.map(clientOf), replicas.map(clientOf), masters[0]!.port);
    const masterPortOf = async (replica: RedisProcess): Promise<number | undefined> => {
      const info = await clientOf(replica).info('replication');
      if (!/role:slave/.test(info) || !/master_link_status:up/.test(info)) return undefined;
      return Number(/master_port:(\d+)/.exec(info)?.[1]);
    };
    const slotOwners = async (): Promise<Array<[number, number, number]>> => {
      for (const client of clients) {
        const ranges = await client.cluster('SLOTS').catch(() => undefined);
        if (ranges) return ranges.map(([from, to, owner]) => [from, to, Number(owner?.[1])] as [number, number, number]);
      }
      throw new Error('no cluster node answers CLUSTER SLOTS');
    };
    const allAgree = async (): Promise<boolean> => {
      let first: string | undefined;
      for (const client of clients) {
        if (!/cluster_state:ok/.test(await client.cluster('INFO'))) return false;
        const owners = JSON.stringify((await client.cluster('SLOTS')).map(([from, to, owner]) => [from, to, owner?.[1]]).sort((a, b) => Number(a[0]) - Number(b[0])));
        if (first !== undefined && owners !== first) return false;
        first = owners;
      }
      return true;
    };
    await waitFor('cluster_state:ok on every node', 30_000, async () => {
      for (const client of clients) if (!/cluster_state:ok/.test(await client.cluster('INFO'))) return false;
      return true;
    });
    await waitFor('every replica to sync', 30_000, async () => {
      for (const replica of replicas) if ((await masterPortOf(replica)) === undefined) return false;
      return true;
    });
    const topology: ClusterTopology = {
      url: `redis-cluster://${masters.map((m) => `127.0.0.1:${m.port}`).join(',')}`,
      masters,
      replicas,
      async ownerOf(slot) {
        const range = (await slotOwners()).find(([from, to]) => slot >= from && slot <= to);
        const owner = nodes.find((m) => m.port === range?.[2]);
        if (owner === undefined) throw new Error(`no master owns slot ${slot}`);
        return owner;
      },
      async currentMasters() {
        const ports = new Set((await slotOwners()).map(([, , port]) => port));
        return nodes.filter((m) => ports.has(m.port));
      },
      async replicaOf(master) {
        // A master demoted by an earlier failover needs a moment to sync before it counts.
        let found: RedisProcess | undefined;
        await waitFor(`a synced replica of the master on ${master.port}`, 15_000, async () => {
          for (const replica of nodes) if (replica !== master && (await masterPortOf(replica)) === master.port) found = replica;
          return found !== undefined;
        });
        return found!;
      },
      async failover(replica) {
        await clientOf(replica).cluster('FAILOVER');
        await waitFor(`the replica on ${replica.port} to become a master`, 15_000, async () => /role:master/.test(await clientOf(replica).info('replication')));
        await waitFor('every node to agree on the new slot owners', 15_000, allAgree);
      },
      async migrateSlot(slot, to, batch) {
        const from = await topology.ownerOf(slot);
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
        const owners = await topology.currentMasters();
        for (const node of [to, from, ...owners.filter((m) => m !== to && m !== from)]) await clientOf(node).cluster('SETSLOT', slot, 'NODE', toId);
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
    waitForMore: async (count: number, ms: number): Promise<void> => {
      const target = acked.length + count;
      const before = { acked: acked.length, failed: failures.length };
      try {
        await waitFor(`${count} more acknowledged publishes`, ms, () => acked.length >= target);
      } catch (error) {
        // The counts at the deadline, not at the call: did publishes fail, or hang?
        const last = failures.at(-1)?.message ?? 'none';
        throw new Error(`${(error as Error).message}: ${acked.length - before.acked} acknowledged and ${failures.length - before.failed} failed meanwhile (${acked.length} and ${failures.length} in all; last failure: ${last})`);
      }
    },
    async stop(): Promise<void> {
      stopped = true;
      await Promise.all(running);
    },
  };
}
