// Loss a plain EventSource can see: when a resume cannot be exact (the Last-Event-ID
// is unknown, or the replay stops at --replay-max), the stream says so in-band with a
// `herald-gap` event (no id) before the replay, and in headers. Both doors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hubUrl, publishOk, publisherToken, withHerald } from './support/herald.js';
import { collect, rawStream } from './support/stream.js';

interface Gap {
  readonly reason: string;
  readonly lastEventId: string;
  readonly resumeFrom: string | null;
}

const GAP_EVENT = /^event: herald-gap\ndata: (.*)\n\n/;

/** The gap event, which must be the first event of the stream (after an optional retry:). */
function leadingGap(text: string): Gap | undefined {
  const body = text.replace(/^retry: \d+\n\n/, '');
  const match = GAP_EVENT.exec(body);
  return match === null ? undefined : (JSON.parse(match[1]!) as Gap);
}

function idsIn(text: string): string[] {
  return [...text.matchAll(/^id: (.*)$/gm)].map((m) => m[1]!);
}

async function publishMany(url: string, topic: string, count: number): Promise<string[]> {
  const token = await publisherToken();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await publishOk(url, { topic, data: `u${i}` }, token));
  return ids;
}

for (const frontDoor of [true, false]) {
  const door = frontDoor ? 'front door' : 'Fastify';
  describe(`herald-gap (${door})`, () => {
    test('an unknown Last-Event-ID: gap unknown_id before the replay of all that is kept, Mercure-Last-Event-ID earliest', async () => {
      await withHerald({ store: 'memory', frontDoor }, async (herald) => {
        const topic = 'https://example.com/gap/unknown';
        const ids = await publishMany(herald.url, topic, 3);
        const stream = await rawStream(hubUrl(herald.url, [['topic', topic]]), { 'Last-Event-ID': 'urn:uuid:never-published' });
        try {
          await stream.waitForText(`id: ${ids[2]}\n`);
          assert.deepEqual(leadingGap(stream.text()), { reason: 'unknown_id', lastEventId: 'urn:uuid:never-published', resumeFrom: ids[0] });
          assert.deepEqual(idsIn(stream.text()), ids, 'the gap has no id line; the replay follows it whole');
          assert.equal(stream.headers['mercure-last-event-id'], 'earliest');
          assert.equal(stream.headers['last-event-id'], 'earliest');
          assert.equal(stream.headers['herald-replay-truncated'], undefined);
        } finally {
          stream.close();
        }
      });
    });

    test('a replay cut at --replay-max: gap replay_cut naming the first id sent, Herald-Replay-Truncated, the cursor before it', async () => {
      await withHerald({ store: 'memory', frontDoor, replayMax: 5 }, async (herald) => {
        const topic = 'https://example.com/gap/cut';
        const ids = await publishMany(herald.url, topic, 13);
        const stream = await rawStream(hubUrl(herald.url, [['topic', topic], ['last_event_id', ids[0]!]]));
        try {
          await stream.waitForText(`id: ${ids[12]}\n`);
          assert.deepEqual(leadingGap(stream.text()), { reason: 'replay_cut', lastEventId: ids[0], resumeFrom: ids[8] });
          assert.deepEqual(idsIn(stream.text()), ids.slice(8));
          assert.equal(stream.headers['herald-replay-truncated'], '1');
          assert.equal(stream.headers['mercure-last-event-id'], ids[7], 'the id preceding the first event sent');
        } finally {
          stream.close();
        }
      });
    });

    test('an exact resume: no gap, no truncation header, the cursor is the requested id', async () => {
      await withHerald({ store: 'memory', frontDoor, replayMax: 5 }, async (herald) => {
        const topic = 'https://example.com/gap/exact';
        const ids = await publishMany(herald.url, topic, 6);
        const stream = await rawStream(hubUrl(herald.url, [['topic', topic]]), { 'Last-Event-ID': ids[0]! });
        try {
          await stream.waitForText(`id: ${ids[5]}\n`);
          assert.equal(leadingGap(stream.text()), undefined);
          assert.ok(!stream.text().includes('herald-gap'));
          assert.deepEqual(idsIn(stream.text()), ids.slice(1));
          assert.equal(stream.headers['herald-replay-truncated'], undefined);
          assert.equal(stream.headers['mercure-last-event-id'], ids[0]);
        } finally {
          stream.close();
        }
      });
    });

    test('an unknown id with nothing kept for the topic: resumeFrom null, then live updates', async () => {
      await withHerald({ store: 'memory', frontDoor }, async (herald) => {
        const topic = 'https://example.com/gap/empty';
        const stream = await rawStream(hubUrl(herald.url, [['topic', topic]]), { 'Last-Event-ID': 'urn:uuid:gone' });
        try {
          await stream.waitForText('event: herald-gap\n');
          assert.deepEqual(leadingGap(stream.text()), { reason: 'unknown_id', lastEventId: 'urn:uuid:gone', resumeFrom: null });
          const [live] = await publishMany(herald.url, topic, 1);
          await stream.waitForText(`id: ${live}\n`);
        } finally {
          stream.close();
        }
      });
    });

    test('CR/LF in the requested id cannot start an SSE line: the gap carries it JSON-escaped', async () => {
      await withHerald({ store: 'memory', frontDoor }, async (herald) => {
        const topic = 'https://example.com/gap/inject';
        const hostile = 'x\n\nid: forged\nevent: message\ndata: pwned';
        const stream = await rawStream(hubUrl(herald.url, [['topic', topic], ['last_event_id', hostile]]));
        try {
          await stream.waitForText('event: herald-gap\n');
          await stream.waitForText('\n\n');
          assert.equal(leadingGap(stream.text())?.lastEventId, hostile);
          assert.ok(!/^id: forged$/m.test(stream.text()));
        } finally {
          stream.close();
        }
      });
    });
  });
}

