// Once a second, a snapshot of how the hub is doing, for the live status page:
// rates come from differences of the hub's counters between two samples,
// latency quantiles from the updates flushed in between. The last two minutes are
// kept so a page that opens gets a chart at once.
import { getHeapStatistics } from 'node:v8';
import type { Hub } from '../hub/hub.js';
import { guarded, type TimerLog } from '../timers.js';
import type { PublishLatency } from './publish-latency.js';

export interface StatusSample {
  /** When it was taken (ms since the epoch). */
  readonly t: number;
  readonly connections: number;
  readonly updatesPerSecond: number;
  readonly deliveriesPerSecond: number;
  readonly bytesOutPerSecond: number;
  /** Publish-to-write latency of the updates flushed since the previous sample; null if none. */
  readonly latencyP50Ms: number | null;
  readonly latencyP99Ms: number | null;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Since start. */
  readonly slowConsumersDropped: number;
  readonly updatesTotal: number;
  readonly uptimeSeconds: number;
}

export interface StatusSamplerOptions {
  readonly hub: Hub;
  readonly latency: PublishLatency;
  readonly intervalMs?: number;
  /** Samples kept for a page that opens (default 120). */
  readonly keep?: number;
  readonly now?: () => number;
  /** Where a failing tick is reported. */
  readonly log?: TimerLog;
}

type Listener = (sample: StatusSample) => void;

export class StatusSampler {
  readonly intervalMs: number;
  private readonly options: StatusSamplerOptions;
  private readonly now: () => number;
  private readonly keep: number;
  private readonly startedAt: number;
  private readonly samples: StatusSample[] = [];
  private readonly listeners = new Set<Listener>();
  private previous: { t: number; updates: number; deliveries: number; bytesOut: number };
  private timer: NodeJS.Timeout | undefined;
  private lastRss = 0;

  constructor(options: StatusSamplerOptions) {
    this.options = options;
    this.intervalMs = options.intervalMs ?? 1000;
    this.keep = options.keep ?? 120;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    const stats = options.hub.stats();
    this.previous = { t: this.startedAt, updates: stats.updates, deliveries: stats.deliveries, bytesOut: stats.bytesOut };
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(guarded('status sampler', () => this.sample(), this.options.log), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  /** Oldest first. */
  recent(): readonly StatusSample[] {
    return this.samples;
  }

  onSample(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes a sample now (the timer calls it; tests may too). */
  sample(): StatusSample {
    const { hub, latency } = this.options;
    const stats = hub.stats();
    const t = this.now();
    const seconds = Math.max(0.001, (t - this.previous.t) / 1000);
    const window = latency.takeWindow();
    const memory = this.memory();
    const sample: StatusSample = {
      t,
      connections: stats.connections,
      updatesPerSecond: round((stats.updates - this.previous.updates) / seconds),
      deliveriesPerSecond: round((stats.deliveries - this.previous.deliveries) / seconds),
      bytesOutPerSecond: round((stats.bytesOut - this.previous.bytesOut) / seconds),
      latencyP50Ms: window.p50 === undefined ? null : round(window.p50, 3),
      latencyP99Ms: window.p99 === undefined ? null : round(window.p99, 3),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      slowConsumersDropped: stats.slowDisconnects,
      updatesTotal: stats.updates,
      uptimeSeconds: Math.round((t - this.startedAt) / 1000),
    };
    this.previous = { t, updates: stats.updates, deliveries: stats.deliveries, bytesOut: stats.bytesOut };
    this.samples.push(sample);
    if (this.samples.length > this.keep) this.samples.shift();
    for (const listener of this.listeners) listener(sample);
    return sample;
  }

  // process.memoryUsage() reads /proc/self/statm: at the fd limit it throws EMFILE,
  // which from this timer once killed the process. The heap needs no file.
  private memory(): { rss: number; heapUsed: number } {
    try {
      const { rss, heapUsed } = process.memoryUsage();
      this.lastRss = rss;
      return { rss, heapUsed };
    } catch {
      return { rss: this.lastRss, heapUsed: getHeapStatistics().used_heap_size };
    }
  }
}

function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
