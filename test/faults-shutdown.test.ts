// Graceful shutdown of the real CLI: on SIGTERM/SIGINT the streams get a `retry:`
// hint and end, publishes in flight finish and are stored, the process exits 0 in
// bounded time, and a client that reconnects to the restarted server resumes with
// nothing lost. A client that never lets go cannot hold the process past its bound.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { hubUrl, PUBLISHER_KEY, publishOk, publisherToken } from './support/herald.js';
import { captureLogs, freePort } from './support/observe.js';
import { spawnHerald } from './support/process.js';
import { collect } from './support/stream.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-shutdown-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TOPIC = 'urn:shutdown';
const BOUND_MS = 5000;

interface EndingStream {
  text(): string;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

function openStream(url: string): Promise<EndingStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Accept: 'text/event-stream' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      const ended = new Promise<void>((done) => res.once('end', () => done()));
      resolve({ text: () => text, ended, close: () => req.destroy() });
    });
    req.once('error', reject);
    req.end();
  });
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

test('SIGTERM: retry hint and end for every stream, in-flight publishes stored, exit 0 in bounds, clients resume without loss', async (t) => {
  const port = await freePort();
  const args = ['--store', `sqlite:${join(dir, 'term.db')}`, '--no-chat', '--no-subscriptions', '--publisher-jwt-key', PUBLISHER_KEY, '--port', String(port), '--shutdown-retry', '500'];
  const token = await publisherToken();
  const first = await spawnHerald(args);
  const streams = await Promise.all([1, 2, 3].map(() => openStream(hubUrl(first.url, [['topic', TOPIC]]))));
  const client = collect(hubUrl(first.url, [['topic', TOPIC]]));
  let second: Awaited<ReturnType<typeof spawnHerald>> | undefined;
  let secondLogs: ReturnType<typeof captureLogs> | undefined;
  try {
    await client.opened;
    const acknowledged: string[] = [];
    for (let i = 0; i < 20; i++) acknowledged.push(await publishOk(first.url, { topic: TOPIC, data: `before ${i}` }, token));
    await client.waitFor(20);

    // A burst is in flight when the signal comes.
    let stop = false;
    let signalledAt = 0;
    const publisher = async (p: number) => {
      for (let n = 0; !stop && n < 5000; n++) {
        try {
          const response = await fetch(`${first.url}/.well-known/mercure`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ topic: TOPIC, data: `burst ${p} ${n}` }).toString(),
          });
          const body = await response.text();
          if (response.status === 200) acknowledged.push(body);
          else if (signalledAt === 0) throw new Error(`publish refused before the signal: ${response.status} ${body}`);
          else return; // 503 while closing: refused, never acknowledged.
        } catch (error) {
          if (signalledAt === 0) throw error;
          return;
        }
        if (acknowledged.length >= 100 && signalledAt === 0) {
          signalledAt = Date.now();
          first.child.kill('SIGTERM');
        }
      }
    };
    const burst = Promise.all([0, 1, 2, 3].map(publisher));
    const code = await within(first.exited, BOUND_MS + 1000, 'exit after SIGTERM');
    const shutdownMs = Date.now() - signalledAt;
    stop = true;
    await burst;
    assert.equal(code, 0);
    assert.ok(shutdownMs < BOUND_MS, `shut down in ${shutdownMs} ms`);
    for (const stream of streams) {
      await within(stream.ended, 1000, 'the stream end');
      const hint = /\nretry: (\d+)\n\n$/.exec(stream.text());
      assert.ok(hint, `the stream ends with a retry hint: ${JSON.stringify(stream.text().slice(-60))}`);
      assert.ok(Number(hint[1]) >= 250 && Number(hint[1]) < 750, `retry ${hint[1]} is 500 ms +-50%`);
    }

    second = await spawnHerald(args);
    secondLogs = captureLogs(second.child.stdout!);
    const afterRestart: string[] = [];
    for (let i = 0; i < 10; i++) afterRestart.push(await publishOk(second.url, { topic: TOPIC, data: `after ${i}` }, token));
    const history = collect(hubUrl(second.url, [['topic', TOPIC], ['lastEventID', 'earliest']]));
    const kept = await history.waitFor(acknowledged.length + afterRestart.length);
    history.close();
    const keptIds = kept.map((e) => e.id);
    assert.deepEqual(acknowledged.filter((id) => !keptIds.includes(id)), [], 'every acknowledged publish was stored');
    // The client reconnected by itself (Last-Event-ID) and got what it missed, once, in order.
    const everything = history.events.map((e) => e.id);
    const got = await client.waitFor(everything.length, 10_000);
    assert.deepEqual(got.map((e) => e.id), everything);
    assert.equal(client.events.length, everything.length, 'nothing twice');
    t.diagnostic(`SIGTERM -> exit 0 in ${shutdownMs} ms; ${acknowledged.length} acknowledged (${acknowledged.length - 20} in the burst), all stored; client resumed with ${everything.length} events, 0 lost, 0 duplicated`);
  } finally {
    client.close();
    for (const stream of streams) stream.close();
    if (second) assert.equal(await second.stop(), 0, JSON.stringify(secondLogs?.lines.slice(-4)));
    await first.stop('SIGKILL');
  }
});

