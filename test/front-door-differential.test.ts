// The front door and Fastify's routes answer alike: the same 10,000+ requests (valid
// publishes and subscriptions, boundary cases, the wire fuzz's hostile inputs, and
// valid requests split into two TCP segments at every byte) go to a Herald with the
// front door and to one without (--no-front-door), and each pair of answers must
// have the same status, error code and message, content type and header names; the
// two hubs must end up storing the same updates. The door must have served most of
// them itself, or the comparison would prove nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type AddressInfo } from 'node:net';
import type { Herald } from '../src/herald.js';
import { frontDoorOf, rawDoorOf } from '../src/http/server.js';
import { FRONT_DOORS, mintToken, publisherToken, startTestHerald, subscriberToken, SUBSCRIBER_KEY } from './support/herald.js';
import { rawExchange, type RawOutcome, type RawRequest } from './support/raw-http.js';
import { hostileInputs, prng } from './support/wire-garbage.js';

const HUB = '/.well-known/mercure';
const CONCURRENCY = 8;
/** Headers whose values differ per request or per process. */
const VOLATILE = new Set(['date', 'x-request-id', 'last-event-id', 'mercure-last-event-id', 'keep-alive', 'connection']);

const port = (herald: Herald): number => (herald.app.server.address() as AddressInfo).port;

/** Ids, and the bytes after an event stream's head, differ run to run; everything else must not. */
function normalise(outcome: RawOutcome): unknown {
  const headers = Object.entries(outcome.headers).filter(([name]) => !VOLATILE.has(name)).sort();
  let body: unknown = outcome.stream ? '(stream)' : outcome.body;
  if (!outcome.stream && outcome.headers['content-type']?.startsWith('application/json')) {
    try {
      const parsed = JSON.parse(outcome.body) as { ids?: unknown[] };
      body = Array.isArray(parsed.ids) ? { ids: parsed.ids.length } : parsed;
    } catch {
      body = '(truncated JSON)';
    }
  } else if (outcome.status === 200 && outcome.body.startsWith('urn:uuid:')) body = '(id)';
  return { status: outcome.status, closed: outcome.status === 0 ? outcome.closed : undefined, hung: outcome.hung, headers, body };
}

function form(fields: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) for (const v of Array.isArray(value) ? value : [value]) params.append(name, v);
  return params.toString();
}

function post(path: string, type: string | undefined, body: string, extra = ''): RawRequest {
  const bytes = Buffer.from(body, 'latin1');
  const head = `POST ${path} HTTP/1.1\r\nHost: diff\r\nConnection: close\r\n${type === undefined ? '' : `Content-Type: ${type}\r\n`}Content-Length: ${bytes.length}\r\n${extra}\r\n`;
  return { bytes: Buffer.concat([Buffer.from(head, 'latin1'), bytes]) };
}

function get(path: string, extra = ''): RawRequest {
  return { bytes: Buffer.from(`GET ${path} HTTP/1.1\r\nHost: diff\r\nConnection: close\r\n${extra}\r\n`, 'latin1') };
}

