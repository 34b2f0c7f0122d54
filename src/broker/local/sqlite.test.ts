// The SQLite broker through the shared contract, plus what is specific to it: one
// transaction per event-loop turn, durability against a killed process, and the
// file itself trimmed to retention.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { idRange, makeUpdate, ManualClock, runBrokerContract } from '../contract/contract.js';
import type { BrokerHandle, BrokerOptions } from '../contract/contract.js';
import { SqliteBroker } from './sqlite.js';
import type { RetentionOptions } from '../types.js';

let root = '';
let counter = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'herald-sqlite-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A path in a directory that does not exist yet: opening must create it. */
function freshPath(): string {
  counter++;
  return join(root, `store-${counter}`, 'nested', 'herald.db');
}

async function openHandle(opts: BrokerOptions, path = freshPath()): Promise<BrokerHandle> {
  const opened: SqliteBroker[] = [await SqliteBroker.open({ path, ...opts })];
  return {
    broker: opened[0]!,
    async reopen() {
      const broker = await SqliteBroker.open({ path, ...opts });
      opened.push(broker);
      return broker;
    },
    async cleanup() {
      for (const broker of opened) await broker.close();
      await rm(join(path, '..', '..'), { recursive: true, force: true });
    },
  };
}

runBrokerContract('sqlite', { durable: true, shared: false, create: (opts) => openHandle(opts) });

const keepAll: RetentionOptions = { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 100_000 };

