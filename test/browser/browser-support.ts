// Driving Debian's Chromium with playwright-core for the chat page tests: launching it,
// building the page first, a person = a browser context with a nickname, and waits
// that fail with what the page actually showed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The page must be built from the current sources before a browser loads it. */
export function buildPage(): void {
  const result = spawnSync(process.execPath, ['scripts/build-web.mjs'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`web build failed: ${result.stderr}`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    timeout: 30_000,
  });
}

export interface Person {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Dialogs (alert, confirm...) the page opened: an injected script would show here. */
  readonly dialogs: string[];
  readonly errors: string[];
  /** What the page logged as an error in the console (a failed request shows here too). */
  readonly consoleErrors: string[];
}

/** A new browser profile on the chat, past the nickname form. */
export async function personJoins(browser: Browser, url: string, nickname: string, room = 'lobby', viewport = { width: 1100, height: 720 }): Promise<Person> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const person = await watch(context, page);
  await page.goto(`${url}/#${room}`);
  await page.locator('#nick-input').fill(nickname);
  await page.locator('#nick-input').press('Enter');
  await page.locator('#chat').waitFor({ state: 'visible', timeout: 5000 });
  await waitForState(page, 'connected');
  return person;
}

export async function watch(context: BrowserContext, page: Page): Promise<Person> {
  const dialogs: string[] = [];
  const errors: string[] = [];
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} ${message.location().url}`);
  });
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return { context, page, dialogs, errors, consoleErrors };
}

export async function waitForState(page: Page, state: string, timeoutMs = 5000): Promise<void> {
  await page.locator(`#status[data-state="${state}"]`).waitFor({ timeout: timeoutMs });
}

/** Types and sends with Enter, as a person does. */
export async function say(page: Page, text: string): Promise<void> {
  await page.locator('#text').fill(text);
  await page.locator('#text').press('Enter');
}

/** Waits until the texts of `selector` are exactly `expected` (in order), else fails showing them. */
export async function waitForTexts(page: Page, selector: string, expected: readonly string[], timeoutMs = 5000): Promise<void> {
  try {
    await page.waitForFunction(
      ([sel, want]) => {
        const got = Array.from(document.querySelectorAll(sel), (e) => e.textContent ?? '');
        return got.length === want.length && got.every((t, i) => t === want[i]);
      },
      [selector, expected] as const,
      { timeout: timeoutMs, polling: 50 },
    );
  } catch {
    const actual = await page.locator(selector).allTextContents();
    throw new Error(`${selector}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

export const messageTexts = (page: Page): Promise<string[]> => page.locator('#messages li.message .text').allTextContents();
export const onlineNames = (page: Page): Promise<string[]> => page.locator('#user-list li').evaluateAll((items) => items.map((li) => li.firstChild?.textContent ?? ''));

/** Waits until the online list names exactly these people. */
export async function waitForOnline(page: Page, names: readonly string[], timeoutMs = 5000): Promise<void> {
  try {
    await page.waitForFunction(
      (want) => {
        const got = Array.from(document.querySelectorAll('#user-list li'), (li) => li.firstChild?.textContent ?? '');
        return got.length === want.length && got.every((t, i) => t === want[i]);
      },
      names,
      { timeout: timeoutMs, polling: 50 },
    );
  } catch {
    throw new Error(`online list: expected ${JSON.stringify(names)}, got ${JSON.stringify(await onlineNames(page))}`);
  }
}

export { freePort } from '../../scripts/cluster/ports.js';
