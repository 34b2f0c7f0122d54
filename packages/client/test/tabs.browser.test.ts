// One stream for all the tabs of an origin, in real Chromium against a real Herald:
// three tabs open one stream (counted on the server) and all receive every event;
// the leader tab is closed mid-stream and another takes over from the last id it
// delivered: every surviving tab ends with exactly the published ids, in order. And a
// page of another origin subscribes with its token in the Authorization header (CORS).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Herald } from '../../../src/herald.js';
import { mintToken, publishOk, startTestHerald, SUBSCRIBER_KEY } from '../../../test/support/herald.js';
import { launchChromium } from '../../../test/browser/browser-support.js';
import { countStreams } from './support.js';

/** A well-formed JWT whose signature is wrong: refused as an invalid token (401), not as a malformed one (400). */
const WRONG_SIGNATURE = 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl';

const TOPIC = 'https://example.com/client/tabs';
const PRIVATE = 'https://example.com/client/private-to-a-page';
const PAGE = '<!doctype html><meta charset="utf-8"><title>tabs</title><script type="module" src="/client-tab.js"></script>';

interface TabWindow {
  heraldClient: { subscribe: typeof import('../src/index.js').subscribe };
  received: string[];
  sub: import('../src/index.js').Subscription;
  opened: Array<string | null>;
  errors: string[];
}

