// `herald backup <file>` copies a live SQLite store (WAL mode, publishes in flight)
// through the online backup API; a Herald started on the copy replays every update
// acknowledged before the backup began, in order.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { hubUrl, PUBLISHER_KEY, publish, publisherToken } from './support/herald.js';
import { spawnHerald } from './support/process.js';
import { collect } from './support/stream.js';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'herald-backup-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TOPIC = 'urn:backup';

test('backup of a live database while publishing; restored, it holds every update acknowledged before the backup', async () => {
  const live = join(dir, 'live.db');
  const copy = join(dir, 'copy.db');
  const token = await publisherToken();
  const args = ['--no-chat', '--no-subscriptions', '--publisher-jwt-key', PUBLISHER_KEY];
  const herald = await spawnHerald(['--store', `sqlite:${live}`, ...args]);
  const acknowledged: string[] = [];
  let stop = false;
  const publisher = async (p: number) => {
    for (let n = 0; !stop && n < 5000; n++) {
      const result = await publish(herald.url, { topic: TOPIC, data: `${p}:${n}` }, token);
      assert.equal(result.status, 200, result.body);
      acknowledged.push(result.body);
    }
  };
  let before: string[] = [];
  let output = '';
  try {
    const publishers = [0, 1, 2].map(publisher);
    while (acknowledged.length < 300) await new Promise((resolve) => setImmediate(resolve));
    before = [...acknowledged];
    const backup = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, 'backup', copy, '--store', `sqlite:${live}`], { timeout: 20_000 });
    output = backup.stdout;
    stop = true;
    await Promise.all(publishers);
  } finally {
    stop = true;
    assert.equal(await herald.stop(), 0);
  }
  assert.match(output, /backed up .*live\.db to .*copy\.db \(\d+ pages, \d+ ms\)/);
  assert.ok(acknowledged.length > before.length, 'publishes went on during the backup');

  // Every update acknowledged before the backup is in the copy (a snapshot taken at some
  // instant during the run). Three publishers race: acknowledgements may arrive in another
  // order than the log's, so the replay starts from the one the log holds first.
  const db = new Database(copy, { readonly: true });
  const seqOf = db.prepare('SELECT seq FROM herald_updates WHERE id = ?');
  const seqs = new Map(before.map((id) => [id, (seqOf.get(id) as { seq: number } | undefined)?.seq]));
  assert.deepEqual(before.filter((id) => seqs.get(id) === undefined), [], 'every update acknowledged before the backup is in the copy');
  const first = before.reduce((a, b) => (seqs.get(b)! < seqs.get(a)! ? b : a));
  const { after: count } = db.prepare('SELECT COUNT(*) AS after FROM herald_updates WHERE seq > ?').get(seqs.get(first)) as { after: number };
  db.close();
  assert.ok(count >= before.length - 1, `the copy holds ${count} updates after the first, ${before.length - 1} were acknowledged before the backup`);

  const restored = await spawnHerald(['--store', `sqlite:${copy}`, ...args]);
  try {
    const stream = collect(hubUrl(restored.url, [['topic', TOPIC], ['lastEventID', first]]));
    try {
      const replayed = new Set((await stream.waitFor(count)).map((e) => e.id));
      assert.equal(replayed.size, count);
      const missing = before.filter((id) => id !== first && !replayed.has(id));
      assert.deepEqual(missing, [], 'every update acknowledged before the backup is in the restored hub');
    } finally {
      stream.close();
    }
  } finally {
    assert.equal(await restored.stop(), 0);
  }
});
