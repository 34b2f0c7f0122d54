// The chat page in real Chromium, two people in two browser profiles: presence both
// ways, live messages, no duplicate of one's own message, text never turned into
// HTML, history on reload, a leave seen in the list within 2 s (and announced after
// the leave delay), two tabs counting once; with the draft's subscription events and the 0.x ones.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import type { Herald } from '../../src/herald.js';
import { startTestHerald } from '../support/herald.js';
import { LEAVE_NOTICE_DELAY_MS } from '../../web/src/delays.js';
import { buildPage, launchChromium, messageTexts, personJoins, say, waitForOnline, waitForState, waitForTexts, watch, type Person } from './browser-support.js';

const XSS = '<img src=x onerror=alert(1)>';

// Once per shape of the hub's subscription events: the page reads presence in either.
for (const format of ['0.x', 'draft'] as const) describe(`chat page, two people (--subscriptions-format ${format})`, { timeout: 90_000 }, () => {
  let herald: Herald;
  let browser: Browser;
  let ann: Person;
  let bob: Person;
  before(async () => {
    buildPage();
    herald = await startTestHerald({ chatHistory: 5, subscriptionsFormat: format });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await herald?.close();
  });

  test('both see each other online, and the home page carries the Mercure discovery link', { timeout: 20_000 }, async () => {
    const home = await fetch(`${herald.url}/`);
    assert.match(home.headers.get('link') ?? '', /\/\.well-known\/mercure>; rel="mercure"/);
    assert.match(await home.text(), /<script type="module" src="\/app.js"><\/script>/);
    ann = await personJoins(browser, herald.url, 'Ann');
    bob = await personJoins(browser, herald.url, 'Bob');
    await waitForOnline(ann.page, ['Ann', 'Bob']);
    await waitForOnline(bob.page, ['Ann', 'Bob']);
    await waitForTexts(ann.page, '#messages li.system .system-text', ['Bob joined']);
    assert.equal(await ann.page.locator('#user-list li.me').textContent(), 'Ann (you)');
    await ann.page.locator('#room-list a[data-room="lobby"] .badge').filter({ hasText: '2' }).waitFor({ timeout: 3000 });
  });

  test("Ann's message appears once for her (optimistic, then confirmed) and live for Bob", { timeout: 20_000 }, async () => {
    await say(ann.page, 'hello Bob');
    await waitForTexts(bob.page, '#messages li.message .text', ['hello Bob']);
    await ann.page.locator('#messages li.message[data-state="delivered"]').waitFor({ timeout: 3000 });
    assert.deepEqual(await messageTexts(ann.page), ['hello Bob']);
    assert.equal(await ann.page.locator('#text').inputValue(), '', 'the box is emptied');
    assert.equal(await bob.page.locator('#messages li.message .author').textContent(), 'Ann');
    const datetime = await bob.page.locator('#messages li.message time').getAttribute('datetime');
    assert.ok(datetime !== null && Math.abs(Date.parse(datetime) - Date.now()) < 60_000);
    // Shift+Enter makes a new line; the button sends too.
    await bob.page.locator('#text').fill('hi Ann');
    await bob.page.locator('#text').press('Shift+Enter');
    await bob.page.locator('#text').pressSequentially('second line');
    await bob.page.locator('#send').click();
    await waitForTexts(ann.page, '#messages li.message .text', ['hello Bob', 'hi Ann\nsecond line']);
  });

  test('markup is shown as text: no element is created and no dialog opens', { timeout: 20_000 }, async () => {
    await say(ann.page, XSS);
    await waitForTexts(bob.page, '#messages li.message .text', ['hello Bob', 'hi Ann\nsecond line', XSS]);
    assert.equal(await bob.page.locator('#messages img').count(), 0);
    assert.equal(await ann.page.locator('#messages img').count(), 0);
    // Had the markup been parsed, the broken image's onerror would have fired by now.
    await bob.page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 100))));
    assert.deepEqual([...ann.dialogs, ...bob.dialogs], []);
    mkdirSync('test-artifacts', { recursive: true });
    await bob.page.locator('#room-list a[data-room="lobby"] .badge').filter({ hasText: '2' }).waitFor({ timeout: 3000 });
    await bob.page.screenshot({ path: 'test-artifacts/chat.png' });
  });

  test('empty messages are refused; the counter shows the length and refuses past the limit', { timeout: 20_000 }, async () => {
    const page = ann.page;
    await page.locator('#text').fill('   ');
    await page.locator('#text').press('Enter');
    assert.equal(await page.locator('#send-error').textContent(), 'Type a message first');
    await page.locator('#text').fill('héllo 😀');
    assert.equal(await page.locator('#counter').textContent(), '7 / 2000');
    await page.locator('#text').fill('x'.repeat(2001));
    assert.equal(await page.locator('#counter').textContent(), '2001 / 2000');
    await page.locator('#send').click();
    assert.match((await page.locator('#send-error').textContent()) ?? '', /1 characters over/);
    await page.locator('#text').fill('');
    assert.equal(await messageTexts(page).then((t) => t.length), 3, 'nothing was sent');
  });

  test('Bob reloads and sees the history; a second tab of Ann counts once and makes no notice', { timeout: 20_000 }, async () => {
    await bob.page.reload();
    await waitForState(bob.page, 'connected');
    await waitForTexts(bob.page, '#messages li.message .text', ['hello Bob', 'hi Ann\nsecond line', XSS]);
    const annTab = await ann.context.newPage();
    await watch(ann.context, annTab);
    await annTab.goto(`${herald.url}/#lobby`);
    await waitForState(annTab, 'connected');
    await waitForOnline(annTab, ['Ann', 'Bob']);
    await annTab.close();
    await bob.page.locator('#room-list a[data-room="lobby"] .badge').filter({ hasText: '2' }).waitFor({ timeout: 3000 });
    await waitForOnline(bob.page, ['Ann', 'Bob']);
    const notices = await bob.page.locator('#messages li.system').allTextContents();
    assert.ok(!notices.some((n) => n.startsWith('Ann left') || n.startsWith('Ann joined')), JSON.stringify(notices));
  });

  test("Bob leaves: Ann's list updates within 2 s", { timeout: 20_000 }, async () => {
    const started = Date.now();
    await bob.context.close();
    await waitForOnline(ann.page, ['Ann'], 2000);
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 2000, `took ${elapsed} ms`);
    // His reload earlier made no notice (a quick return cancels the leave); this leave
    // is announced once the delay is over.
    await waitForTexts(ann.page, '#messages li.system .system-text', ['Bob joined', 'Bob left'], LEAVE_NOTICE_DELAY_MS + 3000);
  });

  test('older history loads on "load earlier"; switching rooms by the form and by the list', { timeout: 30_000 }, async () => {
    const page = ann.page;
    for (let i = 1; i <= 8; i++) await say(page, `m${i}`);
    await waitForTexts(page, '#messages li.message[data-state="delivered"] .text', ['hello Bob', 'hi Ann\nsecond line', XSS, ...Array.from({ length: 8 }, (_, i) => `m${i + 1}`)], 8000);
    // Grouped lines are short: a lower window makes sure two pages overflow the list.
    await page.setViewportSize({ width: 1100, height: 400 });
    await page.reload();
    await waitForState(page, 'connected');
    await waitForTexts(page, '#messages li.message .text', ['m4', 'm5', 'm6', 'm7', 'm8']);
    // Pages of chat-history (5): by the button, then by scrolling to the top.
    await page.locator('#load-earlier').click();
    await waitForTexts(page, '#messages li.message .text', ['hi Ann\nsecond line', XSS, 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8']);
    assert.ok(await page.locator('#scroller').evaluate((scroller) => scroller.scrollHeight > scroller.clientHeight), 'the list scrolls');
    await page.locator('#scroller').evaluate((scroller) => scroller.scrollTo({ top: 0 }));
    await waitForTexts(page, '#messages li.message .text', ['hello Bob', 'hi Ann\nsecond line', XSS, 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8']);
    await page.locator('#load-earlier').waitFor({ state: 'hidden', timeout: 3000 });
    await page.setViewportSize({ width: 1100, height: 720 });

    await page.locator('#room-input').fill('Random');
    await page.locator('#room-input').press('Enter');
    await page.waitForURL(/#random$/);
    await waitForState(page, 'connected');
    assert.equal(await page.locator('#room-title').textContent(), '#random');
    assert.deepEqual(await messageTexts(page), []);
    await say(page, 'in random');
    await waitForTexts(page, '#messages li.message .text', ['in random']);
    await page.locator('#room-list a[data-room="random"] .badge').filter({ hasText: '1' }).waitFor({ timeout: 3000 });
    await page.locator('#room-list a[data-room="lobby"]').click();
    await waitForState(page, 'connected');
    await waitForTexts(page, '#messages li.message .text', ['m4', 'm5', 'm6', 'm7', 'm8']);
  });

  test('a phone-width screen, keyboard only: nickname, change of nickname, sending', { timeout: 30_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 780 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(`${herald.url}/#lobby`);
    await page.locator('#nick-input').waitFor({ state: 'visible' });
    await page.keyboard.type('Chloé');
    await page.keyboard.press('Enter');
    await waitForState(page, 'connected');
    await waitForOnline(ann.page, ['Ann', 'Chloé']);
    const focused = await page.evaluate(() => document.activeElement?.id);
    assert.equal(focused, 'text', 'the message box has the focus after joining');
    await page.keyboard.type('from my phone');
    await page.keyboard.press('Enter');
    await waitForTexts(ann.page, '#messages li.message .text', ['m4', 'm5', 'm6', 'm7', 'm8', 'from my phone']);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no horizontal scrolling (page is ${width}px wide)`);
    await page.screenshot({ path: 'test-artifacts/chat-phone.png' });
    await page.locator('#change-nick').click();
    await page.locator('#nick-input').fill('Chloe');
    await page.locator('#nick-input').press('Enter');
    await waitForOnline(ann.page, ['Ann', 'Chloe']);
    await waitForTexts(ann.page, '#messages li.system .system-text', ['Chloé joined', 'Chloé is now Chloe']);
    await context.close();
    assert.deepEqual(ann.errors, []);
  });
});