/** Valid and boundary requests on the two hot routes, generated from a seed. */
function hotRouteInputs(seed: number, count: number, tokens: Record<'publisher' | 'narrow' | 'subscriber' | 'expired', string>): RawRequest[] {
  const random = prng(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const topic = (): string => pick(['https://example.com/a', 'https://example.com/b/1', 'urn:x:c', '/relative', 'https://example.com/.well-known/mercure/x', '/.well-known/mercure/subscriptions/x', '']);
  const auth = (): string =>
    pick([
      `Authorization: Bearer ${tokens.publisher}\r\n`,
      `Authorization: Bearer ${tokens.narrow}\r\n`,
      `Authorization: Bearer ${tokens.expired}\r\n`,
      `Authorization: Basic abc\r\n`,
      '',
      `Cookie: mercureAuthorization=${tokens.publisher}\r\n`,
      `Cookie: mercureAuthorization=${tokens.publisher}\r\nOrigin: http://localhost\r\n`,
      `Cookie: mercureAuthorization=${tokens.publisher}\r\nOrigin: https://evil.example\r\n`,
      `Cookie: other=1; mercureAuthorization=${tokens.publisher}\r\nReferer: http://diff/page\r\nHost2: x\r\n`,
    ]);
  const type = (): string | undefined =>
    pick(['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'Application/X-WWW-Form-Urlencoded', 'application/json', 'application/json; charset=UTF-8', 'text/plain', 'application/jsonx', undefined, 'multipart/form-data; boundary=x']);
  const fields = (): Record<string, string | string[]> => {
    const f: Record<string, string | string[]> = { topic: random() < 0.2 ? [topic(), topic()] : topic() };
    if (random() < 0.8) f.data = pick(['hello', '', 'a\nb', 'x'.repeat(int(3000)), 'é😀', 'line\r\ninjected: x']);
    if (random() < 0.2) f.private = pick(['on', '']);
    if (random() < 0.2) f.id = pick(['my-id', '', 'bad\nid', `urn:x:${int(1e9)}`]);
    if (random() < 0.2) f.type = pick(['message', 'bad\rtype', '']);
    if (random() < 0.2) f.retry = pick(['1000', '-1', 'x', '99999999999999999999']);
    if (random() < 0.05) f.target = 'x';
    if (random() < 0.05) delete f.topic;
    return f;
  };
  const batch = (): string =>
    pick([
      () => JSON.stringify({ updates: Array.from({ length: 1 + int(5) }, () => ({ topic: topic(), data: 'b' })) }),
      () => JSON.stringify(Array.from({ length: 1 + int(3) }, () => ({ topics: [topic()], data: 'c', private: random() < 0.3 }))),
      () => JSON.stringify({ updates: [] }),
      () => JSON.stringify({ updates: [{ topic: 5 }] }),
      () => '{"updates": [{"topic": "a", "__proto__": {"x": 1}}]}',
      () => '{"constructor": {"prototype": {"x": 1}}}',
      () => '{not json',
      () => JSON.stringify({ nothing: true }),
    ])();
  const query = (): string => {
    const parts = Array.from({ length: int(4) }, () => `${pick(['topic', 'match', 'matchURLPattern', 'matchFoo', 'lastEventID', 'x'])}=${encodeURIComponent(pick(['https://example.com/a', 'https://example.com/{id}', '*', 'earliest', '', '%', '{', 'urn:x:c']))}`);
    if (random() < 0.2) parts.push(`authorization=${pick([tokens.subscriber, tokens.expired, 'garbage'])}`);
    return parts.length === 0 ? '' : `?${parts.join('&')}`;
  };
  const paths = (q: string): string => pick([`${HUB}${q}`, `${HUB}${q}`, `${HUB}${q}`, `${HUB}/${q}`, `${HUB}${q}#frag`, `/.well-known/%6Dercure${q}`, `${HUB};x${q}`, `http://diff${HUB}${q}`]);
  const one = (): RawRequest => {
    if (random() < 0.55) {
      const t = type();
      const body = t?.toLowerCase().includes('json') ? batch() : form(fields());
      return post(paths(random() < 0.2 ? query() : ''), t, body, auth());
    }
    const lastEventId = random() < 0.2 ? `Last-Event-ID: ${pick(['earliest', 'unknown', ''])}\r\n` : '';
    const withBody = random() < 0.05 ? 'Content-Length: 3\r\n\r\nabc' : '';
    const request = get(paths(query() || '?topic=https://example.com/a'), `${lastEventId}${random() < 0.3 ? `Authorization: Bearer ${pick([tokens.subscriber, tokens.expired])}\r\n` : ''}`);
    return withBody === '' ? request : { bytes: Buffer.concat([request.bytes.subarray(0, request.bytes.length - 2), Buffer.from(withBody)]) };
  };
  return Array.from({ length: count }, one);
}

/** Sends `bytes` in two writes split at `at`, with the first one flushed on its own. */
function splitExchange(portNumber: number, bytes: Buffer, at: number): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = connect(portNumber, '127.0.0.1');
    socket.setNoDelay(true);
    let received = '';
    socket.setEncoding('latin1');
    socket.on('connect', () => {
      socket.write(bytes.subarray(0, at), () => setTimeout(() => socket.write(bytes.subarray(at)), 1));
    });
    socket.on('data', (chunk: string) => (received += chunk));
    const done = (): void => {
      const end = received.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0);
      resolve({ status, headers: {}, body: end === -1 ? '' : received.slice(end + 4).replace(/^urn:uuid:.*/, '(id)'), closed: true, hung: false, stream: false });
    };
    socket.on('close', done);
    socket.on('error', () => undefined);
  });
}

