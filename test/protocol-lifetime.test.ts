// The maximum connection lifetime (--max-connection-lifetime; draft 08: hubs SHOULD
// close streams past a lifetime independent of `exp`, so the subscriber comes back
// and presents its token again). The hub ends the stream cleanly; EventSource
// reconnects with Last-Event-ID and gets, by replay, exactly what was published while
// it was away: no loss, no duplicate. Real HTTP, both front doors, the `eventsource`
// client. The reconnect is held until the update is published, so it must come by
// replay (no race decides the path).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { FRONT_DOORS, hubUrl, publishOk, withHerald } from './support/herald.js';

const TOPIC = 'https://example.com/lifetime';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((ok) => (resolve = ok));
  return { promise, resolve };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

for (const door of FRONT_DOORS) {
  describe(`maximum connection lifetime (${door.name})`, () => {
    test('the hub ends the stream after its lifetime; the reconnect resumes with Last-Event-ID, without loss or duplicate', async () => {
      await withHerald({ maxConnectionLifetimeSeconds: 1, retryMs: 50, ...door.config }, async (herald) => {
        const requests: Array<string | null> = [];
        const published = deferred();
        const source = new EventSource(hubUrl(herald.url, [['topic', TOPIC]]), {
          fetch: async (input, init) => {
            requests.push(new Headers(init?.headers).get('last-event-id'));
            if (requests.length === 2) await published.promise; // the reconnect waits for the update it must replay
            return fetch(input, init);
          },
        });
        const events: Array<{ id: string; data: string }> = [];
        const waiters: Array<() => void> = [];
        source.addEventListener('message', (event) => {
          events.push({ id: event.lastEventId, data: event.data });
          for (const wake of waiters.splice(0)) wake();
        });
        const eventCount = (n: number) => new Promise<void>((resolve) => {
          const check = () => (events.length >= n ? resolve() : waiters.push(check));
          check();
        });
        const ended = new Promise<void>((resolve) => source.addEventListener('error', () => resolve(), { once: true }));
        try {
          const opened = Date.now();
          await within(new Promise<void>((resolve) => source.addEventListener('open', () => resolve(), { once: true })), 5000, 'first open');
          const first = await publishOk(herald.url, { topic: TOPIC, data: 'before' });
          await within(eventCount(1), 5000, 'the first update');
          await within(ended, 5000, 'the hub ending the stream');
          assert.ok(Date.now() - opened >= 850, 'not before 90% of the lifetime (less timer slack)');
          assert.equal(herald.hub.subscriberCount, 0, 'the hub let the stream go');
          const second = await publishOk(herald.url, { topic: TOPIC, data: 'while away' });
          published.resolve();
          await within(eventCount(2), 5000, 'the replayed update');
          assert.deepEqual(events, [{ id: first, data: 'before' }, { id: second, data: 'while away' }]);
          assert.deepEqual(requests.slice(0, 2), [null, first], 'the reconnect carried Last-Event-ID');
          const third = await publishOk(herald.url, { topic: TOPIC, data: 'live again' });
          await within(eventCount(3), 5000, 'a live update after the reconnect');
          assert.deepEqual(events.map((e) => e.id), [first, second, third], 'no duplicate');
        } finally {
          published.resolve();
          source.close();
        }
      });
    });
  });
}
