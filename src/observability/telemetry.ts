// The metrics of one Herald process, in Prometheus form (prom-client). Most values
// already exist as plain counters on the hot path (the hub's stats()): they are read
// at scrape time by collect() callbacks, so serving traffic costs nothing more. Only the publish-to-write histogram and the store
// counters (instrumented-broker.ts) are updated as things happen.
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Broker } from '../broker/types.js';
import type { Hub, HubStats } from '../hub/hub.js';
import { InstrumentedBroker } from './instrumented-broker.js';
import { PublishLatency } from './publish-latency.js';

export type PublishOutcome = 'ok' | 'refused' | 'failed';

/** Node process metrics are per process, whatever the number of Heralds in it (tests start many). */
let processRegistry: Registry | undefined;

function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export interface TelemetryOptions {
  readonly logger: Logger;
  /** Clock for latencies, in ms (default performance.now). */
  readonly now?: () => number;
  /** Leave out Node's process metrics (default: included). */
  readonly processMetrics?: boolean;
}

export class Telemetry {
  readonly registry = new Registry();
  readonly latency: PublishLatency;
  private readonly publishRequests: Counter<'outcome'>;
  /** Answers since the last scrape, by outcome: plain numbers on the publish path, added to the counter by its collect(). */
  private readonly answered = { ok: 0, refused: 0, failed: 0 };
  private readonly logger: Logger;
  private readonly withProcess: boolean;
  private stopFlushListener: (() => void) | undefined;

  constructor(options: TelemetryOptions) {
    this.logger = options.logger;
    this.withProcess = options.processMetrics ?? true;
    this.latency = new PublishLatency(this.registry, options.now);
    this.publishRequests = new Counter({
      name: 'herald_publish_requests_total',
      help: 'POSTs to the hub endpoint by outcome: ok (stored), refused (4xx: token, validation, limits), failed (5xx: store unavailable)',
      labelNames: ['outcome'],
      registers: [this.registry],
      collect: () => {
        for (const outcome of ['ok', 'refused', 'failed'] as const) {
          if (this.answered[outcome] > 0) this.publishRequests.labels(outcome).inc(this.answered[outcome]);
          this.answered[outcome] = 0;
        }
      },
    });
    for (const outcome of ['ok', 'refused', 'failed'] as const) this.publishRequests.labels(outcome).inc(0);
  }

  /** Wraps the store before the hub is built, so every store call is counted. */
  wrap(broker: Broker): InstrumentedBroker {
    return new InstrumentedBroker(broker, this.registry, this.latency, this.logger);
  }

  /** Reads the hub's own counters at scrape time and hooks the latency into its flushes. */
  attach(hub: Hub): void {
    this.stopFlushListener?.();
    this.stopFlushListener = hub.onFlush((flushed) => this.latency.flushed(flushed));
    const registers = [this.registry];
    new Gauge({
      name: 'herald_connections',
      help: 'Event streams currently open (hub subscribers)',
      registers,
      collect() {
        this.set(hub.stats().connections);
      },
    });
    new Gauge({
      name: 'herald_subscriptions',
      help: 'Topic selectors followed by the open streams (one Mercure subscription each)',
      registers,
      collect() {
        this.set(hub.stats().subscriptions);
      },
    });
    const fromStats = (name: string, help: string, key: keyof HubStats): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(hub.stats()[key]);
        },
      });
    };
    fromStats('herald_updates_dispatched_total', 'Updates received from the store and fanned out by this process', 'updates');
    fromStats('herald_deliveries_total', 'Updates written to subscribers (one per update per subscriber, replays included)', 'deliveries');
    fromStats('herald_writes_total', 'Socket writes to subscribers (several updates may share one)', 'writes');
    fromStats('herald_bytes_out_total', 'Event-stream bytes written to subscribers', 'bytesOut');
    fromStats('herald_slow_consumers_dropped_total', 'Subscribers disconnected because their unsent bytes passed --subscriber-buffer', 'slowDisconnects');
    fromStats('herald_replays_total', 'Streams that started with a Last-Event-ID (history replayed)', 'replays');
    fromStats('herald_replayed_updates_total', 'Updates sent by those replays', 'replayedUpdates');
  }

  /** Counts one POST to the hub endpoint by its response status. */
  publishAnswered(status: number): void {
    const outcome: PublishOutcome = status < 400 ? 'ok' : status < 500 ? 'refused' : 'failed';
    this.answered[outcome]++;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text: Herald's metrics, then the process's. */
  async scrape(): Promise<string> {
    const own = await this.registry.metrics();
    return this.withProcess ? `${own}\n${await processMetrics().metrics()}` : own;
  }

  /** Unhooks from the hub (the registry itself holds no timers). */
  detach(): void {
    this.stopFlushListener?.();
    this.stopFlushListener = undefined;
  }
}
