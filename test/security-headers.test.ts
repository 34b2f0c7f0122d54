// The page and every reply: Content-Security-Policy without inline script, nosniff,
// Referrer-Policy, no framing; session cookies HttpOnly + SameSite (+ Secure behind
// TLS); and, in a real browser, the chat page working under that policy while an
// injected inline script is blocked.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { CONTENT_SECURITY_POLICY } from '../src/http/security-headers.js';
import { CHROMIUM, launchChromium, personJoins } from './browser/browser-support.js';
import { ChatClient } from './chat-client.js';
import { publish, publisherToken, useHerald } from './support/herald.js';

function assertSecurityHeaders(headers: Headers, what: string): void {
  const csp = headers.get('content-security-policy') ?? '';
  for (const directive of ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"]) {
    assert.ok(csp.split('; ').includes(directive), `${what}: CSP lacks ${directive}: ${csp}`);
  }
  assert.ok(!/unsafe-inline|unsafe-eval/.test(csp), `${what}: ${csp}`);
  assert.equal(headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(headers.get('referrer-policy'), 'same-origin', what);
  assert.equal(headers.get('x-frame-options'), 'DENY', what);
}

describe('security headers and cookies', () => {
  const fixture = useHerald();

  test('the page, its assets, JSON errors and publish replies all carry the headers', async () => {
    const page = await fetch(`${fixture.herald.url}/`);
    assert.equal(page.status, 200);
    assertSecurityHeaders(page.headers, 'GET /');
    assert.equal(page.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
    const html = await page.text();
    // No inline script, handler or style for the policy to break.
    for (const tag of html.match(/<script\b[^>]*>[\s\S]*?<\/script>/gi) ?? []) assert.match(tag, /^<script\b[^>]*\bsrc="\/[^"]+"[^>]*><\/script>$/, tag);
    assert.ok(!/\son[a-z]+\s*=/i.test(html), 'inline event handler');
    assert.ok(!/\sstyle\s*=/i.test(html), 'inline style attribute');
    for (const asset of [...html.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]!)) {
      const response = await fetch(`${fixture.herald.url}${asset}`);
      assert.equal(response.status, 200, asset);
      assertSecurityHeaders(response.headers, asset);
    }
    const missing = await fetch(`${fixture.herald.url}/%3Cscript%3Ealert(1)%3C/script%3E`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /^application\/json/);
    assertSecurityHeaders(missing.headers, '404');
    const published = await publish(fixture.herald.url, { topic: 'https://example.com/h' }, await publisherToken());
    assertSecurityHeaders(published.headers, 'publish');
  });

  test('the session cookie is HttpOnly and SameSite=Strict, and Secure when the client came over TLS', async () => {
    const plain = await new ChatClient(fixture.herald.url).request('POST', '/api/session', { nickname: 'Ann' });
    const cookie = plain.headers.getSetCookie().find((c) => c.startsWith('mercureAuthorization='));
    assert.ok(cookie !== undefined);
    const attributes = cookie.split(/;\s*/).slice(1).map((a) => a.toLowerCase());
    assert.ok(attributes.includes('httponly'), cookie);
    assert.ok(attributes.includes('samesite=strict'), cookie);
    assert.ok(!attributes.includes('secure'), 'no Secure over plain HTTP: the cookie would never come back');
    const proxied = await new ChatClient(fixture.herald.url).request('POST', '/api/session', { nickname: 'Bob' }, { 'X-Forwarded-Proto': 'https' });
    const secure = proxied.headers.getSetCookie().find((c) => c.startsWith('mercureAuthorization=')) ?? '';
    assert.ok(secure.split(/;\s*/).map((a) => a.toLowerCase()).includes('secure'), secure);
  });

  test('in Chromium: the chat works under the policy with no violation, and an injected inline script is blocked', { skip: !existsSync(CHROMIUM) && 'no chromium' }, async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const person = await personJoins(browser, fixture.herald.url, 'Csp');
      const violations: string[] = [];
      person.page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
      });
      await person.page.locator('#text').fill('hello under CSP');
      await person.page.keyboard.press('Enter');
      await person.page.getByText('hello under CSP').first().waitFor({ timeout: 5000 });
      assert.deepEqual(violations, []);
      const ran = await person.page.evaluate(async () => {
        const seen = new Promise<string>((resolve) => document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true }));
        const script = document.createElement('script');
        script.textContent = 'window.injected = true';
        document.head.append(script);
        return { injected: (window as unknown as { injected?: boolean }).injected === true, violated: await seen };
      });
      assert.deepEqual(ran, { injected: false, violated: 'script-src-elem' });
      assert.deepEqual(person.errors, []);
    } finally {
      await browser?.close();
    }
  });
});
