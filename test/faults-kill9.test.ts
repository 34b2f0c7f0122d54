// kill -9 in the middle of a publish burst, three times over one SQLite file: after
// the last restart, every update that got a 200 is in history, each publisher's
// updates in the order it sent them. Updates in flight at the kill may or may not
// be there (their publisher was never told either way), but never twice.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { hubUrl, PUBLISHER_KEY, publisherToken } from './support/herald.js';
import { spawnHerald } from './support/process.js';
import { collect } from './support/stream.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-kill9-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TOPIC = 'urn:burst';
const PUBLISHERS = 8;
const ROUNDS = 3;
/** Acknowledged updates after which the server is killed, each round. */
const KILL_AFTER = 300;

test(`kill -9 during a publish burst (${ROUNDS} times): every acknowledged update is in history after restart`, async (t) => {
  const args = ['--store', `sqlite:${join(dir, 'burst.db')}`, '--no-chat', '--no-subscriptions', '--publisher-jwt-key', PUBLISHER_KEY];
  const token = await publisherToken();
  const acknowledged: string[] = [];
  let attempted = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const server = await spawnHerald(args);
    let killed = false;
    const publisher = async (p: number) => {
      for (let n = 0; !killed && n < 10_000; n++) {
        const id = `urn:r${round}:p${p}:n${String(n).padStart(5, '0')}`;
        attempted++;
        try {
          const response = await fetch(`${server.url}/.well-known/mercure`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ topic: TOPIC, id, data: `round ${round} publisher ${p} #${n}` }).toString(),
          });
          const body = await response.text();
          if (response.status !== 200) throw new Error(`publish refused: ${response.status} ${body}`);
          assert.equal(body, id);
          acknowledged.push(id);
          if (acknowledged.length >= (round + 1) * KILL_AFTER && !killed) {
            killed = true;
            server.child.kill('SIGKILL');
          }
        } catch (error) {
          if (!killed) throw error;
          return; // The connection died with the server: this one was never acknowledged.
        }
      }
    };
    await Promise.all(Array.from({ length: PUBLISHERS }, (_, p) => publisher(p)));
    assert.equal(await server.exited, 'SIGKILL');
  }

  const server = await spawnHerald(args);
  const history = collect(hubUrl(server.url, [['topic', TOPIC], ['lastEventID', 'earliest']]));
  try {
    const wanted = new Set(acknowledged);
    // Everything acknowledged, plus what was stored while its answer was lost, arrives in one replay.
    const deadline = Date.now() + 15_000;
    while ([...wanted].some((id) => !history.events.some((e) => e.id === id)) && Date.now() < deadline) {
      await history.waitFor(history.events.length + 1, Math.max(1, deadline - Date.now())).catch(() => undefined);
    }
    const ids = history.events.map((e) => e.id);
    const found = acknowledged.filter((id) => ids.includes(id));
    t.diagnostic(`${attempted} publishes attempted over ${ROUNDS} kills; ${acknowledged.length} acknowledged, ${found.length} found; ${ids.length - found.length} stored but unacknowledged (in flight at the kill)`);
    assert.equal(found.length, acknowledged.length, `missing: ${acknowledged.filter((id) => !ids.includes(id)).slice(0, 5).join(', ')}`);
    assert.equal(new Set(ids).size, ids.length, 'no update stored twice');
    // Each publisher's updates are in history in the order it sent them.
    for (let round = 0; round < ROUNDS; round++) {
      for (let p = 0; p < PUBLISHERS; p++) {
        const mine = ids.filter((id) => id.startsWith(`urn:r${round}:p${p}:`));
        assert.deepEqual(mine, [...mine].sort(), `round ${round} publisher ${p} in order`);
      }
    }
    assert.ok(acknowledged.length >= ROUNDS * KILL_AFTER);
  } finally {
    history.close();
    assert.equal(await server.stop(), 0);
  }
});
