// Optional TLS (--cert/--key): HTTPS with HTTP/2, HTTP/1.1 still accepted. Ten
// EventSource streams share ONE HTTP/2 connection (a browser would stop at six
// HTTP/1.1 connections per origin) and all receive; cookies get Secure. The
// certificate is self-signed, made by the openssl CLI for this run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { EventSource } from 'eventsource';
import type { Herald } from '../src/herald.js';
import { publisherToken, startTestHerald } from './support/herald.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** A fetch over one HTTP/2 session, for eventsource's `fetch` option (Node's own fetch cannot do h2). */
function h2Fetch(session: ClientHttp2Session) {
  return async (input: string | URL, init?: { method?: string; headers?: Record<string, string> | Headers; body?: string; signal?: AbortSignal | null }): Promise<Response> => {
    const url = new URL(String(input));
    const headers: Record<string, string> = { ':method': init?.method ?? 'GET', ':path': `${url.pathname}${url.search}` };
    new Headers(init?.headers).forEach((value, name) => (headers[name] = value));
    const stream = session.request(headers);
    init?.signal?.addEventListener('abort', () => stream.close(constants.NGHTTP2_CANCEL), { once: true });
    stream.end(init?.body);
    const [received] = (await once(stream, 'response')) as [IncomingHttpHeaders];
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(received)) if (!name.startsWith(':') && value !== undefined) responseHeaders.set(name, String(value));
    return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, { status: Number(received[':status']), headers: responseHeaders });
  };
}

describe('TLS and HTTP/2', { skip: !hasOpenssl && 'no openssl CLI' }, () => {
  let dir: string;
  let herald: Herald;
  let session: ClientHttp2Session;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-tls-'));
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    herald = await startTestHerald({ tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem') });
    session = connect(herald.url, { rejectUnauthorized: false });
    await once(session, 'connect');
  });
  after(async () => {
    session.close();
    await herald.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the server speaks HTTPS and negotiates h2', () => {
    assert.match(herald.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(session.alpnProtocol, 'h2');
  });

  test('ten EventSource streams over one HTTP/2 connection all receive the update; closing them frees the hub', async () => {
    const fetchOverH2 = h2Fetch(session);
    const topic = 'https://example.com/h2';
    const sources = Array.from({ length: 10 }, () => new EventSource(`${herald.url}/.well-known/mercure?topic=${encodeURIComponent(topic)}`, { fetch: fetchOverH2 }));
    try {
      await Promise.all(sources.map((source) => new Promise((resolve, reject) => {
        source.addEventListener('open', resolve, { once: true });
        source.addEventListener('error', (e) => reject(new Error(`stream failed: ${String((e as { message?: string }).message)}`)), { once: true });
      })));
      assert.equal(herald.hub.subscriberCount, 10);
      const received = sources.map((source) => new Promise<{ id: string; data: string }>((resolve) => source.addEventListener('message', (e) => resolve({ id: e.lastEventId, data: e.data }), { once: true })));
      const published = await fetchOverH2(`${herald.url}/.well-known/mercure`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${await publisherToken()}` },
        body: new URLSearchParams({ topic, data: 'over h2' }).toString(),
      });
      assert.equal(published.status, 200);
      const id = await published.text();
      assert.deepEqual(await Promise.all(received), Array(10).fill({ id, data: 'over h2' }));
    } finally {
      for (const source of sources) source.close();
    }
    const deadline = Date.now() + 5000;
    while (herald.hub.subscriberCount > 0 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(herald.hub.subscriberCount, 0, 'every h2 stream was released');
  });

  test('HTTP/1.1 over TLS still works (allowHTTP1), with the security headers', async () => {
    const { status, headers } = await new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
      const req = httpsRequest(`${herald.url}/healthz`, { rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, headers: res.headers });
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 200);
    assert.equal(headers['x-content-type-options'], 'nosniff');
  });

  test('over TLS the session cookie is Secure, HttpOnly and SameSite=Strict', async () => {
    const response = await h2Fetch(session)(`${herald.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: herald.url },
      body: JSON.stringify({ nickname: 'Tls' }),
    });
    assert.equal(response.status, 200);
    const cookie = response.headers.get('set-cookie') ?? '';
    const attributes = cookie.split(/;\s*/).map((a) => a.toLowerCase());
    for (const attribute of ['secure', 'httponly', 'samesite=strict']) assert.ok(attributes.includes(attribute), cookie);
    await response.text();
  });
});