function rowCount(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM herald_updates').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

test('sqlite: 1000 publishes made in one turn are written in ONE transaction, then acknowledged in order', async () => {
  const broker = await SqliteBroker.open({ path: freshPath(), retention: keepAll });
  try {
    const seen: string[] = [];
    broker.onUpdate((u) => seen.push(u.id));
    const expected = idRange('b', 1, 1000);
    const pending = expected.map((id) => broker.publish(makeUpdate(id, 'urn:batch')));
    assert.deepEqual(seen, [], 'nothing acknowledged before the transaction');
    await Promise.all(pending);
    assert.deepEqual(broker.writeStats(), { batches: 1, updates: 1000 });
    assert.deepEqual(seen, expected);
    const single = broker.publish(makeUpdate('next', 'urn:batch'));
    await single;
    assert.deepEqual(broker.writeStats(), { batches: 2, updates: 1001 });
    assert.equal(seen.at(-1), 'next', 'listeners ran before publish() resolved');
  } finally {
    await broker.close();
  }
});

test('sqlite: close() called by a listener lets the batch finish in order and stores what was published before', async () => {
  const path = freshPath();
  const broker = await SqliteBroker.open({ path, retention: keepAll });
  const seen: string[] = [];
  let followUp: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  broker.onUpdate((u) => {
    seen.push(u.id);
    if (u.id !== 'a') return;
    followUp = broker.publish(makeUpdate('a-follow', 'urn:t'));
    closing = broker.close();
  });
  await Promise.all([broker.publish(makeUpdate('a', 'urn:t')), broker.publish(makeUpdate('b', 'urn:t'))]);
  await closing;
  await followUp;
  assert.deepEqual(seen, ['a', 'b', 'a-follow']);
  const reopened = await SqliteBroker.open({ path, retention: keepAll });
  try {
    assert.deepEqual((await reopened.history({ filter: () => true, limit: 10 })).updates.map((u) => u.id), ['a', 'b', 'a-follow']);
  } finally {
    await reopened.close();
  }
});

test('sqlite: a second broker opened on the file while the first is still open sees every acknowledged update', async () => {
  const path = freshPath();
  const first = await SqliteBroker.open({ path, retention: keepAll });
  const second: SqliteBroker[] = [];
  try {
    const expected = idRange('k', 1, 500);
    await Promise.all(expected.map((id) => first.publish(makeUpdate(id, `urn:k${id.length}`))));
    second.push(await SqliteBroker.open({ path, retention: keepAll }));
    const history = await second[0]!.history({ filter: () => true, limit: 1000 });
    assert.deepEqual(history.updates.map((u) => u.id), expected);
  } finally {
    await first.close();
    for (const broker of second) await broker.close();
  }
});

test('sqlite: updates acknowledged before the process is killed (SIGKILL) are in the file', async () => {
  const path = freshPath();
  const script = join(root, `writer-${counter}.mts`);
  const moduleUrl = pathToFileURL(join(import.meta.dirname, 'sqlite.ts')).href;
  await writeFile(
    script,
    `import { SqliteBroker } from ${JSON.stringify(moduleUrl)};
const broker = await SqliteBroker.open({ path: ${JSON.stringify(path)}, retention: { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 100000 } });
const all = [];
for (let i = 1; i <= 300; i++) all.push(broker.publish({ id: 'x' + i, topics: ['urn:x'], data: 'd' + i, private: false }));
await Promise.all(all);
process.stdout.write('stored\\n');
setInterval(() => {}, 1000);
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  try {
    const deadline = setTimeout(() => child.kill('SIGKILL'), 20_000);
    let out = '';
    for await (const chunk of child.stdout) {
      out += String(chunk);
      if (out.includes('stored\n')) break;
    }
    clearTimeout(deadline);
    assert.equal(out, 'stored\n');
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  const broker = await SqliteBroker.open({ path, retention: keepAll });
  try {
    const history = await broker.history({ filter: () => true, limit: 1000 });
    assert.deepEqual(history.updates.map((u) => u.id), idRange('x', 1, 300));
    assert.equal(history.updates[299]?.data, 'd300');
  } finally {
    await broker.close();
  }
});

test('sqlite: rows trimmed by retention are deleted from the file, and a lower retention trims it on open', async () => {
  const path = freshPath();
  const clock = new ManualClock();
  const perTopic = await SqliteBroker.open({ path, retention: { maxPerTopic: 2, maxAgeSeconds: 60, maxTotal: 1000 }, now: clock.now });
  for (const id of idRange('a', 1, 10)) await perTopic.publish(makeUpdate(id, 'urn:a'));
  await perTopic.publish(makeUpdate('b1', 'urn:b'));
  clock.advance(30_000);
  await perTopic.publish(makeUpdate('b2', 'urn:b'));
  clock.advance(40_000); // a9, a10, b1 expire; b2 is 40 s old
  assert.deepEqual((await perTopic.history({ filter: () => true, limit: 100 })).updates.map((u) => u.id), ['b2']);
  await perTopic.close();
  assert.equal(rowCount(path), 1, 'per-topic and age trimming reached the file');

  const writer = await SqliteBroker.open({ path, retention: keepAll, now: clock.now });
  for (const id of idRange('c', 1, 9)) await writer.publish(makeUpdate(id, `urn:c${id}`));
  await writer.close();
  assert.equal(rowCount(path), 10);
  const lower = await SqliteBroker.open({ path, retention: { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 3 }, now: clock.now });
  try {
    assert.equal(rowCount(path), 3, 'trimmed on open');
    assert.deepEqual((await lower.history({ filter: () => true, limit: 100 })).updates.map((u) => u.id), ['c7', 'c8', 'c9']);
  } finally {
    await lower.close();
  }
});

test('sqlite: an unopenable path is refused with store_unavailable', async () => {
  const blocker = join(root, 'a-file');
  await writeFile(blocker, 'not a directory');
  await assert.rejects(
    SqliteBroker.open({ path: join(blocker, 'herald.db'), retention: keepAll }),
    (e: unknown) => e instanceof Error && 'code' in e && e.code === 'store_unavailable',
  );
});

test('readiness follows failed writes: not ready while publishes fail on a full file, ready again once a write succeeds', async () => {
  const broker = await SqliteBroker.open({ path: freshPath(), retention: { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 100_000 } });
  try {
    // SQLITE_FULL, the error a full disk gives, from a page cap on this connection.
    const db = (broker as unknown as { store: { db: Database.Database } }).store.db;
    const pages = Number(db.pragma('page_count', { simple: true }));
    db.pragma(`max_page_count = ${pages + 2}`);
    const big = 'x'.repeat(64 * 1024);
    await assert.rejects(broker.publish(makeUpdate('full-1', 't', { data: big })), { code: 'store_unavailable' });
    assert.equal(await broker.isReady(), false, 'a read still answers, yet publishes fail');
    await assert.rejects(broker.publish(makeUpdate('full-2', 't', { data: big })), { code: 'store_unavailable' });
    assert.equal(await broker.isReady(), false);
    db.pragma('max_page_count = 1073741823'); // space freed
    assert.equal(await broker.isReady(), true, 'the probe write succeeds');
    await broker.publish(makeUpdate('after', 't', { data: big }));
    assert.equal(await broker.isReady(), true);
  } finally {
    await broker.close();
  }
});