async function pool<T>(items: readonly T[], run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) await run(items[next++]!);
  }));
}

/** Every update a hub keeps, as a sorted list of what the publisher chose (ids are the hub's). */
async function stored(herald: Herald): Promise<string[]> {
  const { updates } = await herald.broker.history({ afterId: null, filter: () => true, limit: 100_000 });
  return updates.map((u) => JSON.stringify([u.topics, u.data, u.private, u.type, u.retry])).sort();
}

for (const door of FRONT_DOORS) describe(door.name, () => {
  let lean: Herald;
  let plain: Herald;
  before(async () => {
    // Presence off: its subscription events would make the stored updates differ by connection timing.
    const config = { subscriptions: false, chat: false } as const;
    [lean, plain] = await Promise.all([startTestHerald({ ...config, ...door.config }), startTestHerald({ ...config, frontDoor: false })]);
  });
  after(() => Promise.all([lean.close(), plain.close()]));

  test('10,000+ requests get the same answers through the front door as through Fastify, and store the same updates', async () => {
    const tokens = {
      publisher: await publisherToken(),
      narrow: await publisherToken(['https://example.com/b/{id}']),
      subscriber: await subscriberToken(['*']),
      expired: await mintToken({ mercure: { subscribe: ['*'], publish: ['*'] } }, SUBSCRIBER_KEY, { expiresIn: -10 }),
    };
    const inputs: RawRequest[] = [
      ...hotRouteInputs(0xd00f, 7000, tokens),
      ...hostileInputs(0x5eed_2027, 3000, { publisher: tokens.publisher, subscriber: tokens.subscriber }).filter((input) => input.bytes.length < 200_000),
    ];
    const mismatches: string[] = [];
    await pool(inputs, async (input) => {
      const [a, b] = await Promise.all([rawExchange(port(lean), input, 5000), rawExchange(port(plain), input, 5000)]);
      const [na, nb] = [normalise(a), normalise(b)];
      try {
        assert.deepEqual(na, nb);
      } catch {
        if (mismatches.length < 5) mismatches.push(`${input.bytes.toString('latin1').slice(0, 300)}\n  front door: ${JSON.stringify(na)}\n  fastify:    ${JSON.stringify(nb)}`);
      }
    });
    assert.deepEqual(mismatches, [], mismatches.join('\n\n'));

    // Split at every byte: a publish (form), a batch and a subscription.
    const split = [
      post(HUB, 'application/x-www-form-urlencoded', form({ topic: 'https://example.com/split', data: 'split' }), `Authorization: Bearer ${tokens.publisher}\r\n`),
      post(HUB, 'application/json', JSON.stringify({ updates: [{ topic: 'https://example.com/split', data: 'batch' }] }), `Authorization: Bearer ${tokens.publisher}\r\n`),
      post(HUB, 'application/x-www-form-urlencoded', form({ topic: 'https://example.com/split' }), ''),
    ];
    for (const request of split) {
      for (let at = 1; at < request.bytes.length; at++) {
        const [a, b] = await Promise.all([splitExchange(port(lean), request.bytes, at), splitExchange(port(plain), request.bytes, at)]);
        assert.deepEqual([a.status, a.body.replace(/"ids":\["[^"]+"\]/, '')], [b.status, b.body.replace(/"ids":\["[^"]+"\]/, '')], `split at ${at}: ${request.bytes.toString('latin1').slice(0, 80)}`);
      }
    }
    const total = inputs.length + split.reduce((n, r) => n + r.bytes.length - 1, 0);
    assert.ok(total >= 10_000, `${total} requests`);

    const [leanStored, plainStored] = await Promise.all([stored(lean), stored(plain)]);
    assert.ok(leanStored.length > 100, `only ${leanStored.length} updates stored: the inputs publish too little to compare`);
    const onlyIn = (a: string[], b: string[]): string[] => {
      const rest = [...b];
      return a.filter((x) => {
        const at = rest.indexOf(x);
        if (at === -1) return true;
        rest.splice(at, 1);
        return false;
      });
    };
    assert.deepEqual({ lean: onlyIn(leanStored, plainStored).slice(0, 10), plain: onlyIn(plainStored, leanStored).slice(0, 10) }, { lean: [], plain: [] }, `${leanStored.length} vs ${plainStored.length} stored`);

    const stats = frontDoorOf(lean.app)?.stats;
    assert.ok(stats !== undefined, 'the lean Herald has a front door');
    assert.equal(frontDoorOf(plain.app), undefined, '--no-front-door has none');
    assert.ok(stats.served > inputs.length * 0.4, `the front door served ${stats.served} of ${inputs.length + total} requests (handed on ${stats.handedOn})`);
    const raw = rawDoorOf(lean.app)?.stats;
    if (door.config.rawFrontDoor) assert.ok(raw !== undefined && raw.served > inputs.length * 0.4, `the raw door served ${raw?.served} (handed over ${raw?.handedOver})`);
    else assert.equal(raw, undefined);
  });

  test('behind a proxy (--trust-proxy), the limits count the same client addresses through both doors', async () => {
    const config = { subscriptions: false, chat: false, trustProxy: true, publishRate: 1, publishBurst: 2, publishRateBy: 'ip', maxSubscriptionsPerIp: 1 } as const;
    const [a, b] = await Promise.all([startTestHerald({ ...config, ...door.config }), startTestHerald({ ...config, frontDoor: false })]);
    try {
      const token = await publisherToken();
      const body = form({ topic: 'https://example.com/proxied', data: 'x' });
      const forwarded = ['203.0.113.1', '203.0.113.1, 10.0.0.1', ' 203.0.113.1 ,10.0.0.2', '198.51.100.7', '', '203.0.113.1,', ',203.0.113.9', 'garbage', '2001:db8::1'];
      const requests: RawRequest[] = [];
      for (const xff of [...forwarded, ...forwarded]) {
        const header = xff === '' ? '' : `X-Forwarded-For: ${xff}\r\n`;
        requests.push(post(HUB, 'application/x-www-form-urlencoded', body, `Authorization: Bearer ${token}\r\n${header}`));
      }
      // Streams from each address too (each is closed once its head is in).
      for (const xff of forwarded) requests.push(get(`${HUB}?topic=x`, xff === '' ? '' : `X-Forwarded-For: ${xff}\r\n`));
      const answers: [unknown, unknown][] = [];
      for (const request of requests) {
        const [ra, rb] = await Promise.all([rawExchange(port(a), request, 5000), rawExchange(port(b), request, 5000)]);
        answers.push([normalise(ra), normalise(rb)]);
      }
      for (const [index, [ra, rb]] of answers.entries()) assert.deepEqual(ra, rb, `request ${index}: ${requests[index]!.bytes.toString('latin1').slice(0, 200)}`);
      const statuses = answers.map(([ra]) => (ra as { status: number }).status);
      assert.ok(statuses.includes(429), `the rate limit was reached for some address: ${statuses.join(' ')}`);
      assert.ok(frontDoorOf(a.app)!.stats.served >= requests.length, 'the front door served them all');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
