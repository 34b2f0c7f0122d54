// A real browser's EventSource and the hub's in-band gap event: Chromium cannot read
// the stream's headers, so `herald-gap` is how its page learns that a resume was not
// exact. The page's `message` listener sees only the updates.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { Herald } from '../../src/herald.js';
import { hubUrl, publishOk, publisherToken, startTestHerald } from '../support/herald.js';
import { launchChromium } from './browser-support.js';

let browser: Browser;
let herald: Herald;
before(async () => {
  browser = await launchChromium();
  herald = await startTestHerald({ chat: false, store: 'memory', replayMax: 3, subscriptions: false });
});
after(async () => {
  await browser?.close();
  await herald?.close();
});

interface Seen {
  readonly type: string;
  readonly id: string;
  readonly data: string;
}

async function browserSees(url: string, count: number): Promise<Seen[]> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    // Any page of the hub's origin: the EventSource is then same-origin.
    await page.goto(`${herald.url}/healthz`);
    // A string, not a function: tsx's transform would add helpers the page does not have.
    const script = `new Promise((resolve, reject) => {
      const seen = [];
      const source = new EventSource(${JSON.stringify(url)});
      const record = (event) => {
        seen.push({ type: event.type, id: event.lastEventId, data: event.data });
        if (seen.length === ${count}) { source.close(); resolve(seen); }
      };
      source.addEventListener('herald-gap', record);
      source.addEventListener('message', record);
      setTimeout(() => { source.close(); reject(new Error('timed out: ' + JSON.stringify(seen))); }, 10000);
    })`;
    return (await page.evaluate(script)) as Seen[];
  } finally {
    await context.close();
  }
}

test('Chromium EventSource: an unknown last_event_id brings herald-gap (no id) before the replay', async () => {
  const topic = 'https://example.com/browser/gap';
  const token = await publisherToken();
  const ids = [await publishOk(herald.url, { topic, data: 'a' }, token), await publishOk(herald.url, { topic, data: 'b' }, token)];
  const seen = await browserSees(hubUrl(herald.url, [['topic', topic], ['last_event_id', 'urn:uuid:not-here']]), 3);
  assert.equal(seen[0]!.type, 'herald-gap');
  assert.equal(seen[0]!.id, '');
  assert.deepEqual(JSON.parse(seen[0]!.data), { reason: 'unknown_id', lastEventId: 'urn:uuid:not-here', resumeFrom: ids[0] });
  assert.deepEqual(seen.slice(1), [
    { type: 'message', id: ids[0], data: 'a' },
    { type: 'message', id: ids[1], data: 'b' },
  ]);
});

test('Chromium EventSource: a replay cut at --replay-max brings a replay_cut gap', async () => {
  const topic = 'https://example.com/browser/cut';
  const token = await publisherToken();
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) ids.push(await publishOk(herald.url, { topic, data: `m${i}` }, token));
  const seen = await browserSees(hubUrl(herald.url, [['topic', topic], ['last_event_id', ids[0]!]]), 4);
  assert.deepEqual(JSON.parse(seen[0]!.data), { reason: 'replay_cut', lastEventId: ids[0], resumeFrom: ids[3] });
  assert.deepEqual(seen.slice(1).map((e) => e.id), ids.slice(3));
});
