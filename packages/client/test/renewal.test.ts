// Token renewal against a real Herald, which ends a stream when its token expires:
// tokens living 3 s, a publish every 100 ms of private updates (only a valid
// token sees them) for a minute, and the exact list of ids at the end: none lost, none twice.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Herald } from '../../../src/herald.js';
import { mintToken, publishOk, startTestHerald, SUBSCRIBER_KEY } from '../../../test/support/herald.js';
import { subscribe } from '../src/index.js';
import { countStreams, recorder } from './support.js';

const TOPIC = 'https://example.com/client/private';
let herald: Herald;
before(async () => {
  herald = await startTestHerald({ chat: false });
});
after(() => herald.close());

test('a token renewed before exp every few seconds for a minute: 0 lost, 0 duplicated', { timeout: 110_000 }, async () => {
  const streams = countStreams(herald.app.server);
  let minted = 0;
  const getToken = async (): Promise<string> => {
    minted++;
    return mintToken({ mercure: { subscribe: [TOPIC] } }, SUBSCRIBER_KEY, { expiresIn: '3s' });
  };
  const rec = recorder();
  const sub = subscribe(TOPIC, rec.handlers, { hub: `${herald.url}/.well-known/mercure`, token: getToken, initialDelayMs: 50 });
  await rec.until('open', () => sub.state === 'open');
  const published: string[] = [];
  const end = Date.now() + 60_000;
  for (let i = 0; Date.now() < end; i++) {
    published.push(await publishOk(herald.url, { topic: TOPIC, data: `u${i}`, private: 'on' }));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await rec.until('every update', () => rec.events.length >= published.length, 15_000);
  sub.close();
  assert.deepEqual(rec.ids(), published);
  assert.deepEqual(rec.events.map((e) => e.data), published.map((_, i) => `u${i}`));
  // 60 s of 3 s tokens (renewed a second before exp): about 30 renewals, each a new stream from the last id.
  console.log(`renewal: ${published.length} private updates over 60 s, ${minted} tokens minted, ${streams.urls.length} streams, ${rec.errors.length} non-fatal errors`);
  assert.ok(published.length > 300, `published: ${published.length}`);
  assert.ok(minted >= 20, `tokens minted: ${minted}`);
  assert.ok(streams.urls.length >= 20, `streams: ${streams.urls.length}`);
  for (const url of streams.urls.slice(1)) assert.ok(published.includes(url.searchParams.get('lastEventID') ?? ''), `resumed from ${url.search}`);
  assert.equal(rec.errors.filter((e) => e.fatal).length, 0);
});
