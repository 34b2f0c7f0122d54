// The chat page in real Chromium, what the first hour with it shows: a message that
// cannot be sent stays with Retry and plain words, the badge comes back after going
// offline, equal nicknames are told apart, a reload makes no leave/join notices,
// rooms that are not open count their unread messages, one person's consecutive
// messages are grouped, and links are anchors (http/https only).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import type { Herald } from '../../src/herald.js';
import { LEAVE_NOTICE_DELAY_MS } from '../../web/src/delays.js';
import { startTestHerald } from '../support/herald.js';
import { buildPage, launchChromium, messageTexts, personJoins, say, waitForOnline, waitForState, waitForTexts, type Person } from './browser-support.js';

const notices = (person: Person): Promise<string[]> => person.page.locator('#messages li.system .system-text').allTextContents();

describe('chat page, the first hour', { timeout: 120_000 }, () => {
  let herald: Herald;
  let browser: Browser;
  const people: Person[] = [];
  const join = async (nickname: string, room = 'lobby'): Promise<Person> => {
    const person = await personJoins(browser, herald.url, nickname, room);
    people.push(person);
    return person;
  };
  before(async () => {
    buildPage();
    herald = await startTestHerald({});
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await herald?.close();
  });

  test('offline: the message stays "not sent" with Retry and plain words; back online, Retry delivers it and the badge says Connected', { timeout: 30_000 }, async () => {
    const ann = await join('Ann', 'offline');
    const bob = await join('Bob', 'offline');
    await ann.context.setOffline(true);
    await waitForState(ann.page, 'offline');
    await say(ann.page, 'sent while offline');
    const failed = ann.page.locator('#messages li.message[data-state="failed"]');
    await failed.waitFor({ timeout: 5000 });
    assert.equal(await failed.locator('.text').textContent(), 'sent while offline', 'the text is kept');
    assert.equal(await failed.locator('.reason').textContent(), 'You seem to be offline. It will be sent when you retry.');
    assert.equal(await ann.page.locator('#send-error').textContent(), 'You seem to be offline. It will be sent when you retry.');

    await ann.context.setOffline(false);
    await waitForState(ann.page, 'connected', 10_000);
    await failed.locator('button.retry').click();
    await ann.page.locator('#messages li.message[data-state="delivered"]').waitFor({ timeout: 5000 });
    await waitForTexts(bob.page, '#messages li.message .text', ['sent while offline']);
    assert.equal(await ann.page.locator('#send-error').textContent(), '', 'the error is gone once sent');
    // New messages arrive again, and the badge agrees.
    await say(bob.page, 'welcome back');
    await waitForTexts(ann.page, '#messages li.message .text', ['sent while offline', 'welcome back']);
    assert.equal(await ann.page.locator('#status').textContent(), 'Connected');
    assert.deepEqual(await messageTexts(ann.page), ['sent while offline', 'welcome back'], 'sent once, not twice');
  });

  test('too fast: the refused messages stay with the wait in words, never the API text, and Retry sends them', { timeout: 30_000 }, async () => {
    const cat = await join('Cat', 'burst');
    // 14 sends in one turn of the page: past the burst of 10.
    await cat.page.evaluate(() => {
      const text = document.querySelector<HTMLTextAreaElement>('#text')!;
      const form = document.querySelector<HTMLFormElement>('#composer')!;
      for (let i = 1; i <= 14; i++) {
        text.value = `burst ${i}`;
        form.requestSubmit();
      }
    });
    const failed = cat.page.locator('#messages li.message[data-state="failed"]');
    await failed.first().waitFor({ timeout: 5000 });
    await cat.page.waitForFunction(() => document.querySelectorAll('#messages li.message[data-state="pending"]').length === 0, undefined, { timeout: 5000 });
    const reasons = await failed.locator('.reason').allTextContents();
    assert.ok(reasons.length >= 1 && reasons.length <= 4, `refused: ${reasons.length}`);
    for (const reason of reasons) assert.match(reason, /^You are sending too fast\. Retry in \d+ s\.$/);
    assert.doesNotMatch((await cat.page.locator('#messages').textContent()) ?? '', /rate|429|"/i);
    const count = (state: string) => cat.page.locator(`#messages li.message[data-state="${state}"]`).count();
    // Retry each after the wait the page names (the server's Retry-After): bounded tries.
    for (let tries = 0; (await count('failed')) > 0 && tries < 20; tries++) {
      const seconds = Number(/Retry in (\d+) s/.exec((await failed.first().locator('.reason').textContent()) ?? '')?.[1] ?? 1);
      await cat.page.waitForTimeout(seconds * 1000);
      await failed.first().locator('button.retry').click();
      await cat.page.waitForFunction(() => document.querySelectorAll('#messages li.message[data-state="pending"]').length === 0, undefined, { timeout: 5000 });
    }
    assert.equal(await count('failed'), 0);
    const texts = await messageTexts(cat.page);
    assert.equal(texts.length, 14);
    assert.deepEqual([...texts].sort(), Array.from({ length: 14 }, (_, i) => `burst ${i + 1}`).sort(), 'every message is there once');
  });

  test('two people named Sam are told apart by a tag everyone sees alike', { timeout: 30_000 }, async () => {
    const dan = await join('Dan', 'names');
    const sam1 = await join('Sam', 'names');
    const sam2 = await join('Sam', 'names');
    const tagsFor = async (person: Person) => person.page.locator('#user-list li').evaluateAll((items) => items.map((li) => li.textContent ?? ''));
    await dan.page.waitForFunction(() => document.querySelectorAll('#user-list li .tag').length === 2, undefined, { timeout: 5000 });
    const seen = await tagsFor(dan);
    assert.equal(seen.length, 3);
    const sams = seen.filter((t) => t.startsWith('Sam #'));
    assert.equal(sams.length, 2, JSON.stringify(seen));
    assert.notEqual(sams[0], sams[1]);
    await say(sam1.page, 'I am the first Sam');
    await say(sam2.page, 'I am the second Sam');
    await waitForTexts(dan.page, '#messages li.message .text', ['I am the first Sam', 'I am the second Sam']);
    const authors = await dan.page.locator('#messages li.message .author').allTextContents();
    assert.equal(new Set(authors).size, 2, JSON.stringify(authors));
    for (const author of authors) assert.ok(sams.includes(author), `${author} is one of ${JSON.stringify(sams)}`);
    // The second Sam sees the same tags (they come from the userIds, not from arrival order).
    await sam2.page.waitForFunction(() => document.querySelectorAll('#user-list li .tag').length === 2, undefined, { timeout: 5000 });
    const hisView = (await tagsFor(sam2)).map((t) => t.replace(' (you)', '')).filter((t) => t.startsWith('Sam #'));
    assert.deepEqual([...hisView].sort(), [...sams].sort());
  });

  test('a reload says neither "left" nor "joined"; a real leave is announced after the delay', { timeout: 30_000 }, async () => {
    const eve = await join('Eve', 'reload');
    const fay = await join('Fay', 'reload');
    await waitForTexts(eve.page, '#messages li.system .system-text', ['Fay joined']);
    await fay.page.reload();
    await waitForState(fay.page, 'connected');
    await waitForOnline(eve.page, ['Eve', 'Fay']);
    // Absence can only be seen by waiting past the delay.
    await eve.page.waitForTimeout(LEAVE_NOTICE_DELAY_MS + 1000);
    assert.deepEqual(await notices(eve), ['Fay joined']);
    await waitForOnline(eve.page, ['Eve', 'Fay']);
    const started = Date.now();
    await fay.context.close();
    await waitForOnline(eve.page, ['Eve'], 3000);
    await waitForTexts(eve.page, '#messages li.system .system-text', ['Fay joined', 'Fay left'], LEAVE_NOTICE_DELAY_MS + 3000);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= LEAVE_NOTICE_DELAY_MS - 200, `announced after ${elapsed} ms`);
  });

  test('rooms that are not open count unread messages from others; opening the room clears the count', { timeout: 30_000 }, async () => {
    const gil = await join('Gil', 'here');
    const hal = await join('Hal', 'there');
    await say(gil.page, 'mine do not count');
    await gil.page.locator('#messages li.message[data-state="delivered"]').waitFor();
    for (const text of ['one', 'two', 'three']) await say(hal.page, text);
    const unread = gil.page.locator('#room-list a[data-room="there"] .unread');
    await unread.filter({ hasText: /^3$/ }).waitFor({ timeout: 5000 });
    assert.equal(await unread.getAttribute('aria-label'), '3 unread');
    assert.equal(await gil.page.locator('#room-list a[data-room="here"] .unread').count(), 0);
    assert.equal(await hal.page.locator('#room-list a[data-room="here"] .unread').textContent(), '1');
    await gil.page.locator('#room-list a[data-room="there"]').click();
    await waitForTexts(gil.page, '#messages li.message .text', ['one', 'two', 'three']);
    assert.equal(await gil.page.locator('#room-list .unread').count(), 0);
  });

  test("one person's consecutive messages are grouped under one name", { timeout: 30_000 }, async () => {
    const ivy = await join('Ivy', 'group');
    const jon = await join('Jon', 'group');
    for (const [person, text] of [[ivy, 'i1'], [ivy, 'i2'], [ivy, 'i3'], [jon, 'j1'], [ivy, 'i4']] as const) {
      await say(person.page, text);
      await person.page.locator(`#messages li.message[data-state="delivered"] .text:text-is("${text}")`).waitFor();
    }
    await waitForTexts(jon.page, '#messages li.message .text', ['i1', 'i2', 'i3', 'j1', 'i4']);
    for (const person of [ivy, jon]) {
      const grouped = await person.page.locator('#messages li.message').evaluateAll((lines) => lines.map((l) => l.classList.contains('continued')));
      assert.deepEqual(grouped, [false, true, true, false, false]);
      assert.deepEqual(await person.page.locator('#messages li.message .author').evaluateAll((a) => a.map((e) => (e as HTMLElement).offsetParent !== null)), [true, false, false, true, true]);
    }
  });

  test('links are anchors, http(s) only, opened with noopener noreferrer', { timeout: 30_000 }, async () => {
    const kim = await join('Kim', 'links');
    const lee = await join('Lee', 'links');
    const text = 'see https://example.com/a?b=1&c=<2>. or javascript:alert(1) or http://x.test';
    await say(kim.page, text);
    await waitForTexts(lee.page, '#messages li.message .text', [text]);
    const anchors = await lee.page.locator('#messages li.message .text a').evaluateAll((as) =>
      as.map((a) => ({ href: a.getAttribute('href'), text: a.textContent, rel: a.getAttribute('rel'), target: a.getAttribute('target') })),
    );
    assert.deepEqual(anchors, [
      { href: 'https://example.com/a?b=1&c=', text: 'https://example.com/a?b=1&c=', rel: 'noopener noreferrer', target: '_blank' },
      { href: 'http://x.test/', text: 'http://x.test', rel: 'noopener noreferrer', target: '_blank' },
    ]);
    assert.equal(await lee.page.locator('#messages a[href^="javascript"]').count(), 0);
    assert.deepEqual([...kim.dialogs, ...lee.dialogs], []);
  });

  test('no page logged a console error or threw', () => {
    for (const person of people) {
      assert.deepEqual(person.errors, []);
      assert.deepEqual(person.consoleErrors.filter((e) => !/ERR_INTERNET_DISCONNECTED|status of 429/.test(e)), []);
    }
  });
});
