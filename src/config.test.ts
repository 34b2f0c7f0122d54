import { test } from 'node:test';
import assert from 'node:assert/strict';
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

test('the default body limit carries an update of --data-limit; a body limit below it is refused at start', () => {
  assert.equal(loadConfig([], {}).bodyLimit, 3 * 1_048_576 + 65_536);
  assert.equal(loadConfig(['--data-limit', '1000'], {}).bodyLimit, 1_048_576, 'never below 1 MiB');
  assert.equal(loadConfig(['--body-limit', '5000000'], {}).bodyLimit, 5_000_000);
  assert.throws(() => loadConfig(['--body-limit', '1048576'], {}), /--body-limit 1048576 cannot carry an update of --data-limit 1048576 bytes/);
  assert.doesNotThrow(() => loadConfig(['--body-limit', '1048576', '--data-limit', '900000'], {}));
});
