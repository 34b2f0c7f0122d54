// Unit tests of the bench's SSE reader: head parsing, chunked framing split at every
// byte, quoted payloads, and lines that must be ignored.
// Run: node --import tsx --test bench/*.test.ts bench/loadgen/*.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseReader } from './sse-reader.js';

function collect(): { reader: SseReader; events: number[][]; statuses: number[] } {
  const events: number[][] = [];
  const statuses: number[] = [];
  const reader = new SseReader({
    onHead: (status) => statuses.push(status),
    onEvent: (tag, seq, sendUs) => events.push([tag, seq, sendUs]),
  });
  return { reader, events, statuses };
}

function chunk(body: string): string {
  return `${Buffer.byteLength(body, 'latin1').toString(16)}\r\n${body}\r\n`;
}

const HEAD_CHUNKED = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n';
const BODY = [
  ':ok\n\n',
  'id: urn:uuid:1\ndata: 3 1 1000\n\n',
  'event: x\nid: 2\ndata: 3 2 2000\n\n',
  ': heartbeat\n\n',
  'data: "3 3 3000"\n\n',
  'data: not a payload\n\n',
  'data: 3 4\n\n',
  'id: data: 9 9 9\n\n',
];

test('chunked stream split at every possible byte boundary yields the same events', () => {
  const wire = HEAD_CHUNKED + BODY.map(chunk).join('') + '0\r\n\r\n';
  for (let cut = 1; cut < wire.length; cut++) {
    const { reader, events, statuses } = collect();
    reader.feed(wire.slice(0, cut));
    reader.feed(wire.slice(cut));
    assert.deepEqual(statuses, [200], `cut ${cut}`);
    assert.deepEqual(events, [[3, 1, 1000], [3, 2, 2000], [3, 3, 3000]], `cut ${cut}`);
    assert.equal(reader.ended, true);
  }
});

test('an event split across two chunks is reassembled', () => {
  const { reader, events } = collect();
  reader.feed(HEAD_CHUNKED + chunk('data: 7 4') + chunk('2 123\n\n'));
  assert.deepEqual(events, [[7, 42, 123]]);
});

test('an optional fourth field carries the publisher\'s lateness; absent, it is 0', () => {
  const events: number[][] = [];
  const reader = new SseReader({ onHead: () => undefined, onEvent: (...values) => events.push(values) });
  reader.feed('HTTP/1.1 200 OK\r\n\r\ndata: 1 2 3000 450\n\ndata: "1 3 4000 7"\n\ndata: 1 4 5000\n\ndata: 1 5 6000 \n\n');
  assert.deepEqual(events, [[1, 2, 3000, 450], [1, 3, 4000, 7], [1, 4, 5000, 0], [1, 5, 6000, 0]]);
});

test('a non-chunked body is read byte by byte', () => {
  const wire = 'HTTP/1.0 200 OK\r\ncontent-type: text/event-stream\r\n\r\n' + BODY.join('');
  const { reader, events } = collect();
  for (const c of wire) reader.feed(c);
  assert.deepEqual(events, [[3, 1, 1000], [3, 2, 2000], [3, 3, 3000]]);
  assert.equal(reader.ended, false);
});

test('the status of a refused subscription is reported', () => {
  const { reader, statuses, events } = collect();
  reader.feed('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
  assert.deepEqual(statuses, [401]);
  assert.deepEqual(events, []);
});
