// The chat page across a server restart (the real CLI, SQLite store, same port): the
// pages show that they lost the server, resume with Last-Event-ID when it is back,
// and end with exactly the messages sent, none missing (even those sent while they
// were away) and none twice.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ChatClient } from '../chat-client.js';
import { SUBSCRIBER_KEY } from '../support/herald.js';
import { spawnHerald, type HeraldProcess } from '../support/process.js';
import { buildPage, freePort, launchChromium, personJoins, say, waitForOnline, waitForState, waitForTexts, type Person } from './browser-support.js';

const MESSAGES = '#messages li.message .text';

describe('chat page across a server restart', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-chat-restart-'));
  let browser: Browser;
  const servers: HeraldProcess[] = [];
  const people: Person[] = [];
  before(async () => {
    buildPage();
    browser = await launchChromium();
  });
  after(async () => {
    for (const person of people) await person.context.close().catch(() => undefined);
    await browser?.close();
    for (const server of servers) await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(args: string[]): Promise<HeraldProcess> {
    const server = await spawnHerald(args);
    servers.push(server);
    return server;
  }

  test('messages sent while the pages were away arrive once, in order, after the restart', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const args = ['--port', String(port), '--store', `sqlite:${join(dir, 'keyed.db')}`, '--subscriber-jwt-key', SUBSCRIBER_KEY];
    const first = await serve(args);
    const url = `http://127.0.0.1:${port}`;
    const ann = await personJoins(browser, url, 'Ann');
    const bob = await personJoins(browser, url, 'Bob');
    people.push(ann, bob);
    await say(ann.page, 'm1');
    await say(bob.page, 'm2');
    await say(ann.page, 'm3');
    await waitForTexts(bob.page, MESSAGES, ['m1', 'm2', 'm3']);
    await waitForTexts(ann.page, MESSAGES, ['m1', 'm2', 'm3']);

    assert.equal(await first.stop('SIGTERM'), 0);
    await waitForState(ann.page, 'offline').catch(() => waitForState(ann.page, 'reconnecting'));
    assert.notEqual(await bob.page.locator('#status').getAttribute('data-state'), 'connected');

    // Carl posts while no page can reach the store's server: through another instance on
    // another port (as another process would), so these two can only come by replay.
    const elsewhere = await serve([...args, '--port', String(await freePort())]);
    const carl = new ChatClient(elsewhere.url);
    await carl.login('Carl');
    assert.equal((await carl.send('lobby', 'm4 while you were away')).status, 201);
    assert.equal((await carl.send('lobby', 'm5')).status, 201);
    await elsewhere.stop('SIGTERM');
    assert.deepEqual(await ann.page.locator(MESSAGES).allTextContents(), ['m1', 'm2', 'm3']);
    await serve(args);

    const expected = ['m1', 'm2', 'm3', 'm4 while you were away', 'm5'];
    await waitForTexts(ann.page, MESSAGES, expected, 20_000);
    await waitForTexts(bob.page, MESSAGES, expected, 20_000);
    await waitForState(ann.page, 'connected', 10_000);
    await waitForState(bob.page, 'connected', 10_000);
    await say(bob.page, 'm6 after');
    await waitForTexts(ann.page, MESSAGES, [...expected, 'm6 after']);
    await waitForTexts(bob.page, MESSAGES, [...expected, 'm6 after']);
    await waitForOnline(ann.page, ['Ann', 'Bob']);
    // Every message id is shown once: no duplicate from the replay overlapping the live stream.
    const ids = await ann.page.locator('#messages li.message').evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.id));
    assert.equal(new Set(ids).size, 6);
    assert.deepEqual([...ann.errors, ...bob.errors], []);
  });

  test('without a configured key the restart changes the signing key: the page signs in again by itself', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const args = ['--port', String(port), '--store', `sqlite:${join(dir, 'keyless.db')}`];
    const first = await serve(args);
    const url = `http://127.0.0.1:${port}`;
    const dora = await personJoins(browser, url, 'Dora');
    people.push(dora);
    await say(dora.page, 'before');
    await waitForTexts(dora.page, '#messages li.message[data-state="delivered"] .text', ['before']);
    await first.stop('SIGTERM');
    await serve(args);
    await waitForState(dora.page, 'connected', 20_000);
    await waitForOnline(dora.page, ['Dora'], 10_000);
    await say(dora.page, 'after');
    await waitForTexts(dora.page, '#messages li.message[data-state="delivered"] .text', ['before', 'after']);
  });
});
