// Redis outages, played on a PRIVATE redis-server child (never the shared one on 6379):
// publishes fail fast while it is down, the process survives, and after a restart the
// reader delivers again with every acknowledged publish delivered exactly once.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { freePort } from '../../ports.js';
import { isHeraldError } from '../../errors.js';
import { KEEP_ALL, makeUpdate, Recorder } from '../contract/contract.js';
import { createRedisBroker } from './redis-broker.js';

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedisServer && process.env.CI) throw new Error('redis-server is required under CI for the Redis fault tests');
const skip = hasRedisServer ? false : 'redis-server is not installed';

const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
});


/** Starts redis-server on the port and resolves once it accepts connections. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start in 5 s:\n${output}`)), 5000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

test('redis faults: unreachable at start rejects with store_unavailable', { skip }, async () => {
  const port = await freePort();
  const startedAt = Date.now();
  await assert.rejects(
    createRedisBroker({ url: `redis://127.0.0.1:${port}`, prefix: 'faults:', retention: KEEP_ALL }),
    (e: unknown) => isHeraldError(e) && e.code === 'store_unavailable',
  );
  assert.ok(Date.now() - startedAt < 4000, 'gave up within the connect timeout');
});

test('redis faults: an outage fails publishes fast; after a restart delivery resumes, exactly once', { skip }, async () => {
  const port = await freePort();
  let server = await startRedis(port);
  const broker = await createRedisBroker({ url: `redis://127.0.0.1:${port}/0`, prefix: 'faults:', retention: KEEP_ALL, presenceTtlMs: 300 });
  const recorder = new Recorder(broker);
  const subscription = { id: '/.well-known/mercure/subscriptions/urn%3Afaults/urn%3Auuid%3As', topic: 'urn:faults', subscriber: 'urn:uuid:s' };
  await broker.addSubscriptions([subscription]);
  const acknowledged: string[] = [];
  const publish = async (id: string): Promise<void> => {
    await broker.publish(makeUpdate(id, 'urn:faults'));
    acknowledged.push(id);
  };
  try {
    for (let i = 1; i <= 5; i++) await publish(`before-${i}`);
    await recorder.waitForId('before-5');

    // Publishes racing the kill either resolve or fail: either way they must not hang.
    const racing = Array.from({ length: 20 }, (_, i) => publish(`racing-${i}`).catch((e: unknown) => e));
    await kill(server);
    const raced = await Promise.all(racing);
    for (const outcome of raced) {
      if (outcome !== undefined) assert.ok(isHeraldError(outcome) && outcome.code === 'store_unavailable', String(outcome));
    }

    const outageTimes: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const startedAt = Date.now();
      await assert.rejects(publish(`during-${i}`), (e: unknown) => isHeraldError(e) && e.code === 'store_unavailable');
      outageTimes.push(Date.now() - startedAt);
    }
    assert.ok(Math.max(...outageTimes) < 2000, `publish took ${outageTimes.join(', ')} ms to fail`);
    assert.equal(await broker.isReady(), false);
    await assert.rejects(broker.history({ filter: () => true, limit: 10 }), (e: unknown) => isHeraldError(e) && e.code === 'store_unavailable');

    server = await startRedis(port);
    // The broker reconnects on its own backoff (at most ~2 s); poll readiness, bounded.
    const deadline = Date.now() + 10_000;
    while (!(await broker.isReady())) {
      assert.ok(Date.now() < deadline, 'the broker did not reconnect within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (let i = 1; i <= 5; i++) await publish(`after-${i}`);
    await recorder.waitForId('after-5');

    // The restarted server has no data, but the reader followed the new stream.
    assert.equal(new Set(recorder.ids).size, recorder.ids.length, `a duplicate delivery: ${recorder.ids.join(',')}`);
    const settled = (ids: string[]): string[] => ids.filter((id) => !id.startsWith('racing-'));
    assert.deepEqual(settled(recorder.ids), settled(acknowledged), 'every acknowledged publish delivered once, in order');
    // A racing publish Redis stored but the reader had not fetched yet died with the
    // server's memory; what did arrive was acknowledged and in call order.
    const racingSeen = recorder.ids.filter((id) => id.startsWith('racing-'));
    assert.deepEqual(racingSeen, acknowledged.filter((id) => racingSeen.includes(id)));
    assert.deepEqual(
      recorder.ids.filter((id) => id.startsWith('after-')),
      ['after-1', 'after-2', 'after-3', 'after-4', 'after-5'],
    );
    const history = await broker.history({ filter: () => true, limit: 100 });
    assert.deepEqual(
      history.updates.map((u) => u.id),
      ['after-1', 'after-2', 'after-3', 'after-4', 'after-5'],
    );
    // Presence was lost with the server's memory too; the next heartbeat puts it back.
    let listed = await broker.listSubscriptions();
    while (listed.length === 0) {
      assert.ok(Date.now() < deadline, 'presence was not restored');
      await new Promise((resolve) => setTimeout(resolve, 25));
      listed = await broker.listSubscriptions();
    }
    assert.deepEqual(listed, [subscription]);
  } finally {
    await broker.close();
    await kill(server);
  }
});

test('redis faults: a stalled server (SIGSTOP) fails publish after the command timeout, then recovers', { skip }, async () => {
  const port = await freePort();
  const server = await startRedis(port);
  const broker = await createRedisBroker({ url: `redis://127.0.0.1:${port}/0`, prefix: 'stall:', retention: KEEP_ALL });
  const recorder = new Recorder(broker);
  try {
    await broker.publish(makeUpdate('s1', 'urn:stall'));
    await recorder.waitForId('s1');
    server.kill('SIGSTOP');
    const startedAt = Date.now();
    await assert.rejects(broker.publish(makeUpdate('stalled', 'urn:stall')), (e: unknown) => isHeraldError(e) && e.code === 'store_unavailable');
    const took = Date.now() - startedAt;
    assert.ok(took >= 900 && took < 2000, `failed after ${took} ms`);
    assert.equal(await broker.isReady(), false);
    server.kill('SIGCONT');
    await broker.publish(makeUpdate('s2', 'urn:stall'));
    await recorder.waitForId('s2');
    // The stalled script sat in Redis' socket buffer and ran on SIGCONT, past its
    // deadline: it must not store what the caller was told had failed.
    assert.deepEqual(recorder.ids, ['s1', 's2']);
    assert.deepEqual((await broker.history({ filter: () => true, limit: 10 })).updates.map((u) => u.id), ['s1', 's2']);
  } finally {
    await broker.close();
    await kill(server);
  }
});
