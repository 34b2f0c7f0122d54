// Indexes connected subscribers so a publish costs what its recipients cost, not
// what the number of topics costs: exact topics through Maps, and only subscribers
// with wildcards, URI templates or URL patterns are tested one by one. The hub's own
// subscription events (one per selector of every connection) are tested only against
// those of them whose selectors could match the subscriptions path.
import type { Subscriber } from './subscriber.js';

export class SubscriberRegistry {
  /** Subscribers following exactly one exact topic: served from one shared buffer per topic. */
  readonly singleByTopic = new Map<string, Set<Subscriber>>();
  /** Subscribers following several exact topics. */
  readonly multiByTopic = new Map<string, Set<Subscriber>>();
  /** Subscribers with at least one non-exact matcher (*, template, pattern). */
  readonly complex = new Set<Subscriber>();
  /** The complex subscribers that may receive subscription events (see Subscriber.watchesSubscriptions). */
  readonly subscriptionWatchers = new Set<Subscriber>();
  private count = 0;
  private selectors = 0;

  get size(): number {
    return this.count;
  }

  /** Topic selectors of the registered subscribers, counted as they come and go. */
  get selectorCount(): number {
    return this.selectors;
  }

  add(subscriber: Subscriber): void {
    this.count++;
    this.selectors += subscriber.matchers.size;
    if (subscriber.singleTopic !== undefined) {
      addTo(this.singleByTopic, subscriber.singleTopic, subscriber);
    } else if (subscriber.matchers.isExactOnly) {
      for (const topic of subscriber.matchers.exactTopics()) addTo(this.multiByTopic, topic, subscriber);
    } else {
      this.complex.add(subscriber);
      if (subscriber.watchesSubscriptions) this.subscriptionWatchers.add(subscriber);
    }
  }

  remove(subscriber: Subscriber): void {
    let removed = false;
    if (subscriber.singleTopic !== undefined) {
      removed = removeFrom(this.singleByTopic, subscriber.singleTopic, subscriber);
    } else if (subscriber.matchers.isExactOnly) {
      for (const topic of subscriber.matchers.exactTopics()) removed = removeFrom(this.multiByTopic, topic, subscriber) || removed;
    } else {
      removed = this.complex.delete(subscriber);
      this.subscriptionWatchers.delete(subscriber);
    }
    if (removed) {
      this.count--;
      this.selectors -= subscriber.matchers.size;
    }
  }

  /** Every subscriber, for heartbeats and shutdown. */
  *all(): IterableIterator<Subscriber> {
    for (const set of this.singleByTopic.values()) yield* set;
    const seen = new Set<Subscriber>();
    for (const set of this.multiByTopic.values()) {
      for (const subscriber of set) {
        if (!seen.has(subscriber)) {
          seen.add(subscriber);
          yield subscriber;
        }
      }
    }
    yield* this.complex;
  }
}

function addTo(map: Map<string, Set<Subscriber>>, topic: string, subscriber: Subscriber): void {
  let set = map.get(topic);
  if (set === undefined) map.set(topic, (set = new Set()));
  set.add(subscriber);
}

function removeFrom(map: Map<string, Set<Subscriber>>, topic: string, subscriber: Subscriber): boolean {
  const set = map.get(topic);
  if (set === undefined || !set.delete(subscriber)) return false;
  if (set.size === 0) map.delete(topic);
  return true;
}
