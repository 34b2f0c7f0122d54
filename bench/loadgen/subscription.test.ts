// End-to-end test of one bench subscriber against a scripted SSE server on loopback:
// the loss, duplicate, stale and latency accounting the smoke run relies on.
// Run: node --import tsx --test bench/*.test.ts bench/loadgen/*.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatPayload, nowUs } from './protocol.js';
import { Subscription, Tally } from './subscription.js';

function scriptedServer(events: string[]): Promise<Server> {
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/sse' ? 200 : 404, { 'content-type': 'text/event-stream' });
    for (const data of events) res.write(`id: x\ndata: ${data}\n\n`);
    res.end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('counts unique deliveries, duplicates, stale events and ignores probes', async () => {
  const sent = nowUs();
  const server = await scriptedServer([
    formatPayload(7, 0, sent),
    formatPayload(7, 1, sent),
    formatPayload(7, 2, sent),
    formatPayload(7, 2, sent),
    formatPayload(6, 3, sent),
    formatPayload(7, 4, sent),
  ]);
  try {
    const tally = new Tally();
    tally.reset(7);
    const sub = new Subscription(0, tally);
    const { port } = server.address() as AddressInfo;
    await sub.connect({ host: '127.0.0.1', port, path: '/sse' }, 5000);
    await sub.closed;
    assert.equal(sub.readyTag, 7);
    assert.equal(tally.delivered, 3);
    assert.equal(sub.uniqueIn(7), 3);
    assert.equal(sub.uniqueIn(6), 0);
    assert.equal(tally.duplicates, 1);
    assert.equal(tally.stale, 1);
    assert.equal(tally.disconnects, 1, 'the server ended the stream');
    assert.equal(tally.histogram.total, 3);
    assert.ok(tally.histogram.percentile(1) < 5_000_000, 'latency measured from the embedded send time');
    assert.equal(tally.fromSend.total, 3);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('the publisher\'s lateness is left out of the latency from the actual send', async () => {
  const sent = nowUs() - 50_000;
  const server = await scriptedServer([formatPayload(3, 0, sent), formatPayload(3, 1, sent, 40_000), formatPayload(3, 2, sent)]);
  try {
    const tally = new Tally();
    tally.reset(3);
    const sub = new Subscription(0, tally);
    const { port } = server.address() as AddressInfo;
    await sub.connect({ host: '127.0.0.1', port, path: '/sse' }, 5000);
    await sub.closed;
    assert.deepEqual([tally.histogram.total, tally.fromSend.total], [2, 2]);
    // Both events were stamped 50 ms ago; the first was sent 40 ms after its stamp.
    assert.ok(tally.histogram.percentile(0.01) >= 48_000, `from the stamp: ${tally.histogram.percentile(0.01)}`);
    assert.ok(tally.fromSend.percentile(0.01) < 40_000, `from the actual send: ${tally.fromSend.percentile(0.01)}`);
    assert.ok(tally.fromSend.percentile(1) >= 48_000, 'the event without lateness counts in full');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a refused subscription rejects with its status', async () => {
  const server = await scriptedServer([]);
  try {
    const sub = new Subscription(0, new Tally());
    const { port } = server.address() as AddressInfo;
    await assert.rejects(sub.connect({ host: '127.0.0.1', port, path: '/nope' }, 5000), /HTTP 404/);
    await sub.closed;
    assert.equal(sub.open, false);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
