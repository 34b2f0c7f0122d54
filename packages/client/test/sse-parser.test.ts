// The client's SSE parser against the spec's own examples and, for random streams cut
// into random chunks, against the test suite's independent spec oracle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SseParser, type ParsedEvent } from '../src/sse-parser.js';
import { SseSpecParser } from '../../../test/support/sse-spec-parser.js';

function parse(chunks: readonly string[], lastEventId = ''): { events: ParsedEvent[]; retries: number[]; comments: string[] } {
  const events: ParsedEvent[] = [];
  const retries: number[] = [];
  const comments: string[] = [];
  const parser = new SseParser({ event: (e) => events.push(e), retry: (ms) => retries.push(ms), comment: (c) => comments.push(c) }, lastEventId);
  for (const chunk of chunks) parser.push(chunk);
  return { events, retries, comments };
}

test('CR, LF and CRLF all end lines, also when a CRLF is cut between chunks', () => {
  const { events } = parse(['data: a\r', '\ndata: b\rdata: c\n\r', '\nevent: x\r\ndata: d\r\r', ':']); // a CR ending a chunk waits for the next
  assert.deepEqual(
    events.map((e) => [e.type, e.data]),
    [
      ['message', 'a\nb\nc'],
      ['x', 'd'],
    ],
  );
});

test('multi-line data, comments, a field without a colon, one leading space only', () => {
  const { events, comments } = parse([': hello\ndata\ndata:  two spaces\ndata:x\n\n: bye\n']);
  assert.deepEqual(comments, [' hello', ' bye']);
  assert.deepEqual(events.map((e) => e.data), ['\n two spaces\nx']);
});

test('an id with NUL is ignored; the last id outlives events; id-only blocks dispatch nothing', () => {
  const { events } = parse(['id: 1\ndata: a\n\ndata: b\n\nid: 2\0x\ndata: c\n\nid: 3\n\ndata: d\n\n'], 'start');
  assert.deepEqual(
    events.map((e) => [e.lastEventId, e.hasId, e.data]),
    [
      ['1', true, 'a'],
      ['1', false, 'b'],
      ['1', false, 'c'],
      ['3', false, 'd'],
    ],
  );
});

test('retry: digits only', () => {
  const { retries } = parse(['retry: 1500\n\nretry: 1.5\n\nretry: -3\n\nretry: 20a\n\nretry:\n\nretry: 0\n\n']);
  assert.deepEqual(retries, [1500, 0]);
});

test('a leading BOM is dropped once; an unterminated event is not dispatched', () => {
  const { events } = parse(['\ufeffdata: a\n\n\ufeffdata: b\n\ndata: c\n']);
  assert.deepEqual(events.map((e) => e.data), ['a']);
  // "\ufeffdata" is an unknown field, so "b" never was data.
});

test('random streams in random chunks parse as the spec oracle parses them', () => {
  const line = fc.oneof(
    fc.constantFrom('', ':', ': c', 'data', 'data:', 'event: t', 'event', 'id', 'id: 7', 'id: a\0b', 'retry: 10', 'retry: x', 'bogus: 1'),
    fc.string({ maxLength: 6 }).map((s) => `data: ${s}`),
    fc.string({ maxLength: 4 }).map((s) => `id:${s}`),
  );
  const ending = fc.constantFrom('\n', '\r', '\r\n');
  const stream = fc.array(fc.tuple(line, ending).map(([l, e]) => l + e), { maxLength: 40 }).map((parts) => parts.join(''));
  fc.assert(
    fc.property(stream, fc.array(fc.nat(), { maxLength: 10 }), (text, cuts) => {
      const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
      const chunks: string[] = [];
      let from = 0;
      for (const point of points) {
        chunks.push(text.slice(from, point));
        from = point;
      }
      chunks.push(text.slice(from));
      const oracle = new SseSpecParser();
      for (const chunk of chunks) oracle.push(chunk);
      const ours = parse(chunks);
      assert.deepEqual(
        ours.events.map((e) => ({ type: e.type, data: e.data, lastEventId: e.lastEventId })),
        oracle.events.map((e) => ({ type: e.type, data: e.data, lastEventId: e.lastEventId })),
      );
      assert.deepEqual(ours.comments, oracle.comments);
      assert.equal(ours.retries.at(-1), oracle.retry);
    }),
    { numRuns: 2000 },
  );
});

test('an event longer than the bound is refused, a line at a time or over many data lines', () => {
  const endless = new SseParser({ event: () => undefined }, '', 100);
  endless.push('data: ' + 'x'.repeat(90));
  assert.throws(() => endless.push('x'.repeat(20)), { name: 'EventTooLongError' });
  const many = new SseParser({ event: () => undefined }, '', 100);
  assert.throws(() => {
    for (let i = 0; i < 20; i++) many.push('data: xxxxxxxx\n');
  }, { name: 'EventTooLongError' });
  const fine = new SseParser({ event: () => undefined }, '', 100);
  for (let i = 0; i < 50; i++) fine.push('data: xxxxxxxx\n\n');
});
