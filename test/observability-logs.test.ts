// Structured logs: request ids (kept from a sane X-Request-Id, made up otherwise,
// echoed back), connect/disconnect/publish lines at debug, errors at warn, nothing
// chatty at info, and never a token. The first test reads the real CLI's stdout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { testConfig, type Config } from '../src/config.js';
import { startHerald } from '../src/herald.js';
import { hubUrl, publish, PUBLISHER_KEY, publisherToken, SUBSCRIBER_KEY, subscriberToken } from './support/herald.js';
import { captureLogs, memoryDestination, type LogLine } from './support/observe.js';
import { spawnHerald } from './support/process.js';
import { rawStream } from './support/stream.js';

const DEBUG = 20;
const WARN = 40;

test('at debug: request ids on every request line, and connect, publish and disconnect lines; no token anywhere', async () => {
  const server = await spawnHerald(['--store', 'memory', '--no-chat', '--publisher-jwt-key', PUBLISHER_KEY, '--subscriber-jwt-key', SUBSCRIBER_KEY, '--log-level', 'debug']);
  assert.ok(server.child.stdout);
  const logs = captureLogs(server.child.stdout);
  try {
    const traced = await fetch(`${server.url}/healthz`, { headers: { 'X-Request-Id': 'trace-42' } });
    assert.equal(traced.headers.get('x-request-id'), 'trace-42');
    const done = await logs.waitFor((l) => l.reqId === 'trace-42' && l.msg === 'request completed');
    assert.equal((done.res as { statusCode: number }).statusCode, 200);
    assert.ok(logs.lines.some((l) => l.reqId === 'trace-42' && l.msg === 'request received'));

    // Not an id (spaces, quotes): replaced by a fresh one, different for each request.
    const fresh = await Promise.all([1, 2].map(() => fetch(`${server.url}/healthz`, { headers: { 'X-Request-Id': 'not "an" id' } })));
    const ids = fresh.map((r) => r.headers.get('x-request-id') ?? '');
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-z]+$/);
    assert.notEqual(ids[0], ids[1]);

    const subscribeToken = await subscriberToken(['urn:logs']);
    const stream = await rawStream(hubUrl(server.url, [['topic', 'urn:logs'], ['authorization', subscribeToken]]), { 'X-Request-Id': 'stream-7' });
    assert.equal(stream.headers['x-request-id'], 'stream-7');
    const received = await logs.waitFor((l) => l.reqId === 'stream-7' && l.msg === 'request received');
    assert.match(String((received.req as { url: string }).url), /authorization=\[redacted\]/);
    const connected = await logs.waitFor((l) => l.msg === 'subscriber connected');
    assert.equal(connected.level, DEBUG);
    assert.deepEqual(connected.topics, ['urn:logs']);
    assert.match(String(connected.subscriber), /^urn:uuid:/);

    const publishToken = await publisherToken();
    const published = await publish(server.url, { topic: 'urn:logs', data: 'hello' }, publishToken);
    assert.equal(published.status, 200);
    const stored = await logs.waitFor((l) => l.msg === 'update stored' && l.id === published.body);
    assert.deepEqual(stored.topics, ['urn:logs']);
    await stream.waitForText('data: hello');

    stream.close();
    const gone = await logs.waitFor((l) => l.msg === 'subscriber disconnected' && l.subscriber === connected.subscriber);
    assert.equal(gone.level, DEBUG);
    const closed = await logs.waitFor((l) => l.reqId === 'stream-7' && l.msg === 'stream closed', 5000, 'the stream\'s request line at its end');
    assert.equal(typeof closed.responseTime, 'number');

    const everything = logs.lines.map((l) => JSON.stringify(l)).join('\n');
    assert.ok(!everything.includes(subscribeToken), 'the subscriber token is never logged');
    assert.ok(!everything.includes(publishToken), 'the publisher token is never logged');
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

async function inProcess(level: Config['logLevel']) {
  const destination = memoryDestination();
  const logger = pino({ level }, destination);
  const herald = await startHerald(testConfig({ publisherJwtKey: PUBLISHER_KEY, subscriberJwtKey: SUBSCRIBER_KEY, heartbeatSeconds: 0, chat: false, logLevel: level }), logger);
  return { herald, lines: destination.lines };
}

test('at info: traffic writes no log line at all', async () => {
  const { herald, lines } = await inProcess('info');
  try {
    const before = lines.length;
    const stream = await rawStream(hubUrl(herald.url, [['topic', 'urn:quiet']]));
    assert.equal((await publish(herald.url, { topic: 'urn:quiet', data: 'x' }, await publisherToken())).status, 200);
    await stream.waitForText('data: x');
    stream.close();
    assert.equal((await fetch(`${herald.url}/healthz`)).status, 200);
    assert.deepEqual(lines.slice(before), []);
  } finally {
    await herald.close();
  }
});

test('a store failure is logged at warn, with the request id on the request\'s line', async () => {
  const { herald, lines } = await inProcess('info');
  try {
    await herald.broker.close();
    const token = await publisherToken();
    const answers = await Promise.all([1, 2, 3].map((n) => publish(herald.url, { topic: 'urn:down', data: `${n}` }, token)));
    assert.deepEqual(answers.map((a) => a.status), [503, 503, 503]);
    const warnings = lines.filter((l: LogLine) => l.level === WARN);
    const store = warnings.filter((l) => l.msg === 'store operation failed');
    assert.equal(store.length, 1, 'a store that is down is reported once per interval, not once per request');
    assert.equal(store[0]!.operation, 'publish');
    const replies = warnings.filter((l) => l.code === 'store_unavailable');
    assert.equal(replies.length, 3);
    for (const line of replies) assert.equal(typeof line.reqId, 'string');
  } finally {
    await herald.close();
  }
});
