// The memory broker through the shared contract, plus what only an in-process
// broker promises: delivery happens before publish() resolves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBrokerContract } from '../contract/contract.js';
import type { BrokerHandle } from '../contract/contract.js';
import { makeUpdate } from '../contract/contract.js';
import { MemoryBroker } from './memory.js';
import type { Broker, RetentionOptions } from '../types.js';

runBrokerContract('memory', {
  durable: false,
  shared: false,
  async create(opts): Promise<BrokerHandle> {
    const opened: Broker[] = [new MemoryBroker(opts)];
    return {
      broker: opened[0]!,
      // Nothing to share: another memory broker is just another empty store.
      async reopen() {
        const broker = new MemoryBroker(opts);
        opened.push(broker);
        return broker;
      },
      async cleanup() {
        await Promise.all(opened.map((b) => b.close()));
      },
    };
  },
});

const retention: RetentionOptions = { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 1000 };

test('memory: listeners have run, in order, by the time publish() resolves', async () => {
  const broker = new MemoryBroker({ retention });
  const seen: string[] = [];
  broker.onUpdate((u) => seen.push(u.id));
  const first = broker.publish(makeUpdate('a', 'urn:t'));
  assert.deepEqual(seen, ['a'], 'delivered synchronously inside publish()');
  await first;
  await broker.publish(makeUpdate('b', 'urn:t'));
  assert.deepEqual(seen, ['a', 'b']);
  await broker.close();
});

test('memory: a throwing listener does not stop the others nor the publish', async () => {
  const broker = new MemoryBroker({ retention });
  const seen: string[] = [];
  broker.onUpdate(() => {
    throw new Error('boom');
  });
  broker.onUpdate((u) => seen.push(u.id));
  await broker.publish(makeUpdate('a', 'urn:t'));
  assert.deepEqual(seen, ['a']);
  await broker.close();
});

test('publishNow stores and delivers before it returns, and throws what publish rejects with', async () => {
  const broker = new MemoryBroker({ retention });
  const seen: string[] = [];
  broker.onUpdate((update) => seen.push(update.id));
  const update = makeUpdate('a', ['https://example.com/t']);
  broker.publishNow(update);
  assert.deepEqual(seen, ['a']);
  assert.equal((await broker.lastEventId()), 'a');
  const rejected = await broker.publish(update).then(() => undefined, (error: unknown) => error);
  assert.throws(() => broker.publishNow(update), (error: unknown) => error instanceof Error && error.message === (rejected as Error).message);
  assert.deepEqual(seen, ['a']);
  await broker.close();
});
