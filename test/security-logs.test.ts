// Tokens never reach the logs: the real CLI at log level trace is sent tokens in the
// Authorization header, the query string and the cookie, on routes that accept,
// refuse and fail them, and in requests Node's parser rejects; its whole output
// (stdout and stderr) must not contain any of them, nor any of their signatures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { SignJWT } from 'jose';
import { hubUrl, mintToken, PUBLISHER_KEY, SUBSCRIBER_KEY } from './support/herald.js';
import { spawnHerald } from './support/process.js';

function rawExchange(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(text));
    let reply = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (reply += chunk));
    socket.on('close', () => resolve(reply));
    socket.on('error', reject);
  });
}

test('no token text appears in the logs, whatever carried it and however the request ended', async () => {
  const publisher = await mintToken({ mercure: { publish: ['*'] }, leak: 'PUBLISHER-CANARY' }, PUBLISHER_KEY);
  const subscriber = await mintToken({ mercure: { subscribe: ['*'] }, leak: 'SUBSCRIBER-CANARY' }, SUBSCRIBER_KEY);
  const expired = await mintToken({ mercure: { publish: ['*'] }, exp: 1_000_000, leak: 'EXPIRED-CANARY' }, PUBLISHER_KEY);
  // JSON claims, so each is a well-formed JWT whose signature fails (401), not a malformed one (400).
  const bogus = Array.from({ length: 8 }, (_, i) => `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ bogus: i })).toString('base64url')}.BOGUS-SIGNATURE-CANARY-${i}`);
  // An access token in the URL is refused (400 invalid_request), and must not be logged either.
  const access = await new SignJWT({ leak: 'ACCESS-CANARY', exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(new TextEncoder().encode(SUBSCRIBER_KEY));
  const tokens = [publisher, subscriber, expired, access, ...bogus];

  const herald = await spawnHerald(['--log-level', 'trace', '--store', 'memory', '--publisher-jwt-key', PUBLISHER_KEY, '--subscriber-jwt-key', SUBSCRIBER_KEY]);
  let output = '';
  herald.child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  herald.child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const hub = `${herald.url}/.well-known/mercure`;
  const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
  const body = 'topic=https%3A%2F%2Fexample.com%2Flog&data=x';
  try {
    const statuses: number[] = [];
    const send = async (url: string, init: RequestInit) => {
      const response = await fetch(url, init);
      statuses.push(response.status);
      await response.body?.cancel();
    };
    await send(hub, { method: 'POST', headers: { ...form, Authorization: `Bearer ${publisher}` }, body });
    await send(hub, { method: 'POST', headers: { ...form, Authorization: `Bearer ${bogus[0]}` }, body });
    await send(`${hub}?authorization=${bogus[1]}`, { method: 'POST', headers: form, body });
    await send(hub, { method: 'POST', headers: { ...form, Cookie: `mercureAuthorization=${expired}`, Origin: 'https://evil.example' }, body });
    await send(hub, { method: 'POST', headers: { ...form, Cookie: `mercureAuthorization=${expired}`, Origin: herald.url }, body });
    await send(hubUrl(herald.url, [['topic', 'x'], ['access_token', subscriber]]), { signal: AbortSignal.timeout(1000) }).catch(() => statuses.push(-1));
    await send(hubUrl(herald.url, [['topic', 'x']]), { headers: { Cookie: `mercureAuthorization=${bogus[2]}` } });
    await send(`${herald.url}/no/such/route?authorization=${bogus[3]}`, {});
    await send(hub, { method: 'POST', headers: { ...form, Authorization: `Basic ${bogus[4]}` }, body });
    await send(`${herald.url}/.well-known/mercure/subscriptions`, { headers: { Authorization: `Bearer ${bogus[5]}` } });
    await send(hubUrl(herald.url, [['topic', 'x'], ['access_token', access]]), {});
    assert.equal(statuses.at(-1), 400, 'an access token in the URL: 400 invalid_request');
    const overflow = await rawExchange(herald.url, `GET /.well-known/mercure?topic=x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${bogus[6]}\r\nX-Pad: ${'p'.repeat(20_000)}\r\n\r\n`);
    const garbage = await rawExchange(herald.url, `G\0T /?access_token=${bogus[7]} HTTP/1.1\r\nHost: a\r\n\r\n`);
    assert.deepEqual(statuses.slice(0, 5), [200, 401, 401, 403, 401]);
    assert.match(overflow, /^HTTP\/1\.1 431 /);
    assert.match(garbage, /^HTTP\/1\.1 400 /);
  } finally {
    await herald.stop('SIGTERM');
  }
  if (process.env.HERALD_TEST_LOG_DUMP) writeFileSync(process.env.HERALD_TEST_LOG_DUMP, output);
  assert.ok(output.length > 0, 'the process logged something');
  assert.match(output, /limit reached: header_size/, 'the header overflow went through the logger');
  for (const token of tokens) {
    const signature = token.slice(token.lastIndexOf('.') + 1);
    assert.ok(!output.includes(token), `token logged: ${token.slice(0, 40)}...`);
    assert.ok(!output.includes(signature), `a token signature was logged: ${signature}`);
  }
  assert.ok(!/CANARY/.test(output), 'a token payload or signature was logged');
});
