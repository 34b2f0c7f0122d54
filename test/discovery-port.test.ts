// Issue 14 item 8: with --port 0 (and no --public-url) the discovery Link names the
// port the hub really listens on, never `localhost:0`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../src/config.js';
import { startHerald } from '../src/herald.js';
import { createLogger } from '../src/log.js';

test('--port 0: the discovery Link carries the port actually listened on', async () => {
  const config = loadConfig(['--port', '0', '--host', '127.0.0.1', '--store', 'memory', '--no-chat'], {});
  assert.equal(config.publicUrl, 'http://localhost:0');
  const herald = await startHerald(config, createLogger('silent'));
  try {
    const port = new URL(herald.url).port;
    const response = await fetch(`${herald.url}/.well-known/mercure?topic=x`, { signal: AbortSignal.timeout(2000) });
    const link = response.headers.get('link') ?? '';
    void response.body?.cancel();
    assert.match(link, new RegExp(`<http://localhost:${port}/\\.well-known/mercure>; rel="mercure"`));
    assert.doesNotMatch(link, /localhost:0\b/);
  } finally {
    await herald.close();
  }
});
