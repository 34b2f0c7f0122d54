// The orchestrator's handle on the load, all pinned to the load CPU: up to 12k
// subscribers live in ONE process that also publishes (on a single load CPU a second
// process only adds scheduler waits to every latency: measured, nchan's p99 in
// scenario 3 halves); beyond that, subscriber processes of up to 5k connections and a
// publisher process. It connects subscribers, waits until every one of them provably
// receives (probe barrier), runs one measured publish phase and drains until every
// delivery is in.
import { Histogram } from './loadgen/histogram.js';
import type { PublishRunRequest, PublishRunResult, SubscriberStats, SubscribeSpec, PublishSpec } from './loadgen/protocol.js';
import type { ConnectArgs, ConnectResult } from './loadgen/subscriber-worker.js';
import { WorkerHandle } from './loadgen/worker-ipc.js';
import { trackProcess } from './proc/children.js';

/** Up to this many subscribers, one process holds them all and publishes too. */
const ONE_PROCESS_MAX = 12_000;
const PER_WORKER = 5000;
const SOURCE_ADDRESSES_PER_WORKER = 8;
let addressBlock = 0;

export interface LoadOptions {
  readonly cpus?: string;
  readonly subscribers: number;
  readonly topics: number;
  readonly publisherSockets: number;
  readonly lifetimeMs: number;
}

export interface Measurement {
  readonly publish: PublishRunResult;
  readonly delivered: number;
  readonly duplicates: number;
  readonly lost: number;
  readonly stale: number;
  readonly disconnects: number;
  readonly expected: number;
  readonly histogram: Histogram;
  /** Latency from the actual send (the publisher's lateness left out). */
  readonly fromSend: Histogram;
  /** Last delivery received (µs, shared clock); 0 when none. */
  readonly lastUs: number;
  /** The worst subscriber process's event-loop delay (max, p99) in the phase, ms. */
  readonly loopDelayMaxMs: number;
  readonly loopDelayP99Ms: number;
  /** The longest GC pause of any subscriber process, and the most GC time of one (ms). */
  readonly gcMaxMs: number;
  readonly gcTotalMs: number;
}

export class LoadGenerator {
  private constructor(
    private readonly subscribers: WorkerHandle[],
    private readonly publisher: WorkerHandle,
    private readonly options: LoadOptions,
    /** Subscribers per topic index. */
    private readonly perTopic: number[],
  ) {}

  static async start(options: LoadOptions, publishSpec: PublishSpec, target: { host: string; port: number }): Promise<LoadGenerator> {
    const count = options.subscribers === 0 ? 0 : Math.max(2, Math.ceil(options.subscribers / PER_WORKER));
    const workerOptions = { cpus: options.cpus, maxLifetimeMs: options.lifetimeMs };
    const one = options.subscribers > 0 && options.subscribers <= ONE_PROCESS_MAX;
    const subs = one
      ? [new WorkerHandle('load', './combined-worker.ts', workerOptions)]
      : Array.from({ length: count }, (_, i) => new WorkerHandle(`subscriber-${i}`, './subscriber-worker.ts', workerOptions));
    const publisher = one ? subs[0]! : new WorkerHandle('publisher', './publisher-worker.ts', workerOptions);
    for (const w of [...subs, publisher]) trackProcess(w.pid);
    const perTopic = new Array<number>(options.topics).fill(0);
    for (let i = 0; i < options.subscribers; i++) perTopic[i % options.topics]!++;
    const load = new LoadGenerator(subs, publisher, options, perTopic);
    await publisher.request('init', { host: target.host, port: target.port, spec: publishSpec, sockets: options.publisherSockets });
    return load;
  }

  /** Subscriber processes holding the connections. */
  get processCount(): number {
    return this.subscribers.length;
  }

  pids(): number[] {
    return [...new Set([...this.subscribers, this.publisher].map((w) => w.pid))];
  }

  /** Opens every subscription; throws when any fails (the numbers would be meaningless). */
  async connect(spec: SubscribeSpec, timeoutMs: number): Promise<number> {
    addressBlock = (addressBlock % 250) + 1;
    const n = this.subscribers.length;
    const started = Date.now();
    const results = await Promise.all(
      this.subscribers.map((worker, w) => {
        const topics: number[] = [];
        for (let i = w; i < this.options.subscribers; i += n) topics.push(i % this.options.topics);
        const args: ConnectArgs = {
          host: spec.host,
          port: spec.port,
          paths: spec.paths,
          topics,
          localAddresses: Array.from({ length: SOURCE_ADDRESSES_PER_WORKER }, (_, k) => `127.${addressBlock}.${w + 1}.${k + 1}`),
          concurrency: Math.max(1, Math.floor(384 / n)),
          timeoutMs,
        };
        return worker.request<ConnectResult>('connect', args, timeoutMs + 10_000);
      }),
    );
    const failed = results.reduce((sum, r) => sum + r.failed, 0);
    if (failed > 0) {
      const samples = results.flatMap((r) => r.errorSamples).slice(0, 3).join('; ');
      throw new Error(`${failed} of ${this.options.subscribers} subscriptions failed: ${samples}`);
    }
    return Date.now() - started;
  }

