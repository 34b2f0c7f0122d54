// SSE injection, proven with fast-check against a spec parser (support/sse-spec-parser.ts).
// The property, stated precisely: for ANY string `data` (every Unicode code point, NUL,
// CR, LF included) a publish yields exactly one event whose data is `data` with each
// CRLF and lone CR turned into LF. That normalisation is the SSE format's own (CR and
// CRLF are line ends there, so no stream can carry them); everything else is byte-exact.
// `id` and `type` holding CR, LF or NUL are refused with 400; topics and `retry` are fuzzed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import fc from 'fast-check';
import type { Herald } from '../src/herald.js';
import { encodeEventText, SseFieldError } from '../src/sse/encode.js';
import { FRONT_DOORS, hubUrl, publish, publisherToken, startTestHerald } from './support/herald.js';
import { parseEventStream, SseSpecParser, specNormalized, type SpecEvent } from './support/sse-spec-parser.js';
import { collect } from './support/stream.js';

/** Strings rich in the characters that matter to the SSE format. */
const nasty = fc.string({ unit: fc.constantFrom('\r', '\n', '\0', ':', ' ', 'd', 'a', 't', 'i', 'e', 'v', 'n', '\u2028', '\ufeff', 'é', '😀'), maxLength: 40 });
const anyData = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), nasty);
const lineSafe = (max: number) => fc.oneof(fc.string({ unit: 'binary', maxLength: max }), nasty).map((s) => s.replace(/[\r\n\0]/g, ''));
const breaker = fc.constantFrom('\r', '\n', '\0', '\r\n');
// What a publisher may send as an id or type (draft 08): no control or format characters, and not the hub's type `mercure`.
const publishable = (max: number) => lineSafe(max).map((s) => s.replace(/[\u0000-\u001f\u007f-\u009f]|\p{Cf}/gu, '')).filter((s) => s !== 'mercure');

describe('SSE encoder against the spec parser (unit)', () => {
  test('any data, id and type: one event, data normalised only in its line ends, id and type exact', () => {
    fc.assert(
      fc.property(anyData, lineSafe(60), lineSafe(60), fc.option(fc.nat(), { nil: undefined }), (data, id, type, retry) => {
        const parser = parseEventStream(encodeEventText({ data, id, type, retry }));
        assert.equal(parser.events.length, 1);
        assert.deepEqual(parser.events[0], { type: type === '' ? 'message' : type, data: specNormalized(data), lastEventId: id });
        assert.equal(parser.retry, retry);
      }),
      { numRuns: 3000 },
    );
  });

  test('an id or type with CR, LF or NUL never reaches the wire', () => {
    fc.assert(
      fc.property(lineSafe(20), breaker, lineSafe(20), fc.boolean(), (head, bad, tail, inId) => {
        const value = `${head}${bad}${tail}`;
        assert.throws(() => encodeEventText(inId ? { data: 'x', id: value } : { data: 'x', type: value }), SseFieldError);
      }),
      { numRuns: 1000 },
    );
  });
});

interface SpecStream {
  readonly parser: SseSpecParser;
  waitForEvents(count: number, timeoutMs?: number): Promise<SpecEvent[]>;
  close(): void;
}

