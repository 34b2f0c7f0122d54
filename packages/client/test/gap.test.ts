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
let herald: Herald;
before(async () => {
  herald = await startTestHerald({ chat: false });
});
after(() => herald.close());

// The hub emits herald-gap from the protocol branch on; the lead enables this on merging it.
test('an unknown Last-Event-ID is reported as a gap callback', { todo: 'needs the protocol branch' }, async () => {
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
