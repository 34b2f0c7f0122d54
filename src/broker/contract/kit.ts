// The shapes a broker implementation provides to the contract suite, and the small
// tools its cases share: a fresh store per case, a listener recorder that awaits
// deliveries with a deadline instead of sleeping, a manual clock, an update builder.
import assert from 'node:assert/strict';
import type { Broker, RetentionOptions, Unsubscribe, Update } from '../types.js';

export interface BrokerOptions {
  readonly retention: RetentionOptions;
  /** Clock in ms used for age retention; absent: the implementation's default (Date.now). */
  readonly now?: () => number;
}

export interface BrokerFactory {
  /** Opens a broker on a new, empty store of its own (a temp file, a unique Redis prefix...). */
  create(opts: BrokerOptions): Promise<BrokerHandle>;
  /** Updates whose publish resolved survive closing the broker and opening the store again. */
  readonly durable: boolean;
  /** Brokers opened on the same store see each other's updates and presence (several hub processes). */
  readonly shared: boolean;
  /**
   * maxTotal and maxPresence hold per shard, as an even share (ceil(cap / shards)): the
   * log keeps at most about the cap, not exactly the newest cap (the sharded Redis log).
   * The cases that count an exact global cap are skipped; one checks the bound instead.
   */
  readonly shardedCaps?: boolean;
}

export interface BrokerHandle {
  /** The broker opened by `create`. */
  readonly broker: Broker;
  /**
   * Opens a NEW broker on the same store with the same options, and resolves once it
   * is ready to receive updates. Closes nothing.
   */
  reopen(): Promise<Broker>;
  /** Closes every broker opened through this handle (idempotently) and deletes the store. */
  cleanup(): Promise<void>;
}

/** Retention that never trims within a test. */
export const KEEP_ALL: RetentionOptions = { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 100_000 };

/** Default time a case waits for a delivery before failing. */
export const DELIVERY_DEADLINE_MS = 5_000;

/** Runs `body` on a fresh store, always cleaning it up. */
export async function withBroker(
  factory: BrokerFactory,
  opts: Partial<BrokerOptions>,
  body: (handle: BrokerHandle) => Promise<void>,
): Promise<void> {
  const handle = await factory.create({ retention: opts.retention ?? KEEP_ALL, now: opts.now });
  try {
    await body(handle);
  } finally {
    await handle.cleanup();
  }
}

export function makeUpdate(id: string, topics: string | readonly string[], extra: Partial<Update> = {}): Update {
  return {
    id,
    topics: typeof topics === 'string' ? [topics] : topics,
    data: `data of ${id}`,
    private: false,
    ...extra,
  };
}

/** Everything of the form `${prefix}${i}` for i in [from, to]. */
export function idRange(prefix: string, from: number, to: number): string[] {
  const ids: string[] = [];
  for (let i = from; i <= to; i++) ids.push(`${prefix}${i}`);
  return ids;
}

export function ids(updates: readonly Update[]): string[] {
  return updates.map((u) => u.id);
}

/** A clock that moves only when told to. */
export class ManualClock {
  constructor(public time = 1_700_000_000_000) {}
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

/** Records what a broker's onUpdate listener receives, in order. */
export class Recorder {
  readonly updates: Update[] = [];
  private readonly unsubscribe: Unsubscribe;
  private waiting: { until: () => boolean; resolve: () => void } | undefined;

  constructor(broker: Broker) {
    this.unsubscribe = broker.onUpdate((update) => {
      this.updates.push(update);
      if (this.waiting?.until()) this.waiting.resolve();
    });
  }

  get ids(): string[] {
    return ids(this.updates);
  }

  stop(): void {
    this.unsubscribe();
  }

  /** Resolves once the update `id` arrived; fails after `ms` saying what did arrive. */
  waitForId(id: string, ms = DELIVERY_DEADLINE_MS): Promise<void> {
    return this.waitUntil(() => this.updates.some((u) => u.id === id), `update ${id}`, ms);
  }

  /** Resolves once at least `count` updates arrived. */
  waitForCount(count: number, ms = DELIVERY_DEADLINE_MS): Promise<void> {
    return this.waitUntil(() => this.updates.length >= count, `${count} updates`, ms);
  }

  private waitUntil(until: () => boolean, what: string, ms: number): Promise<void> {
    if (until()) return Promise.resolve();
    assert.equal(this.waiting, undefined, 'one wait at a time');
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`waited ${ms} ms for ${what}; got ${this.updates.length}: ${this.ids.slice(-10).join(', ')}`));
      }, ms);
      this.waiting = {
        until,
        resolve: () => {
          clearTimeout(timer);
          this.waiting = undefined;
          resolve();
        },
      };
    });
  }
}

/**
 * Publishes a marker and waits for it: deliveries are in log order, so once the
 * marker is in, anything sent before it (duplicates included) is in too.
 */
export async function settle(broker: Broker, recorders: readonly Recorder[], markerId: string): Promise<void> {
  await broker.publish(makeUpdate(markerId, 'urn:contract:marker'));
  for (const recorder of recorders) await recorder.waitForId(markerId);
}

/** History of the whole kept log, in order. */
export async function allIds(broker: Broker): Promise<string[]> {
  const result = await broker.history({ filter: () => true, limit: 100_000 });
  assert.equal(result.found, true);
  return ids(result.updates);
}
