import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, envName, helpText, loadConfig } from './config.js';

test('defaults serve the chat on 8080 with the embedded SQLite store', () => {
  const config = loadConfig([], {});
  assert.equal(config.port, 8080);
  assert.equal(config.store, 'sqlite:./data/herald.db');
  assert.equal(config.anonymous, true);
  assert.equal(config.heartbeatSeconds, 15);
  assert.equal(config.jwtAlg, 'HS256');
  assert.equal(config.publicUrl, 'http://localhost:8080');
  assert.ok(Object.isFrozen(config));
});

test('flags beat HERALD_* variables, which beat defaults', () => {
  const env = { HERALD_PORT: '9000', HERALD_STORE: 'memory', HERALD_CORS_ORIGINS: 'http://a.example, http://b.example' };
  const config = loadConfig(['--port', '9100', '--anonymous=false'], env);
  assert.equal(config.port, 9100);
  assert.equal(config.store, 'memory');
  assert.deepEqual(config.corsOrigins, ['http://a.example', 'http://b.example']);
  assert.equal(config.anonymous, false);
  assert.equal(loadConfig(['--no-anonymous'], {}).anonymous, false);
  assert.equal(loadConfig(['--anonymous'], { HERALD_ANONYMOUS: 'false' }).anonymous, true);
});

test('a bad value is refused with a message naming the option and where it came from', () => {
  assert.throws(() => loadConfig(['--port', 'eighty'], {}), (e: unknown) => e instanceof ConfigError && /--port: expected a whole number.*"eighty".*--port/.test(e.message));
  assert.throws(() => loadConfig([], { HERALD_HEARTBEAT: '-5' }), /--heartbeat.*HERALD_HEARTBEAT/);
  assert.throws(() => loadConfig(['--jwt-alg', 'none'], {}), /--jwt-alg: expected one of HS256/);
  assert.throws(() => loadConfig(['--anonymous=maybe'], {}), /--anonymous: expected true or false/);
  assert.throws(() => loadConfig(['--colour', 'blue'], {}), (e: unknown) => e instanceof ConfigError && /colour/.test(e.message));
  assert.throws(() => loadConfig(['--public-url', 'not a url'], {}), /--public-url/);
  assert.throws(() => loadConfig(['--no-subscriptions'], {}), /--no-subscriptions.*--no-chat/);
  assert.equal(loadConfig(['--no-subscriptions', '--no-chat'], {}).subscriptions, false);
});

test('--help lists every option with its variable', () => {
  const help = helpText();
  for (const option of ['port', 'host', 'store', 'publisher-jwt-key', 'subscriber-jwt-key', 'jwt-alg', 'anonymous', 'cors-origins', 'heartbeat', 'history-max-per-topic', 'history-max-age']) {
    assert.ok(help.includes(`--${option}`), option);
    assert.ok(help.includes(envName(option)), envName(option));
  }
});

test('keys from files (kept out of ps): trimmed, exclusive with the inline flag, unreadable or empty refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-keyfile-'));
  try {
    const file = join(dir, 'publisher.key');
    writeFileSync(file, 'a-secret-from-a-file-that-is-long-enough\n');
    assert.equal(loadConfig(['--publisher-jwt-key-file', file], {}).publisherJwtKey, 'a-secret-from-a-file-that-is-long-enough');
    assert.equal(loadConfig([], { HERALD_SUBSCRIBER_JWT_KEY_FILE: file }).subscriberJwtKey, 'a-secret-from-a-file-that-is-long-enough');
    assert.throws(() => loadConfig(['--publisher-jwt-key', 'x', '--publisher-jwt-key-file', file], {}), /both set: keep one/);
    assert.throws(() => loadConfig(['--publisher-jwt-key-file', join(dir, 'missing')], {}), (e: unknown) => e instanceof ConfigError && /cannot read .*ENOENT/.test(e.message));
    writeFileSync(file, '\n');
    assert.throws(() => loadConfig(['--subscriber-jwt-key-file', file], {}), /is empty/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a negative number names the range (not "ambiguous"); a bad --store is a config error like any other', () => {
  assert.throws(() => loadConfig(['--heartbeat', '-5'], {}), (e: unknown) => e instanceof ConfigError && e.message === '--heartbeat: expected a number from 0 to 3600, got "-5" (from --heartbeat)');
  assert.throws(() => loadConfig(['--store', 'postgres://x'], {}), (e: unknown) => e instanceof ConfigError && /--store: expected memory, sqlite:<path>, redis:\/\/host:port\/db, redis-sentinel:.* or redis-cluster:/.test(e.message));
  assert.equal(loadConfig(['--store', 'rediss://h:6380/1'], {}).store, 'rediss://h:6380/1');
});

test('--help shows value placeholders and both spellings of a boolean', () => {
  const help = helpText();
  assert.match(help, /--port <n> /);
  assert.match(help, /--cors-origins <a,b,\.\.\.>/);
  assert.match(help, /--chat, --no-chat /);
  assert.match(help, /--version/);
  assert.match(help, /Exit status: 0 .* 2 bad option/);
});

test('the default body limit carries an update of --data-limit; a body limit below it is refused at start', () => {
  assert.equal(loadConfig([], {}).bodyLimit, 3 * 1_048_576 + 65_536);
  assert.equal(loadConfig(['--data-limit', '1000'], {}).bodyLimit, 1_048_576, 'never below 1 MiB');
  assert.equal(loadConfig(['--body-limit', '5000000'], {}).bodyLimit, 5_000_000);
  assert.throws(() => loadConfig(['--body-limit', '1048576'], {}), /--body-limit 1048576 cannot carry an update of --data-limit 1048576 bytes/);
  assert.doesNotThrow(() => loadConfig(['--body-limit', '1048576', '--data-limit', '900000'], {}));
});
