// A subscriber that records every event in arrival order and, when its stream ends or
// cannot open (a killed server, a 503, a stream the hub closed), reconnects as
// EventSource does: after `retryMs`, with Last-Event-ID set to the last id it received
// (or the one it started with), to wherever `url()` points now. Every break is kept,
// so a test can count them; the bytes are parsed by the spec oracle (sse-spec-parser.ts).
import { SseSpecParser, type SpecEvent } from './sse-spec-parser.js';

export interface Follower {
  /** Every `message` event, across reconnections. */
  readonly messages: readonly SpecEvent[];
  /** Events of other types (e.g. Herald's in-band `herald-gap`). */
  readonly others: readonly SpecEvent[];
  /** Why each connection ended or failed to open (empty: one clean connection). */
  readonly breaks: readonly string[];
  /** Per 200 response: the Last-Event-ID sent, and the one answered (the id the hub resumed from; 'earliest' when it did not know it). */
  readonly resumes: readonly { readonly sent: string | undefined; readonly answered: string | null }[];
  /** Resolves once the first connection answered 200. */
  readonly opened: Promise<void>;
  /** Resolves once an event with this id arrived; rejects after `ms`. */
  waitForId(id: string, ms: number): Promise<void>;
  close(): void;
}

export function follow(url: () => string, lastEventId?: string, retryMs = 100): Follower {
  const messages: SpecEvent[] = [];
  const others: SpecEvent[] = [];
  const breaks: string[] = [];
  const resumes: { sent: string | undefined; answered: string | null }[] = [];
  const seen = new Set<string>();
  const waiters = new Set<() => void>();
  let controller = new AbortController();
  let closed = false;
  let markOpened: () => void = () => {};
  const opened = new Promise<void>((resolve) => (markOpened = resolve));
  const wake = (): void => {
    for (const waiter of [...waiters]) waiter();
  };

  const connect = async (): Promise<void> => {
    const last = messages.at(-1)?.lastEventId ?? lastEventId;
    const response = await fetch(url(), { headers: { Accept: 'text/event-stream', ...(last === undefined ? {} : { 'Last-Event-ID': last }) }, signal: controller.signal });
    if (response.status !== 200) throw new Error(`answered ${response.status} ${(await response.text()).slice(0, 200)}`);
    resumes.push({ sent: last, answered: response.headers.get('last-event-id') });
    markOpened();
    // A fresh parser per connection: the last-event-id buffer must not leak across them.
    const parser = new SseSpecParser();
    const decoder = new TextDecoder();
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      parser.push(decoder.decode(chunk, { stream: true }));
      for (const event of parser.events.splice(0)) {
        if (event.type === 'message') {
          messages.push(event);
          seen.add(event.lastEventId);
        } else others.push(event);
      }
      wake();
    }
    throw new Error('the stream ended');
  };
  void (async () => {
    while (!closed) {
      try {
        await connect();
      } catch (error) {
        if (closed) return;
        breaks.push(error instanceof Error ? error.message : String(error));
        controller = new AbortController();
        await new Promise((resolve) => setTimeout(resolve, retryMs));
      }
    }
  })();

  return {
    messages,
    others,
    breaks,
    resumes,
    opened,
    waitForId: (id, ms) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no event ${id} within ${ms} ms from ${url()}; ${messages.length} events, last ${messages.at(-1)?.lastEventId}; breaks: ${breaks.slice(-3).join(' | ')}`));
        }, ms);
        const check = (): void => {
          if (!seen.has(id)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    close: () => {
      closed = true;
      controller.abort();
    },
  };
}

/** A seeded PRNG (mulberry32): the same seed gives the same run of choices. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
