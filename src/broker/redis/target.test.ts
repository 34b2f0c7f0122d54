// The --store forms that reach Redis (what each parses to, what logs show, what is
// refused) and the 503 messages a failed Redis call turns into.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeraldError } from '../../errors.js';
import { storeError } from './connection.js';
import { describeRedisUrl, parseRedisStore } from './target.js';

const invalid = (e: unknown): boolean => isHeraldError(e) && e.code === 'invalid_config';

test('redis target: Sentinel URLs give the sentinels, the master name and the db; credentials are kept for the nodes, not shown', () => {
  const target = parseRedisStore('redis-sentinel://app:p%40ss@10.0.0.1:26379,[::1]:26380,sentinel.local/main?db=2');
  assert.deepEqual(target, {
    kind: 'sentinel',
    nodes: [{ host: '10.0.0.1', port: 26379 }, { host: '::1', port: 26380 }, { host: 'sentinel.local', port: 26379 }],
    masterName: 'main',
    db: 2,
    auth: { username: 'app', password: 'p@ss' },
    tls: false,
    description: 'redis-sentinel://10.0.0.1:26379,::1:26380,sentinel.local:26379/main?db=2',
  });
  const tls = parseRedisStore('rediss-sentinel://h:1/m');
  assert.ok(tls.kind === 'sentinel' && tls.tls);
});

test('redis target: Cluster URLs give the seed nodes (default port 6379), no path', () => {
  assert.deepEqual(parseRedisStore('redis-cluster://:pw@127.0.0.1:7000,127.0.0.1'), {
    kind: 'cluster',
    nodes: [{ host: '127.0.0.1', port: 7000 }, { host: '127.0.0.1', port: 6379 }],
    auth: { password: 'pw' },
    tls: false,
    description: 'redis-cluster://127.0.0.1:7000,127.0.0.1:6379',
  });
  assert.equal(describeRedisUrl('rediss-cluster://a:1'), 'rediss-cluster://a:1');
});

test('redis target: malformed URLs are invalid_config naming the syntax', () => {
  for (const bad of [
    'redis-sentinel://h:1',
    'redis-sentinel://h:1/',
    'redis-sentinel://h:99999/m',
    'redis-sentinel://h:1,,g:2/m',
    'redis-sentinel://h:1/m?db=x',
    'redis-cluster://h:1/0',
    'redis-cluster://h x:1',
    `redis-cluster://${Array.from({ length: 65 }, (_, i) => `h:${i + 1}`).join(',')}`,
    'http://h:1',
  ]) {
    assert.throws(() => parseRedisStore(bad), invalid, bad);
  }
});

test('redis errors: the 503 message names what happened, "unreachable" only when no connection was there', () => {
  const cases: Array<[string, RegExp]> = [
    ['MOVED 3999 127.0.0.1:6381', /moving this slot/],
    ['Too many Cluster redirections. Last error: TRYAGAIN Multiple keys request during rehashing of slot', /moving this slot/],
    ['CLUSTERDOWN The cluster is down', /moving this slot/],
    ['READONLY You can\'t write against a read only replica.', /failing over/],
    ['Command timed out', /did not answer within 1000 ms/],
    ['OOM command not allowed when used memory > \'maxmemory\'.', /out of memory/],
    ['Connection is closed.', /unreachable/],
    ['Reached the max retries per request limit (which is 0). Refer to "maxRetriesPerRequest" option for details.', /unreachable/],
    ['NOPERM this user has no permissions', /refused the command \(NOPERM\)/],
  ];
  for (const [cause, expected] of cases) {
    const error = storeError(new Error(cause), 'the update was not published');
    assert.equal(error.code, 'store_unavailable');
    assert.match(error.message, expected, cause);
    assert.match(error.message, /; the update was not published$/);
    if (!/unreachable/.test(String(expected))) assert.doesNotMatch(error.message, /unreachable/, cause);
  }
});
