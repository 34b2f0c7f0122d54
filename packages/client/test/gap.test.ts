// The hub's in-band gap event (`event: herald-gap`, no id) against a real Herald:
// resuming from an id the hub does not know is reported as a typed `gap`, never as
// an event, and the stream goes on.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Herald } from '../../../src/herald.js';
import { publishOk, startTestHerald } from '../../../test/support/herald.js';
import { subscribe } from '../src/index.js';
import { recorder } from './support.js';

const TOPIC = 'https://example.com/client/gap';
const REPLAY_MAX = 3;
let herald: Herald;
before(async () => {
  herald = await startTestHerald({ chat: false, replayMax: REPLAY_MAX });
});
after(() => herald.close());

test('an unknown Last-Event-ID is reported as a gap callback', async () => {
  await publishOk(herald.url, { topic: TOPIC, data: 'before' });
  const rec = recorder();
  const sub = subscribe(TOPIC, rec.handlers, { hub: `${herald.url}/.well-known/mercure`, lastEventId: 'urn:uuid:never-published' });
  try {
    await rec.until('open', () => sub.state === 'open');
    await rec.until('a gap', () => rec.gaps.length === 1, 5000);
    assert.equal(rec.gaps[0]?.reason, 'unknown_id');
    assert.equal(rec.gaps[0]?.lastEventId, 'urn:uuid:never-published');
    const after = await publishOk(herald.url, { topic: TOPIC, data: 'after' });
    await rec.until('the next event', () => rec.ids().includes(after));
    assert.ok(!rec.events.some((e) => e.type === 'herald-gap'));
  } finally {
    sub.close();
  }
});

test('a replay cut at --replay-max is reported as a replay_cut gap naming the first event sent', async () => {
  const topic = `${TOPIC}/cut`;
  const ids: string[] = [];
  for (let i = 0; i < REPLAY_MAX + 3; i++) ids.push(await publishOk(herald.url, { topic, data: `m${i}` }));
  const rec = recorder();
  const sub = subscribe(topic, rec.handlers, { hub: `${herald.url}/.well-known/mercure`, lastEventId: ids[0] });
  try {
    await rec.until('the replay', () => rec.ids().includes(ids[ids.length - 1]!), 5000);
    assert.deepEqual(rec.gaps, [{ reason: 'replay_cut', lastEventId: ids[0], resumeFrom: ids[3] }]);
    assert.deepEqual(rec.ids(), ids.slice(-REPLAY_MAX), 'the newest REPLAY_MAX, and no gap among the events');
  } finally {
    sub.close();
  }
});
