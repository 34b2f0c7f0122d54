// The client against a hand-written server on a real socket, for what a healthy Herald
// never does: go silent with the connection open (half-open), end every stream after
// a `retry:` field, answer 503 with Retry-After.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { subscribe } from '../src/index.js';
import { recorder } from './support.js';

interface Raw {
  readonly url: string;
  /** The request line of each connection, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

const sockets = new Set<Socket>();
const servers: Raw[] = [];
after(async () => {
  for (const socket of sockets) socket.destroy();
  for (const server of servers) await server.close();
});

/** `answer(n, socket)` writes the n-th connection's reply (n from 0). */
async function rawServer(answer: (n: number, socket: Socket) => void): Promise<Raw> {
  const requests: string[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (chunk) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      requests.push(head.split('\r\n')[0] ?? '');
      answer(requests.length - 1, socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const raw = { url: `http://127.0.0.1:${address.port}/.well-known/mercure`, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  servers.push(raw);
  return raw;
}

const STREAM_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: keep-alive\r\n\r\n';

test('half-open: a connection that goes silent is dropped after the idle window and resumed from the last id', async () => {
  const server = await rawServer((n, socket) => {
    // The first connection sends one event and then nothing, keeping the socket open.
    if (n === 0) socket.write(`${STREAM_HEAD}id: e1\ndata: one\n\n`);
    else socket.write(`${STREAM_HEAD}: heartbeat\n\nid: e2\ndata: two\n\n`);
  });
  const rec = recorder();
  const sub = subscribe('t', rec.handlers, { hub: server.url, idleTimeoutMs: 400, initialDelayMs: 10 });
  await rec.until('both events', () => rec.events.length === 2);
  sub.close();
  assert.deepEqual(rec.ids(), ['e1', 'e2']);
  assert.equal(server.requests.length, 2);
  assert.match(server.requests[1] ?? '', /lastEventID=e1/);
  assert.deepEqual(rec.errors.map((e) => [e.error.code, e.fatal]), [['network', false]]);
  assert.match(rec.errors[0]?.error.message ?? '', /no byte for 400 ms/);
});

test('the server\'s retry: replaces the client\'s own first delay', async () => {
  // With a one-minute initial delay the second connection could not come within the
  // test's deadline unless `retry: 5` was honoured.
  const server = await rawServer((n, socket) => {
    if (n < 2) socket.end(`${STREAM_HEAD}retry: 5\nid: r${n}\ndata: ${n}\n\n`);
    else socket.write(`${STREAM_HEAD}id: r${n}\ndata: ${n}\n\n`);
  });
  const rec = recorder();
  const sub = subscribe('t', rec.handlers, { hub: server.url, initialDelayMs: 60_000, maxDelayMs: 120_000 });
  await rec.until('three connections', () => rec.events.length === 3, 5000);
  sub.close();
  assert.deepEqual(rec.ids(), ['r0', 'r1', 'r2']);
  assert.match(server.requests[2] ?? '', /lastEventID=r1/);
});

test('503 is retried (not a refusal), 401 from a non-Herald server is a refusal', async () => {
  const server = await rawServer((n, socket) => {
    const body = '{"error":"too_many_connections","message":"busy, try again"}';
    if (n === 0) socket.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 0\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    else socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  const rec = recorder();
  const sub = subscribe('t', rec.handlers, { hub: server.url, initialDelayMs: 10 });
  await rec.until('closed', () => sub.state === 'closed');
  assert.deepEqual(rec.errors.map((e) => [e.error.code, e.error.status, e.fatal]), [
    ['too_many_connections', 503, false],
    ['unauthorized', 401, true],
  ]);
  assert.deepEqual(rec.states, ['reconnecting', 'closed']);
});

test('a server that never answers the request is given up on after the idle window too', async () => {
  const server = await rawServer((n, socket) => {
    if (n > 0) socket.write(`${STREAM_HEAD}id: late\ndata: finally\n\n`);
  });
  const rec = recorder();
  const sub = subscribe('t', rec.handlers, { hub: server.url, idleTimeoutMs: 300, initialDelayMs: 10 });
  await rec.until('the event of the second connection', () => rec.events.length === 1);
  sub.close();
  assert.deepEqual(rec.ids(), ['late']);
  assert.equal(server.requests.length, 2);
});

test('204 means do not reconnect (the SSE spec)', async () => {
  const server = await rawServer((_n, socket) => socket.end('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n'));
  const rec = recorder();
  const sub = subscribe('t', rec.handlers, { hub: server.url, initialDelayMs: 10 });
  await rec.until('closed', () => sub.state === 'closed');
  assert.deepEqual(rec.errors.map((e) => [e.error.status, e.fatal]), [[204, true]]);
  assert.equal(server.requests.length, 1);
});

test('an event past maxEventLength drops the connection, which resumes from the last id', async () => {
  const server = await rawServer((n, socket) => {
    if (n === 0) socket.write(`${STREAM_HEAD}id: ok1\ndata: fine\n\ndata: ${'x'.repeat(5000)}`);
    else socket.write(`${STREAM_HEAD}id: ok2\ndata: fine again\n\n`);
  });
  const rec = recorder();
  const sub = subscribe('t', rec.handlers, { hub: server.url, maxEventLength: 1000, initialDelayMs: 10 });
  await rec.until('two events', () => rec.events.length === 2);
  sub.close();
  assert.deepEqual(rec.ids(), ['ok1', 'ok2']);
  assert.match(server.requests[1] ?? '', /lastEventID=ok1/);
  assert.match(rec.errors[0]?.error.message ?? '', /longer than 1000/);
});

test('an empty id: field forgets the last id, as EventSource does: the next connection resumes from nothing', async () => {
  const server = await rawServer((n, socket) => {
    if (n === 0) socket.end(`${STREAM_HEAD}retry: 5\nid: k1\ndata: one\n\nid\ndata: two\n\n`);
    else socket.write(`${STREAM_HEAD}id: k3\ndata: three\n\n`);
  });
  const stored = new Map<string, string>();
  const storage = { getItem: (k: string) => stored.get(k) ?? null, setItem: (k: string, v: string) => void stored.set(k, v) };
  const rec = recorder();
  const sub = subscribe('t', rec.handlers, { hub: server.url, initialDelayMs: 10, persist: storage });
  await rec.until('three events', () => rec.events.length === 3, 5000);
  sub.close();
  assert.deepEqual(rec.events.map((e) => [e.id, e.data]), [['k1', 'one'], ['', 'two'], ['k3', 'three']]);
  assert.doesNotMatch(server.requests[1] ?? '', /lastEventID/);
  assert.equal(sub.lastEventId, 'k3');
  // A page load after the reset but before k3 would have resumed from nothing too.
  assert.deepEqual([...stored.values()], ['k3']);
});
