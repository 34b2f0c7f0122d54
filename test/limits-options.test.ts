// The security and limit options come from the one option table: flags and HERALD_*
// variables, validated at start, with the documented defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ConfigError, helpText, loadConfig } from '../src/config.js';
import { startTestHerald } from './support/herald.js';

test('defaults: limits off or generous, no TLS, no key set, no proxy trust', () => {
  const config = loadConfig([], {});
  assert.deepEqual(
    [config.publishRate, config.publishBurst, config.publishRateBy, config.maxSubscriptionsPerIp, config.maxConnections, config.maxTopics, config.dataLimit],
    [0, 1000, 'token', 0, 0, 100, 1_048_576],
  );
  assert.equal(config.tlsCert, undefined);
  assert.equal(config.jwksUrl, undefined);
  assert.equal(config.trustProxy, false);
  assert.equal(config.publicUrl, 'http://localhost:8080');
});

test('flags and environment variables set them', () => {
  const config = loadConfig(
    ['--publish-rate', '50', '--publish-burst', '10', '--publish-rate-by', 'ip', '--max-subscriptions-per-ip', '20', '--max-connections', '5000', '--max-topics', '8', '--data-limit', '4096', '--trust-proxy'],
    { HERALD_JWKS_URL: 'https://idp.example/.well-known/jwks.json', HERALD_CERT: '/etc/herald/cert.pem', HERALD_KEY: '/etc/herald/key.pem' },
  );
  assert.deepEqual(
    [config.publishRate, config.publishBurst, config.publishRateBy, config.maxSubscriptionsPerIp, config.maxConnections, config.maxTopics, config.dataLimit, config.trustProxy],
    [50, 10, 'ip', 20, 5000, 8, 4096, true],
  );
  assert.equal(config.jwksUrl, 'https://idp.example/.well-known/jwks.json');
  assert.deepEqual([config.tlsCert, config.tlsKey], ['/etc/herald/cert.pem', '/etc/herald/key.pem']);
  assert.equal(config.publicUrl, 'https://localhost:8080', 'with TLS the default public URL is https');
});

test('bad values stop the start with a message naming the option', () => {
  assert.throws(() => loadConfig(['--cert', 'cert.pem'], {}), (e: unknown) => e instanceof ConfigError && /--cert and --key/.test(e.message));
  assert.throws(() => loadConfig(['--publish-rate-by', 'user'], {}), (e: unknown) => e instanceof ConfigError && /--publish-rate-by/.test(e.message));
  assert.throws(() => loadConfig(['--max-topics', '0'], {}), (e: unknown) => e instanceof ConfigError && /--max-topics/.test(e.message));
  assert.throws(() => loadConfig(['--max-connections', '-1'], {}), (e: unknown) => e instanceof ConfigError);
});

test('--help lists every one of them', () => {
  const help = helpText();
  for (const name of ['jwks-url', 'cert', 'key', 'trust-proxy', 'data-limit', 'max-topics', 'publish-rate', 'publish-burst', 'publish-rate-by', 'max-subscriptions-per-ip', 'max-connections']) {
    assert.match(help, new RegExp(`--${name}[ ,]`), name);
  }
});

test('--listen-backlog reaches the listening socket (ss shows it as Send-Q); the default is 4096, not Node\'s 511', async () => {
  const queueOf = (url: string): number => {
    const port = new URL(url).port;
    const line = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
    return Number(line.split(/\s+/)[2]);
  };
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  for (const [backlog, expected] of [[undefined, Math.min(4096, somaxconn)], [77, 77]] as const) {
    const herald = await startTestHerald({ chat: false, ...(backlog === undefined ? {} : { listenBacklog: backlog }) });
    try {
      assert.equal(queueOf(herald.url), expected);
    } finally {
      await herald.close();
    }
  }
});