  /** Sends probes (seq 0) until every subscriber has received one for `tag`. */
  async barrier(tag: number, timeoutMs: number): Promise<void> {
    await Promise.all(this.subscribers.map((w) => w.request('reset', { tag })));
    if (this.options.subscribers === 0) return;
    const deadline = Date.now() + timeoutMs;
    let topics = this.perTopic.flatMap((count, topic) => (count > 0 ? [topic] : []));
    while (Date.now() < deadline) {
      await this.publisher.request('probe', { tag, topics, maxInFlight: 8 });
      await sleep(150);
      const states = await Promise.all(this.subscribers.map((w) => w.request<{ count: number; topics: number[] }>('unready', { tag })));
      if (states.every((s) => s.count === 0)) return;
      topics = [...new Set(states.flatMap((s) => s.topics))];
    }
    throw new Error(`subscribers still not receiving after ${timeoutMs} ms (probe barrier)`);
  }

  private async delivered(): Promise<number> {
    const progress = await Promise.all(this.subscribers.map((w) => w.request<{ delivered: number }>('progress')));
    return progress.reduce((sum, p) => sum + p.delivered, 0);
  }

  /**
   * One measured phase: publish per `run`, then wait for the deliveries (until all
   * expected arrived, nothing moved for `quietMs`, or `drainMs`). In credit mode the
   * publisher may run ahead of the subscribers by `window` deliveries at most.
   */
  async measure(run: PublishRunRequest, drain: { quietMs: number; drainMs: number }, window = 0): Promise<Measurement> {
    const running = this.publisher.request<PublishRunResult>('run', run, run.durationMs + 60_000);
    if (run.mode.kind === 'credit') await this.feedCredit(running, window);
    const publish = await running;
    let expected = 0;
    publish.okPerTopic.forEach((ok, topic) => (expected += ok * (this.perTopic[topic] ?? 0)));
    const deadline = Date.now() + drain.drainMs;
    let last = -1;
    let lastMove = Date.now();
    while (this.subscribers.length > 0 && Date.now() < deadline) {
      const now = await this.delivered();
      if (now >= expected) break;
      if (now !== last) lastMove = Date.now();
      else if (Date.now() - lastMove > drain.quietMs) break;
      last = now;
      await sleep(50);
    }
    const stats = await Promise.all(
      this.subscribers.map((w) => w.request<SubscriberStats>('stats', { tag: run.tag, okPerTopic: publish.okPerTopic })),
    );
    const histogram = new Histogram();
    const fromSend = new Histogram();
    for (const s of stats) {
      histogram.add(s.histogram);
      fromSend.add(s.fromSend);
    }
    const sum = (pick: (s: SubscriberStats) => number): number => stats.reduce((t, s) => t + pick(s), 0);
    return {
      publish,
      delivered: sum((s) => s.delivered),
      duplicates: sum((s) => s.duplicates),
      lost: sum((s) => s.lost),
      stale: sum((s) => s.stale),
      disconnects: sum((s) => s.disconnects),
      expected,
      histogram,
      fromSend,
      lastUs: Math.max(0, ...stats.map((s) => s.lastUs)),
      loopDelayMaxMs: Math.max(0, ...stats.map((s) => s.loopDelayMaxMs)),
      loopDelayP99Ms: Math.max(0, ...stats.map((s) => s.loopDelayP99Ms)),
      gcMaxMs: Math.max(0, ...stats.map((s) => s.gcMaxMs)),
      gcTotalMs: Math.max(0, ...stats.map((s) => s.gcTotalMs)),
    };
  }

  /** Grants publish credit so that published-but-undelivered stays under `window` deliveries. */
  private async feedCredit(running: Promise<unknown>, window: number): Promise<void> {
    const fanout = Math.max(1, this.options.subscribers);
    let done = false;
    void running.then(
      () => (done = true),
      () => (done = true),
    );
    let granted = 0;
    while (!done) {
      const delivered = await this.delivered();
      const allowed = Math.max(1, Math.floor((delivered + window) / fanout));
      if (allowed > granted) {
        await this.publisher.request('credit', { n: allowed - granted }).catch(() => undefined);
        granted = allowed;
      }
      await sleep(5);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.subscribers.map((w) => w.request('close').catch(() => undefined)));
    await this.publisher.request('close').catch(() => undefined);
    await Promise.all([...new Set([...this.subscribers, this.publisher])].map((w) => w.stop()));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
