// Slow consumers: 100 subscribers stop reading (their sockets are paused) while a
// publisher floods tens of MB through the real CLI. They must be cut off past
// --subscriber-buffer, the subscribers that do read must get every event with a
// bounded latency, and the server's resident memory must stay bounded.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { PUBLISHER_KEY, publisherToken } from './support/herald.js';
import { metricSample, rssOf, scrapeMetrics } from './support/observe.js';
import { spawnHerald } from './support/process.js';

const TOPIC = 'urn:flood';
const PAUSED = 100;
const READERS = 5;
const EVENTS = 1600;
const PAD = 'x'.repeat(16 * 1024);
const BUFFER = 1 << 20;

/** Opens an event stream on a bare socket; resolves once the response head is in. */
function openStream(url: string): Promise<{ socket: Socket; head: string; rest: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      resolve({ socket, head: received.subarray(0, end).toString('latin1'), rest: received.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`GET /.well-known/mercure?topic=${encodeURIComponent(TOPIC)} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n\r\n`);
  });
}

/** A subscriber that reads everything: records each event's sequence number and latency. */
class Reader {
  readonly seqs: number[] = [];
  readonly latencies: number[] = [];
  private text = '';
  private waiter: (() => void) | undefined;

  constructor(socket: Socket, rest: Buffer) {
    socket.setEncoding('utf8');
    this.consume(rest.toString('utf8'));
    socket.on('data', (chunk: string) => this.consume(chunk));
  }

  private consume(chunk: string): void {
    this.text += chunk;
    let end: number;
    while ((end = this.text.indexOf('\n\n')) >= 0) {
      const event = this.text.slice(0, end);
      this.text = this.text.slice(end + 2);
      const match = /^data: (\d+) (\d+) /m.exec(event);
      if (match === null) continue;
      this.seqs.push(Number(match[1]));
      this.latencies.push(Date.now() - Number(match[2]));
    }
    if (this.seqs.length >= EVENTS) this.waiter?.();
  }

  all(timeoutMs: number): Promise<void> {
    if (this.seqs.length >= EVENTS) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`reader got ${this.seqs.length} of ${EVENTS} events`)), timeoutMs);
      this.waiter = () => {
        clearTimeout(deadline);
        resolve();
      };
    });
  }
}

test(`${PAUSED} subscribers that stop reading are cut off; ${READERS} readers get every event in bounded time; RSS stays bounded`, async (t) => {
  const server = await spawnHerald(['--store', 'memory', '--no-chat', '--no-subscriptions', '--publisher-jwt-key', PUBLISHER_KEY, '--subscriber-buffer', String(BUFFER), '--heartbeat', '0']);
  const pid = server.child.pid!;
  const sockets: Socket[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    const paused: Socket[] = [];
    for (let i = 0; i < PAUSED; i++) {
      const { socket, head } = await openStream(server.url);
      assert.match(head, /^HTTP\/1\.1 200/);
      socket.pause();
      paused.push(socket);
      sockets.push(socket);
    }
    const readers: Reader[] = [];
    for (let i = 0; i < READERS; i++) {
      const { socket, rest } = await openStream(server.url);
      readers.push(new Reader(socket, rest));
      sockets.push(socket);
    }
    assert.equal(metricSample(await scrapeMetrics(server.url), 'herald_connections'), PAUSED + READERS);

    const baseline = rssOf(pid);
    let peak = baseline;
    // Measuring, not synchronising: the peak is what the assertion is about.
    sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 25);
    const token = await publisherToken();
    const publisher = async (first: number, step: number) => {
      for (let seq = first; seq < EVENTS; seq += step) {
        const body = new URLSearchParams({ topic: TOPIC, data: `${seq} ${Date.now()} ${PAD}` }).toString();
        const response = await fetch(`${server.url}/.well-known/mercure`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
          body,
        });
        assert.equal(response.status, 200, await response.text());
        await response.arrayBuffer().catch(() => undefined);
      }
    };
    const started = Date.now();
    await Promise.all([publisher(0, 2), publisher(1, 2)]);
    await Promise.all(readers.map((r) => r.all(30_000)));
    const floodMs = Date.now() - started;
    clearInterval(sampler);
    peak = Math.max(peak, rssOf(pid));

    for (const reader of readers) {
      assert.equal(reader.seqs.length, EVENTS, 'no event lost, none twice');
      assert.deepEqual([...new Set(reader.seqs)].sort((a, b) => a - b), Array.from({ length: EVENTS }, (_, i) => i));
    }
    const latencies = readers.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const p50 = latencies[Math.floor(latencies.length * 0.5)]!;
    const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
    const metrics = await scrapeMetrics(server.url);
    const dropped = metricSample(metrics, 'herald_slow_consumers_dropped_total');
    const floodMb = (EVENTS * PAD.length) / 1e6;
    const growthMb = (peak - baseline) / 1e6;
    t.diagnostic(
      `flood ${floodMb.toFixed(1)} MB in ${floodMs} ms; dropped ${dropped}; reader latency p50 ${p50} ms p99 ${p99} ms; ` +
        `server RSS ${(baseline / 1e6).toFixed(0)} MB -> peak ${(peak / 1e6).toFixed(0)} MB (+${growthMb.toFixed(0)} MB)`,
    );
    assert.ok(p99 < 1000, `reader p99 latency ${p99} ms stays under 1 s`);
    assert.equal(dropped, PAUSED);
    assert.equal(metricSample(metrics, 'herald_connections'), READERS);
    assert.ok(growthMb < 300, `server RSS grew by ${growthMb.toFixed(0)} MB`);

    // The cut-off subscribers see their stream end once they read again, short of the flood.
    const cut = await Promise.all(
      paused.map(
        (socket) =>
          new Promise<number>((resolve, reject) => {
            let bytes = 0;
            const deadline = setTimeout(() => reject(new Error(`paused subscriber not closed after ${bytes} bytes`)), 15_000);
            socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
            socket.once('close', () => {
              clearTimeout(deadline);
              resolve(bytes);
            });
            socket.on('error', () => undefined);
            socket.resume();
          }),
      ),
    );
    for (const bytes of cut) assert.ok(bytes < EVENTS * PAD.length, `a cut-off subscriber got ${bytes} bytes, less than the flood`);
  } finally {
    if (sampler) clearInterval(sampler);
    for (const socket of sockets) socket.destroy();
    assert.equal(await server.stop(), 0);
  }
});