/** A raw HTTP subscriber whose bytes go through the spec parser. */
function specStream(url: string): Promise<SpecStream> {
  return new Promise((resolve, reject) => {
    const parser = new SseSpecParser();
    const waiters: Array<() => void> = [];
    const req = request(url, { headers: { Accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        parser.push(chunk);
        for (const wake of waiters.splice(0)) wake();
      });
      res.on('error', () => undefined);
      resolve({
        parser,
        close: () => req.destroy(),
        waitForEvents: (count, timeoutMs = 5000) =>
          new Promise((ok, fail) => {
            const timer = setTimeout(() => fail(new Error(`timed out waiting for ${count} events; have ${parser.events.length}`)), timeoutMs);
            const check = () => (parser.events.length >= count ? (clearTimeout(timer), ok(parser.events.slice(0, count))) : waiters.push(check));
            check();
          }),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

for (const door of FRONT_DOORS) describe(`SSE injection over HTTP (${door.name})`, () => {
  let herald: Herald;
  let token: string;
  before(async () => {
    herald = await startTestHerald({ subscriptions: false, ...door.config });
    token = await publisherToken();
  });
  after(() => herald.close());

  test('any data, id and type published over HTTP arrive as exactly one event each (200 runs)', async () => {
    const stream = await specStream(hubUrl(herald.url, [['topic', 'https://example.com/inject']]));
    let published = 0;
    try {
      await fc.assert(
        fc.asyncProperty(anyData, publishable(40), publishable(40), async (data, idPart, type) => {
          const id = `i${published}-${idPart}`; // unique, never starting with '#'
          const result = await publish(herald.url, [['topic', 'https://example.com/inject'], ['data', data], ['id', id], ['type', type]], token);
          assert.equal(result.status, 200, result.body);
          assert.equal(result.body, id);
          published++;
          const events = await stream.waitForEvents(published);
          assert.deepEqual(events[published - 1], { type: type === '' ? 'message' : type, data: specNormalized(data), lastEventId: id });
        }),
        { numRuns: 200 },
      );
      assert.equal(stream.parser.events.length, published, 'no event more than published');
    } finally {
      stream.close();
    }
  });

  test('an id or type with CR, LF or NUL is refused with 400 and nothing is delivered (100 runs)', async () => {
    const stream = await specStream(hubUrl(herald.url, [['topic', 'https://example.com/refused']]));
    try {
      await fc.assert(
        fc.asyncProperty(lineSafe(20), breaker, lineSafe(20), fc.constantFrom('id', 'type'), async (head, bad, tail, field) => {
          const result = await publish(herald.url, [['topic', 'https://example.com/refused'], ['data', 'never'], [field, `${head}${bad}${tail}`]], token);
          assert.equal(result.status, 400, result.body);
          assert.equal((JSON.parse(result.body) as { error: string }).error, 'invalid_field');
        }),
        { numRuns: 100 },
      );
      await publish(herald.url, [['topic', 'https://example.com/refused'], ['data', 'marker']], token);
      const events = await stream.waitForEvents(1);
      assert.deepEqual(events.map((e) => e.data), ['marker']);
    } finally {
      stream.close();
    }
  });

  test('fuzzed topics and retry values: 200 exactly when valid, never a 5xx, delivered intact (300 runs)', async () => {
    const stream = await specStream(hubUrl(herald.url, [['topic', '*']]));
    let delivered = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), nasty, fc.webUrl()),
          fc.oneof(fc.string({ maxLength: 12 }), fc.nat().map(String), fc.stringMatching(/^\d{1,12}$/)),
          async (topic, retry) => {
            const data = `d${delivered}`;
            const result = await publish(herald.url, [['topic', topic], ['data', data], ['retry', retry]], token);
            assert.ok([200, 400, 403].includes(result.status), `${result.status} ${result.body}`);
            if (!/^\d{1,10}$/.test(retry)) assert.equal(result.status, 400, `retry ${JSON.stringify(retry)} accepted`);
            if (result.status !== 200) return;
            delivered++;
            const events = await stream.waitForEvents(delivered);
            assert.equal(events[delivered - 1]?.data, data);
            assert.equal(stream.parser.retry, Number(retry));
          },
        ),
        { numRuns: 300 },
      );
      assert.ok(delivered > 20, `only ${delivered} valid cases generated`);
      assert.equal(stream.parser.events.length, delivered);
    } finally {
      stream.close();
    }
  });

  test('the eventsource client (another parser) agrees on hostile data', async () => {
    const samples = ['a\r\nb\rc\nd', '\n\nid: evil\nevent: evil\n\n', 'data: x', '\0nul\0', ' leading space', '', '\r', 'é😀\u2028'];
    const stream = collect(hubUrl(herald.url, [['topic', 'https://example.com/es']]));
    try {
      await stream.opened;
      const ids: string[] = [];
      for (const data of samples) ids.push((await publish(herald.url, [['topic', 'https://example.com/es'], ['data', data]], token)).body);
      const events = await stream.waitFor(samples.length);
      assert.deepEqual(events, samples.map((data, i) => ({ type: 'message', id: ids[i], data: specNormalized(data) })));
    } finally {
      stream.close();
    }
  });
});