describe('@herald/client in Chromium', { timeout: 120_000 }, () => {
  let herald: Herald;
  let browser: Browser;
  let context: BrowserContext;
  let bundle = '';
  let pages: Server;
  let foreignOrigin: string;
  before(async () => {
    // The cross-origin test's page comes from a server of its own (another port: another origin).
    pages = createServer((request, response) => {
      const js = request.url === '/client-tab.js';
      response.writeHead(200, { 'Content-Type': js ? 'text/javascript' : 'text/html' }).end(js ? bundle : PAGE);
    });
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    foreignOrigin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
    herald = await startTestHerald({ chat: false, corsOrigins: [foreignOrigin] });
    const built = await esbuild.build({ entryPoints: [fileURLToPath(new URL('./browser-entry.ts', import.meta.url))], bundle: true, format: 'esm', write: false, target: 'chrome109' });
    bundle = built.outputFiles[0]!.text;
    browser = await launchChromium();
    // The same-origin page is served on the hub's own origin by the browser context itself.
    context = await browser.newContext();
    // tsx names the functions of this file with a `__name` helper that page.evaluate does not carry along.
    await context.addInitScript('globalThis.__name = (f) => f');
    await context.route(`${herald.url}/client-tab.html`, (route) => route.fulfill({ contentType: 'text/html', body: PAGE }));
    await context.route(`${herald.url}/client-tab.js`, (route) => route.fulfill({ contentType: 'text/javascript', body: bundle }));
  });
  after(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close();
    await herald.close();
    await new Promise((resolve) => pages.close(resolve));
  });

  async function openTab(topic = TOPIC, persist = false, token = ''): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
    await page.goto(`${herald.url}/client-tab.html`);
    await page.waitForFunction(() => 'heraldClient' in window);
    await page.evaluate(([topic, persist, token]) => {
      const w = window as unknown as TabWindow;
      w.received = [];
      w.errors = [];
      w.sub = w.heraldClient.subscribe(topic, { event: (e) => w.received.push(e.id), error: (e, fatal) => w.errors.push(`${e.code} ${fatal}`) }, { persist, ...(token === '' ? {} : { token }) });
    }, [topic, persist, token] as const);
    return page;
  }

  const received = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as TabWindow).received);
  const isLeader = (page: Page): Promise<boolean> => page.evaluate(() => (window as unknown as TabWindow).sub.leader);

  async function waitForIds(page: Page, ids: readonly string[], timeoutMs = 10_000): Promise<void> {
    try {
      await page.waitForFunction((want) => {
        const got = (window as unknown as TabWindow).received;
        return got.length >= want.length;
      }, ids, { timeout: timeoutMs, polling: 50 });
    } catch {
      // fall through to the exact comparison, which shows what arrived
    }
    assert.deepEqual(await received(page), ids);
  }

  test('three tabs, one stream; the leader closes mid-stream: 0 lost, 0 duplicated', async () => {
    const streams = countStreams(herald.app.server);
    const tabs = [await openTab(), await openTab(), await openTab()];
    await tabs[0]!.waitForFunction(() => (window as unknown as TabWindow).sub.state === 'open');
    for (const tab of tabs) await tab.waitForFunction(() => (window as unknown as TabWindow).sub.state === 'open');
    assert.deepEqual(await Promise.all(tabs.map(isLeader)), [true, false, false]);
    assert.equal(streams.urls.length, 1);
    assert.equal(herald.hub.subscriberCount, 1);

    const published: string[] = [];
    for (let i = 0; i < 10; i++) published.push(await publishOk(herald.url, { topic: TOPIC, data: `e${i}` }));
    for (const tab of tabs) await waitForIds(tab, published);

    // Publish steadily; close the leader while events are in flight.
    const closing = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      await tabs[0]!.close({ runBeforeUnload: false });
    })();
    for (let i = 10; i < 60; i++) {
      published.push(await publishOk(herald.url, { topic: TOPIC, data: `e${i}` }));
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    await closing;
    const survivors = tabs.slice(1);
    for (const tab of survivors) await waitForIds(tab, published);
    const leaders = await Promise.all(survivors.map(isLeader));
    assert.equal(leaders.filter(Boolean).length, 1);
    // The new leader's stream resumed from the last id it had delivered.
    assert.equal(streams.urls.length, 2);
    assert.ok(published.includes(streams.urls[1]!.searchParams.get('lastEventID') ?? ''), 'the takeover resumed from a published id');
    assert.equal(herald.hub.subscriberCount, 1);

    const late = await publishOk(herald.url, { topic: TOPIC, data: 'late' });
    for (const tab of survivors) await waitForIds(tab, [...published, late]);
  });
  test('from another origin: the token goes in the Authorization header (CORS), private updates arrive, response headers are read', async () => {
    const foreign = await browser.newContext();
    try {
      await foreign.addInitScript('globalThis.__name = (f) => f');
      const page = await foreign.newPage();
      await page.goto(`${foreignOrigin}/client-tab.html`);
      await page.waitForFunction(() => 'heraldClient' in window);
      const token = await mintToken({ mercure: { subscribe: [PRIVATE] } }, SUBSCRIBER_KEY, { expiresIn: '5m' });
      await page.evaluate(([hub, topic, bearer]) => {
        const w = window as unknown as TabWindow;
        w.received = [];
        w.opened = [];
        w.sub = w.heraldClient.subscribe(topic!, { event: (e) => w.received.push(e.id), open: (info) => w.opened.push(info.lastEventId) }, { hub: hub!, token: bearer! });
      }, [`${herald.url}/.well-known/mercure`, PRIVATE, token]);
      await page.waitForFunction(() => (window as unknown as TabWindow).sub.state === 'open');
      const ids = [await publishOk(herald.url, { topic: PRIVATE, data: 'secret', private: 'on' }), await publishOk(herald.url, { topic: PRIVATE, data: 'public' })];
      await waitForIds(page, ids);
      // The hub's Last-Event-ID header (exposed by CORS) reached the open callback.
      assert.equal((await page.evaluate(() => (window as unknown as TabWindow).opened)).length, 1);
      assert.notEqual((await page.evaluate(() => (window as unknown as TabWindow).opened))[0], null);
    } finally {
      await foreign.close();
    }
  });
  test('persist: a tab opened later resumes from the id the closed one stored (localStorage)', async () => {
    const topic = 'https://example.com/client/persisted';
    const first = await openTab(topic, true);
    await first.waitForFunction(() => (window as unknown as TabWindow).sub.state === 'open');
    const seen = [await publishOk(herald.url, { topic, data: 'a' }), await publishOk(herald.url, { topic, data: 'b' })];
    await waitForIds(first, seen);
    await first.close();
    const missed = [await publishOk(herald.url, { topic, data: 'c' }), await publishOk(herald.url, { topic, data: 'd' })];
    const second = await openTab(topic, true);
    await waitForIds(second, missed);
    const live = await publishOk(herald.url, { topic, data: 'e' });
    await waitForIds(second, [...missed, live]);
    await second.close();
  });
  test('a leader refused with its token steps down: a tab with a valid token takes the stream, the refused tab gets nothing', async () => {
    const topic = 'https://example.com/client/refused-leader';
    const refused = await openTab(topic, false, WRONG_SIGNATURE);
    await refused.waitForFunction(() => (window as unknown as TabWindow).sub.state === 'closed');
    const valid = await openTab(topic, false, await mintToken({ mercure: { subscribe: [topic] } }, SUBSCRIBER_KEY, { expiresIn: '5m' }));
    await valid.waitForFunction(() => (window as unknown as TabWindow).sub.state === 'open');
    assert.equal(await isLeader(valid), true);
    const id = await publishOk(herald.url, { topic, data: 'for the valid tab' });
    await waitForIds(valid, [id]);
    assert.deepEqual(await refused.evaluate(() => (window as unknown as TabWindow).errors), ['unauthorized true']);
    assert.deepEqual(await received(refused), []);
    assert.equal(await refused.evaluate(() => (window as unknown as TabWindow).sub.state), 'closed');
    await refused.close();
    await valid.close();
  });
});