test('SIGINT: the same clean exit, with the retry hint', async (t) => {
  const server = await spawnHerald(['--store', 'memory', '--no-chat', '--publisher-jwt-key', PUBLISHER_KEY, '--shutdown-retry', '3000']);
  const stream = await openStream(hubUrl(server.url, [['topic', TOPIC]]));
  const started = Date.now();
  const code = await within(server.stop('SIGINT'), BOUND_MS, 'exit after SIGINT');
  const ms = Date.now() - started;
  await within(stream.ended, 1000, 'the stream end');
  assert.equal(code, 0);
  const hint = /(?:^|\n)retry: (\d+)\n\n$/.exec(stream.text());
  assert.ok(hint && Number(hint[1]) >= 1500 && Number(hint[1]) < 4500, `retry hint 3000 ms +-50%: ${JSON.stringify(stream.text())}`);
  t.diagnostic(`SIGINT -> exit 0 in ${ms} ms`);
});

test('a request that never completes cannot hold the process: forced exit after --shutdown-timeout, with a log line', async (t) => {
  const server = await spawnHerald(['--store', 'memory', '--no-chat', '--publisher-jwt-key', PUBLISHER_KEY, '--shutdown-timeout', '1000', '--log-level', 'debug']);
  assert.ok(server.child.stdout);
  const logs = captureLogs(server.child.stdout);
  const { hostname, port } = new URL(server.url);
  // Half a body, then silence: the request stays in flight.
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(`POST /.well-known/mercure HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ntopic=urn`);
  // Its head was read (debug line) before the signal: it is a request in flight, not an idle connection.
  await logs.waitFor((l) => l.msg === 'request received' && (l.req as { method?: string } | undefined)?.method === 'POST');
  const started = Date.now();
  try {
    const code = await within(server.stop('SIGTERM'), 4000, 'forced exit');
    const ms = Date.now() - started;
    assert.equal(code, 1);
    assert.ok(ms >= 900 && ms < 3000, `forced after ${ms} ms`);
    const forced = await logs.waitFor((l) => /forcing exit/.test(String(l.msg)), 1000);
    assert.equal(forced.level, 50);
    t.diagnostic(`stuck request: forced exit (code 1) after ${ms} ms`);
  } finally {
    socket.destroy();
  }
});

test('a connection that never sent a byte does not hold the shutdown (Node\'s idle sweep skips those)', async (t) => {
  const server = await spawnHerald(['--store', 'memory', '--no-chat', '--publisher-jwt-key', PUBLISHER_KEY, '--shutdown-timeout', '3000']);
  const { hostname, port } = new URL(server.url);
  const silent = connect(Number(port), hostname);
  silent.on('error', () => undefined);
  const closedByServer = new Promise<void>((resolve) => silent.once('close', () => resolve()));
  silent.resume();
  await new Promise<void>((resolve) => silent.once('connect', () => resolve()));
  // The server has accepted it once it answers a request made after it on another connection.
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  const started = Date.now();
  try {
    assert.equal(await within(server.stop('SIGTERM'), 4000, 'exit'), 0);
    const ms = Date.now() - started;
    assert.ok(ms < 1000, `exit in ${ms} ms`);
    await within(closedByServer, 1000, 'the silent connection closed');
    t.diagnostic(`silent connection: exit 0 in ${ms} ms`);
  } finally {
    silent.destroy();
  }
});