describe('herald-gap and plain EventSource clients', () => {
  test('message listeners see the same events with and without the gap; a herald-gap listener gets it first, with no id', async () => {
    await withHerald({ store: 'memory', replayMax: 3 }, async (herald) => {
      const topic = 'https://example.com/gap/eventsource';
      const ids = await publishMany(herald.url, topic, 5);
      const cut = collect(hubUrl(herald.url, [['topic', topic], ['last_event_id', ids[0]!]]));
      const exact = collect(hubUrl(herald.url, [['topic', topic], ['last_event_id', ids[1]!]]));
      const listening = collect(hubUrl(herald.url, [['topic', topic], ['last_event_id', ids[0]!]]), { eventTypes: ['herald-gap'] });
      try {
        const plainCut = await cut.waitFor(3);
        const plainExact = await exact.waitFor(3);
        assert.deepEqual(plainCut, plainExact, 'a message listener cannot tell the cut replay from an exact one');
        assert.deepEqual(plainCut.map((e) => e.id), ids.slice(2));
        assert.ok(plainCut.every((e) => e.type === 'message'));
        const all = await listening.waitFor(4);
        assert.equal(all[0]!.type, 'herald-gap');
        assert.equal(all[0]!.id, '', 'no id: the EventSource keeps the Last-Event-ID it had');
        assert.deepEqual(JSON.parse(all[0]!.data), { reason: 'replay_cut', lastEventId: ids[0], resumeFrom: ids[2] });
        assert.deepEqual(all.slice(1).map((e) => e.id), ids.slice(2));
      } finally {
        cut.close();
        exact.close();
        listening.close();
      }
    });
  });
});

describe('--retry', () => {
  for (const frontDoor of [true, false]) {
    test(`every stream starts with retry: (${frontDoor ? 'front door' : 'Fastify'}), before the gap event`, async () => {
      await withHerald({ store: 'memory', frontDoor, retryMs: 500 }, async (herald) => {
        const topic = 'https://example.com/retry';
        const live = await rawStream(hubUrl(herald.url, [['topic', topic]]));
        const resumed = await rawStream(hubUrl(herald.url, [['topic', topic]]), { 'Last-Event-ID': 'urn:uuid:unknown' });
        try {
          await live.waitForText('\n\n');
          assert.equal(live.text(), 'retry: 500\n\n');
          await resumed.waitForText('event: herald-gap\n');
          assert.match(resumed.text(), /^retry: 500\n\nevent: herald-gap\n/);
        } finally {
          live.close();
          resumed.close();
        }
      });
    });
  }

  test('without --retry no retry: field is sent', async () => {
    await withHerald({ store: 'memory' }, async (herald) => {
      const topic = 'https://example.com/no-retry';
      const stream = await rawStream(hubUrl(herald.url, [['topic', topic]]));
      try {
        const [id] = await publishMany(herald.url, topic, 1);
        await stream.waitForText(`id: ${id}\n`);
        assert.ok(!stream.text().includes('retry:'));
      } finally {
        stream.close();
      }
    });
  });
});
