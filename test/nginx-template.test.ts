// deploy/nginx/herald.conf as a template: every placeholder filled, bad values refused,
// the result accepted by `nginx -t`, and the hub location carrying what streaming needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNginxTemplate, renderNginxConfig } from '../scripts/cluster/nginx-config.js';
import { NGINX_BIN } from '../scripts/cluster/nginx-process.js';
import { skipWithout } from './support/nginx.js';

const settings = { listen: '127.0.0.1:8080', upstreams: ['127.0.0.1:8081', '127.0.0.1:8082', '127.0.0.1:8083'] };

/** The text of one `location <match> { ... }` block (no nested blocks inside ours). */
function locationBlock(config: string, match: string): string {
  const start = config.indexOf(`location ${match} {`);
  assert.ok(start >= 0, `no location ${match}`);
  return config.slice(start, config.indexOf('\n        }', start));
}

test('nginx template: every placeholder is filled, the upstreams listed', async () => {
  const config = renderNginxConfig(await readNginxTemplate(), settings);
  assert.doesNotMatch(config, /\{\{/);
  assert.match(config, /listen 127\.0\.0\.1:8080;/);
  assert.deepEqual(config.match(/^\s+server 127\.0\.0\.1:\d+ max_fails=1 fail_timeout=5s;$/gm)?.map((line) => line.trim().split(' ')[1]), settings.upstreams);
  assert.match(config, /limit_conn herald_subscribers 100;/);
  assert.match(config, /rate=50r\/s;/);
  assert.match(config, /burst=100 nodelay;/);
  const low = renderNginxConfig(await readNginxTemplate(), { ...settings, subscriptionsPerAddress: 2, publishRate: '1r/m', publishBurst: 3, workerProcesses: 1 });
  assert.match(low, /limit_conn herald_subscribers 2;/);
  assert.match(low, /rate=1r\/m;/);
  assert.match(low, /burst=3 nodelay;/);
  assert.match(low, /^worker_processes 1;$/m);
});

test('nginx template: bad values and unknown placeholders are refused', () => {
  assert.throws(() => renderNginxConfig('', { ...settings, listen: '8080' }), /listen must be host:port/);
  assert.throws(() => renderNginxConfig('', { ...settings, upstreams: [] }), /at least one/);
  assert.throws(() => renderNginxConfig('', { ...settings, upstreams: ['127.0.0.1:1; evil'] }), /upstream must be host:port/);
  assert.throws(() => renderNginxConfig('', { ...settings, publishRate: '50/s' }), /publish rate/);
  assert.throws(() => renderNginxConfig('', { ...settings, publishBurst: 0 }), /publishBurst/);
  assert.throws(() => renderNginxConfig('listen {{PORT}};', settings), /unknown placeholder \{\{PORT\}\}/);
});

test('nginx template: the hub location streams unbuffered and limits GET and POST apart', async () => {
  const config = renderNginxConfig(await readNginxTemplate(), settings);
  const hub = locationBlock(config, '= /.well-known/mercure');
  for (const directive of ['proxy_buffering off;', 'proxy_cache off;', 'gzip off;', 'proxy_read_timeout 24h;', 'limit_conn_status 503;', 'limit_req_status 429;']) {
    assert.ok(hub.includes(directive), `the hub location lacks "${directive}"`);
  }
  // Set once at server level: a proxy_set_header inside a location would drop all of these.
  assert.doesNotMatch(hub, /proxy_set_header/);
  for (const directive of ['proxy_http_version 1.1;', 'proxy_set_header Connection "";', 'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;', 'proxy_set_header X-Forwarded-Proto $scheme;', 'proxy_next_upstream error timeout;']) {
    assert.ok(config.includes(directive), `the server lacks "${directive}"`);
  }
  assert.match(config, /map \$request_method \$herald_subscribe_key \{\s+GET\s+\$binary_remote_addr;\s+default "";/);
  assert.match(config, /map \$request_method \$herald_publish_key \{\s+POST\s+\$binary_remote_addr;\s+default "";/);
  assert.match(locationBlock(config, '~* \\.(?:js|css|map|svg|png|ico|woff2?)$'), /expires 5m;/);
});

test('nginx template: nginx -t accepts the rendered config', { skip: skipWithout('nginx') }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-nginx-t-'));
  try {
    for (const sub of ['logs', 'tmp', 'cache']) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, 'nginx.conf'), renderNginxConfig(await readNginxTemplate(), settings));
    const result = spawnSync(NGINX_BIN, ['-t', '-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /syntax is ok/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
