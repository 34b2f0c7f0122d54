// Subscribing as the current draft (draft-dunglas-mercure-08) says: `match` /
// `match_exact` / `match_urlpattern` (and Herald's `match_uritemplate`), the reserved
// `match` prefix, UTF-8 and value checks, bounds, and the QUERY method with the
// parameters in a form body (union with the query; Last-Event-ID precedence). Both doors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { publishOk, publisherToken, withHerald } from './support/herald.js';
import { rawStream, type RawStream } from './support/stream.js';

const hub = (base: string, query: string) => `${base}/.well-known/mercure?${query}`;

/** A request whose answer is not a stream: status and JSON error code. */
async function refusal(url: string | Request, init: RequestInit = {}): Promise<[number, string]> {
  const response = await fetch(url, init);
  const text = await response.text();
  return [response.status, (JSON.parse(text) as { error: string }).error];
}

/** A QUERY request (RFC 10008) kept open as a stream. */
function queryStream(url: string, body: string, headers: Record<string, string> = {}): Promise<RawStream> {
  return rawStream(url, { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, { method: 'QUERY', body });
}

for (const frontDoor of [true, false]) {
  const door = frontDoor ? 'front door' : 'Fastify';
  describe(`subscribe parameters (${door})`, () => {
    test('match, match_exact, match_urlpattern and match_uritemplate each select their topics; exact does not resolve relative values', async () => {
      await withHerald({ store: 'memory', frontDoor }, async (herald) => {
        const q = new URLSearchParams([
          ['match', 'https://example.com/a'],
          ['match_exact', 'https://example.com/b'],
          ['match_urlpattern', 'https://example.com/books/:id'],
          ['match_uritemplate', 'https://example.com/users/{id}'],
          ['match', 'relative'],
        ]);
        const stream = await rawStream(hub(herald.url, q.toString()));
        try {
          assert.equal(stream.status, 200);
          const token = await publisherToken();
          const wanted = ['https://example.com/a', 'https://example.com/b', 'https://example.com/books/7', 'https://example.com/users/42', 'relative'];
          await publishOk(herald.url, { topic: 'https://example.com/c', data: 'not selected' }, token);
          await publishOk(herald.url, { topic: `${herald.hub.url}/relative`, data: 'not selected' }, token);
          for (const topic of wanted) await publishOk(herald.url, { topic, data: topic }, token);
          await stream.waitForText('data: relative\n');
          assert.deepEqual([...stream.text().matchAll(/^data: (.*)$/gm)].map((m) => m[1]), wanted);
        } finally {
          stream.close();
        }
      });
    });

    test('the reserved match prefix, invalid UTF-8, invalid values and the bounds: 400 with a JSON error', async () => {
      await withHerald({ store: 'memory', frontDoor, maxTopics: 3 }, async (herald) => {
        const cases: Array<[string, string, string]> = [
          ['match_regex=x', 'bad_request', 'an unknown matcher type'],
          ['Match=x', 'bad_request', 'names are case-sensitive'],
          ['match_URLPattern=x', 'bad_request', 'the canonical form only'],
          ['matches=x&match=a', 'bad_request', 'an unrelated name under the prefix'],
          ['match=%FF', 'bad_request', 'invalid UTF-8'],
          ['match=a%E2%82', 'bad_request', 'a truncated UTF-8 sequence'],
          ['match=a&last_event_id=%C0%AF', 'bad_request', 'an overlong UTF-8 sequence anywhere'],
          ['match=a%01b', 'invalid_field', 'a C0 control character'],
          ['match=a%C2%85b', 'invalid_field', 'a C1 control character'],
          ['match=a%E2%80%8Bb', 'invalid_field', 'a Unicode format character (zero-width space)'],
          ['match=', 'invalid_field', 'an empty matcher'],
          ['match_urlpattern=https://example.com/(', 'invalid_field', 'not a URL pattern'],
          ['match=a&match=b&match=c&match=d', 'too_many_items', 'more matchers than --max-topics'],
          [`match=${'x'.repeat(2049)}`, 'invalid_field', 'a matcher longer than 2048'],
        ];
        for (const [query, code, what] of cases) assert.deepEqual(await refusal(hub(herald.url, query)), [400, code], what);
        // What must pass: a percent-encoded "%" and valid UTF-8.
        const fine = await rawStream(hub(herald.url, 'match=%25FF&match=caf%C3%A9'));
        assert.equal(fine.status, 200);
        fine.close();
      });
    });

    test('QUERY: the parameters in a form body, united with the query; last_event_id from the query wins, the header over both', async () => {
      await withHerald({ store: 'memory', frontDoor }, async (herald) => {
        const token = await publisherToken();
        const a = 'https://example.com/q/a';
        const b = 'https://example.com/q/b';
        const ids = [] as string[];
        for (let i = 0; i < 4; i++) ids.push(await publishOk(herald.url, { topic: i % 2 === 0 ? a : b, data: `d${i}` }, token));
        const union = await queryStream(hub(herald.url, `match=${encodeURIComponent(a)}`), new URLSearchParams([['match', b], ['last_event_id', ids[0]!]]).toString());
        const queryWins = await queryStream(hub(herald.url, `match=${encodeURIComponent(a)}&last_event_id=${encodeURIComponent(ids[1]!)}`), new URLSearchParams([['match', b], ['last_event_id', ids[0]!]]).toString());
        const headerWins = await queryStream(hub(herald.url, `last_event_id=${encodeURIComponent(ids[0]!)}`), new URLSearchParams([['match', a], ['match', b]]).toString(), { 'Last-Event-ID': ids[2]! });
        try {
          for (const stream of [union, queryWins, headerWins]) assert.equal(stream.status, 200);
          await union.waitForText(`id: ${ids[3]}\n`);
          assert.deepEqual([...union.text().matchAll(/^id: (.*)$/gm)].map((m) => m[1]), ids.slice(1), 'both topics, after the body\'s last_event_id');
          await queryWins.waitForText(`id: ${ids[3]}\n`);
          assert.deepEqual([...queryWins.text().matchAll(/^id: (.*)$/gm)].map((m) => m[1]), ids.slice(2));
          await headerWins.waitForText(`id: ${ids[3]}\n`);
          assert.deepEqual([...headerWins.text().matchAll(/^id: (.*)$/gm)].map((m) => m[1]), ids.slice(3));
        } finally {
          union.close();
          queryWins.close();
          headerWins.close();
        }
      });
    });

    test('QUERY refusals: another body type, no Content-Type, invalid UTF-8 or an unknown match* name in the body', async () => {
      await withHerald({ store: 'memory', frontDoor }, async (herald) => {
        const url = hub(herald.url, '');
        const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
        assert.deepEqual(await refusal(url, { method: 'QUERY', headers: { 'Content-Type': 'application/json' }, body: '{"match":"a"}' }), [400, 'bad_request']);
        const untyped = new Request(url, { method: 'QUERY', body: 'match=a' });
        untyped.headers.delete('content-type');
        assert.deepEqual(await refusal(untyped), [400, 'bad_request']);
        assert.deepEqual(await refusal(url, { method: 'QUERY', headers: form, body: 'match=%FF' }), [400, 'bad_request']);
        assert.deepEqual(await refusal(url, { method: 'QUERY', headers: form, body: 'match_nope=a' }), [400, 'bad_request']);
        assert.deepEqual(await refusal(url, { method: 'QUERY', headers: form, body: 'last_event_id=x' }), [400, 'missing_topic']);
      });
    });

    test('QUERY streams count toward --max-subscriptions-per-ip with GET ones', async () => {
      await withHerald({ store: 'memory', frontDoor, maxSubscriptionsPerIp: 1 }, async (herald) => {
        const get = await rawStream(hub(herald.url, 'match=a'));
        try {
          assert.equal(get.status, 200);
          assert.deepEqual(await refusal(hub(herald.url, ''), { method: 'QUERY', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'match=a' }), [429, 'rate_limited']);
        } finally {
          get.close();
        }
      });
    });
  });
}
