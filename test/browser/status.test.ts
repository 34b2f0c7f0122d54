// The live status page in real Chromium: it connects to Herald's own stream, its
// numbers move when traffic flows (messages/s above zero, the open streams counted),
// its sparklines get drawn, and nothing is refused by the page's policy. Leaves a
// screenshot in test-artifacts/status.png.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { hubUrl, publishOk, publisherToken, startTestHerald } from '../support/herald.js';
import { rawStream } from '../support/stream.js';
import { launchChromium } from './browser-support.js';

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

const metric = (name: string) => `[data-metric="${name}"]`;

test('the status page shows the hub breathing: live numbers and sparklines', async () => {
  const herald = await startTestHerald({ subscriptions: false });
  const context = await browser.newContext({ viewport: { width: 1100, height: 620 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  const subscribers = await Promise.all([1, 2, 3].map(() => rawStream(hubUrl(herald.url, [['topic', 'urn:breathe']]))));
  let publishing = true;
  let sent = 0;
  const token = await publisherToken();
  // Paced traffic with a changing rate, so the charts have a shape (load shaping, not synchronisation).
  const traffic = (async () => {
    for (let tick = 0; publishing && tick < 400; tick++) {
      const burst = 4 + (tick % 8) * 3;
      for (let i = 0; i < burst; i++) await publishOk(herald.url, { topic: 'urn:breathe', data: `m${sent++}` }, token);
      await delay(50);
    }
  })();
  try {
    await page.goto(`${herald.url}/status`);
    await page.locator('#state[data-state="live"]').waitFor({ timeout: 5000 });
    await page.waitForFunction(
      // No named functions in here: the test runner's transform would add a helper the page lacks.
      ([rate, connections]) =>
        [rate, connections].map((selector) => Number((document.querySelector(selector)?.textContent ?? '').replace(/,/g, ''))).every((n, i) => (i === 0 ? n > 0 : n === 3)),
      [metric('updatesPerSecond'), metric('connections')] as const,
      { timeout: 8000, polling: 100 },
    );
    const firstTotal = Number((await page.locator(metric('updatesTotal')).textContent())?.replace(/,/g, ''));
    // A few more samples, so the numbers move and the lines have several points.
    await page.waitForFunction((n) => Number(document.body.dataset.samples) >= n, Number(await page.evaluate(() => document.body.dataset.samples)) + 3, { timeout: 6000 });
    const laterTotal = Number((await page.locator(metric('updatesTotal')).textContent())?.replace(/,/g, ''));
    assert.ok(laterTotal > firstTotal, `updates since start moved: ${firstTotal} -> ${laterTotal}`);
    assert.match((await page.locator(metric('deliveriesPerSecond')).textContent()) ?? '', /^[\d,.]+$/);
    assert.match((await page.locator(metric('bytesOutPerSecond')).textContent()) ?? '', /^[\d.]+ (B|KB|MB|GB)\/s$/);
    assert.match((await page.locator(metric('latencyP50Ms')).textContent()) ?? '', /^\d+(\.\d+)? ms$/);
    assert.match((await page.locator(metric('rssBytes')).textContent()) ?? '', /^\d+(\.\d)? MB$/);
    // Every chart has ink on it.
    const inked = await page.evaluate(() =>
      Array.from(document.querySelectorAll('canvas'), (canvas) => {
        const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray();
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted++;
        return { chart: canvas.dataset.chart ?? '', painted };
      }),
    );
    assert.equal(inked.length, 6);
    for (const { chart, painted } of inked) assert.ok(painted > 50, `chart ${chart} is drawn (${painted} pixels)`);
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/status.png' });
    assert.deepEqual(problems, []);
  } finally {
    publishing = false;
    await traffic;
    for (const s of subscribers) s.close();
    await context.close();
    await herald.close();
  }
});
