// A load-generator process holding up to a few thousand SSE subscribers on raw
// sockets (started by worker-ipc.ts, pinned by the orchestrator). Subscribers bind
// to several 127.x.y.z source addresses because each address has its own ephemeral
// port range; the orchestrator drives it with the commands below.
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import type { SubscriberStats } from './protocol.js';
import { Subscription, Tally } from './subscription.js';
import { serveCommands, workerLifetimeMs } from './worker-ipc.js';

export interface ConnectArgs {
  readonly host: string;
  readonly port: number;
  /** Request path per topic index. */
  readonly paths: readonly string[];
  /** Topic index of each subscriber this worker holds. */
  readonly topics: readonly number[];
  /** Source addresses to spread connections over, e.g. ["127.1.1.1", "127.1.1.2"]. */
  readonly localAddresses: readonly string[];
  /** Connection attempts in flight at once (keeps under the server's listen backlog). */
  readonly concurrency: number;
  readonly timeoutMs: number;
}

export interface ConnectResult {
  readonly connected: number;
  readonly failed: number;
  readonly errorSamples: string[];
  readonly ms: number;
}

const tally = new Tally();
/** This process's own stalls (GC, sharing the load CPU) delay every read it makes. */
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
const gc = { maxMs: 0, totalMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
    gc.totalMs += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });
let subscriptions: Subscription[] = [];

async function connectAll(args: ConnectArgs): Promise<ConnectResult> {
  const started = Date.now();
  const deadline = started + args.timeoutMs;
  subscriptions = args.topics.map((topic) => new Subscription(topic, tally));
  let next = 0;
  let failed = 0;
  const errorSamples: string[] = [];
  const lane = async (): Promise<void> => {
    while (next < subscriptions.length && Date.now() < deadline) {
      const index = next++;
      const sub = subscriptions[index]!;
      const path = args.paths[sub.topic];
      if (path === undefined) throw new Error(`no path for topic ${sub.topic}`);
      const localAddress = args.localAddresses[index % args.localAddresses.length];
      try {
        await sub.connect({ host: args.host, port: args.port, path, localAddress }, Math.max(1, deadline - Date.now()));
      } catch (error) {
        failed++;
        if (errorSamples.length < 5) errorSamples.push(String((error as Error).message));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, args.concurrency) }, lane));
  const connected = subscriptions.filter((s) => s.open).length;
  return { connected, failed: subscriptions.length - connected, errorSamples, ms: Date.now() - started };
}

function unready(tag: number): { count: number; topics: number[] } {
  const topics = new Set<number>();
  let count = 0;
  for (const sub of subscriptions) {
    if (sub.open && sub.readyTag !== tag) {
      count++;
      topics.add(sub.topic);
    }
  }
  return { count, topics: [...topics] };
}

function stats(tag: number, okPerTopic: readonly number[]): SubscriberStats {
  let lost = 0;
  for (const sub of subscriptions) lost += Math.max(0, (okPerTopic[sub.topic] ?? 0) - sub.uniqueIn(tag));
  return {
    delivered: tally.delivered,
    duplicates: tally.duplicates,
    lost,
    stale: tally.stale,
    disconnects: tally.disconnects,
    firstUs: tally.firstUs,
    lastUs: tally.lastUs,
    histogram: tally.histogram.toArray(),
    fromSend: tally.fromSend.toArray(),
    loopDelayMaxMs: loopDelay.max / 1e6,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    gcMaxMs: gc.maxMs,
    gcTotalMs: gc.totalMs,
  };
}

serveCommands(
  {
    connect: (args) => connectAll(args as ConnectArgs),
    reset: (args) => {
      tally.reset((args as { tag: number }).tag);
      loopDelay.reset();
      gc.maxMs = 0;
      gc.totalMs = 0;
      return null;
    },
    unready: (args) => unready((args as { tag: number }).tag),
    progress: () => ({ delivered: tally.delivered, open: subscriptions.filter((s) => s.open).length }),
    stats: (args) => {
      const { tag, okPerTopic } = args as { tag: number; okPerTopic: number[] };
      return stats(tag, okPerTopic);
    },
    close: () => {
      for (const sub of subscriptions) sub.close();
      subscriptions = [];
      return null;
    },
  },
  workerLifetimeMs(),
);
