// Publish-to-write latency: from the moment the hub hands an update to the store
// (publish accepted) to the dispatcher flush that hands its bytes to the sockets.
// One observation per update per flush, never per subscriber, so the cost does not
// grow with the fan-out. Updates published by other processes (Redis) have no
// acceptance time here and are not observed. The histogram counts into fixed buckets
// (counting-histogram.ts): prom-client's observe() allocated on every update.
import type { Registry } from 'prom-client';
import { CountingHistogram } from './counting-histogram.js';

/** Upper bounds in seconds: sub-millisecond to several seconds (a store stall). */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** An update never flushed (its process lost the broker) must not grow the table forever. */
const MAX_PENDING = 100_000;
/** Samples kept per status interval for p50/p99; past it, reservoir sampling. */
const WINDOW_SIZE = 2048;

export interface LatencyWindow {
  readonly count: number;
  /** In milliseconds; undefined when nothing was observed. */
  readonly p50?: number;
  readonly p99?: number;
  readonly max?: number;
}

export class PublishLatency {
  readonly histogram: CountingHistogram;
  private readonly accepted = new Map<string, number>();
  private readonly now: () => number;
  private samples: number[] = [];
  private seen = 0;

  /** `now` in milliseconds (default performance.now). */
  constructor(registry: Registry, now: () => number = () => performance.now()) {
    this.now = now;
    this.histogram = new CountingHistogram({
      name: 'herald_publish_to_write_seconds',
      help: 'Time from a publish accepted by the hub to its bytes handed to the subscribers\' sockets (one observation per update)',
      buckets: BUCKETS,
      registers: [registry],
    });
  }

  /** The hub is about to store this update. */
  accept(id: string): void {
    if (this.accepted.size >= MAX_PENDING) this.accepted.clear();
    this.accepted.set(id, this.now());
  }

  /** The store refused it: it will never be flushed. */
  abandoned(id: string): void {
    this.accepted.delete(id);
  }

  /** Called once per dispatcher flush with the updates just written. */
  flushed(items: readonly { readonly update: { readonly id: string } }[]): void {
    if (this.accepted.size === 0) return;
    const now = this.now();
    for (const item of items) {
      const id = item.update.id;
      const start = this.accepted.get(id);
      if (start === undefined) continue;
      this.accepted.delete(id);
      const ms = now - start;
      this.histogram.observe(ms / 1000);
      this.sample(ms);
    }
  }

  /** Quantiles of what was observed since the previous call, then starts a new window. */
  takeWindow(): LatencyWindow {
    const samples = this.samples.sort((a, b) => a - b);
    const count = this.seen;
    this.samples = [];
    this.seen = 0;
    if (samples.length === 0) return { count };
    const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
    return { count, p50: at(0.5), p99: at(0.99), max: samples[samples.length - 1]! };
  }

  /** Updates accepted and not yet flushed (for tests). */
  get pending(): number {
    return this.accepted.size;
  }

  private sample(ms: number): void {
    this.seen++;
    if (this.samples.length < WINDOW_SIZE) {
      this.samples.push(ms);
      return;
    }
    const slot = Math.floor(Math.random() * this.seen);
    if (slot < WINDOW_SIZE) this.samples[slot] = ms;
  }
}
