// The front door serves the hub's hot routes itself (the differential test shows it
// answers as Fastify would) and lets an event stream keep only its socket: Node's
// request, response and parser are released once the head is written, and the stream
// still delivers, still ends when the client leaves, and still gives its slot back.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type AddressInfo } from 'node:net';
import { frontDoorOf } from '../src/http/server.js';
import { FRONT_DOORS, hubUrl, publishOk, startTestHerald } from './support/herald.js';
import { rawStream } from './support/stream.js';

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

for (const door of FRONT_DOORS) describe(door.name, () => {
  test('a released stream delivers, ends with its client, and frees its per-address slot', async () => {
    const herald = await startTestHerald({ maxSubscriptionsPerIp: 1, subscriptions: false, ...door.config });
    try {
      const frontDoor = frontDoorOf(herald.app);
      assert.ok(frontDoor !== undefined);
      const url = hubUrl(herald.url, [['topic', 'https://example.com/door']]);
      const first = await rawStream(url);
      assert.equal(first.status, 200);
      // The raw door never made Node's request state; the node:http door released it.
      assert.equal(frontDoor.stats.released, door.config.rawFrontDoor ? 0 : 1, 'Node\'s request state was released');
      const id = await publishOk(herald.url, { topic: 'https://example.com/door', data: 'through the door' });
      await first.waitForText(`id: ${id}\ndata: through the door\n\n`);
      assert.equal((await rawStream(url).then((s) => (s.close(), s.status))), 429, 'one stream per address');
      first.close();
      await until(() => herald.hub.subscriberCount === 0, 'the hub saw the client leave');
      const second = await rawStream(url);
      assert.equal(second.status, 200, 'the slot came back with the socket');
      second.close();
    } finally {
      await herald.close();
    }
  });

  test('bytes sent on a released stream after its request end the connection', async () => {
    const herald = await startTestHerald({ subscriptions: false, ...door.config });
    try {
      const port = (herald.app.server.address() as AddressInfo).port;
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (received += chunk));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write('GET /.well-known/mercure?topic=x HTTP/1.1\r\nHost: t\r\n\r\n');
      await until(() => received.includes('\r\n\r\n'), 'the stream head');
      assert.match(received, /^HTTP\/1\.1 200 OK\r\n/);
      await until(() => herald.hub.subscriberCount === 1, 'subscribed');
      socket.write('GET /.well-known/mercure?topic=y HTTP/1.1\r\nHost: t\r\n\r\n');
      await closed;
      await until(() => herald.hub.subscriberCount === 0, 'the subscriber is gone');
      assert.equal(frontDoorOf(herald.app)?.stats.released, door.config.rawFrontDoor ? 0 : 1);
    } finally {
      await herald.close();
    }
  });
});

