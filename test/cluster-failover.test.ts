// Failover through the shipped nginx config: a real EventSource streams from one of two
// Herald processes (sharing Redis) while 2000 events are published at ~500/s through
// nginx; the process serving the stream is killed with SIGKILL. The client reconnects
// through nginx to the other process with Last-Event-ID and must end up with every
// stored event exactly once, in log order, and so every acknowledged one. The hubs run
// with --retry 500 (a `retry:` at the start of every stream), so the client comes back
// after 500 ms instead of EventSource's 3 s default. Prints the failover gap.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventSource } from 'eventsource';
import { createRedisBroker } from '../src/broker/redis/redis-broker.js';
import type { NginxProcess } from '../scripts/cluster/nginx-process.js';
import { hubUrl, PUBLISHER_KEY, publisherToken, SUBSCRIBER_KEY } from './support/herald.js';
import { servedBy, skipWithout, startTestNginx } from './support/nginx.js';
import { spawnHerald, type HeraldProcess } from './support/process.js';
import { deleteKeys, SHARED_REDIS, uniquePrefix } from './support/redis-prefix.js';

const skip = skipWithout('nginx');
const TOTAL = 2000;
const RATE = 500;
const KILL_AT = 300;
// Publishes in flight at once: one at a time cannot keep up 500/s on a busy machine.
const LANES = 4;
const TOPIC = 'https://example.com/failover';
const RETRY_MS = 500;
const prefix = uniquePrefix('failover');
let heralds: HeraldProcess[] = [];
let nginx: NginxProcess | undefined;

before(async () => {
  if (skip) return;
  // The whole run stays in history: a slow reconnect (3 s at 500/s without --retry) is
  // more than the default 1000 per topic, and a resume from a trimmed id would replay from the oldest kept.
  const args = ['--store', SHARED_REDIS, '--redis-prefix', prefix, '--publisher-jwt-key', PUBLISHER_KEY, '--subscriber-jwt-key', SUBSCRIBER_KEY, '--history-max-per-topic', '10000', '--retry', String(RETRY_MS)];
  heralds = await Promise.all([spawnHerald(args), spawnHerald(args)]);
  // Limits high enough for 500 publishes/s from one address.
  nginx = await startTestNginx(heralds.map((h) => h.url), { publishRate: '5000r/s', publishBurst: 5000 });
});
after(async () => {
  await nginx?.stop();
  await Promise.all(heralds.map((h) => h.stop('SIGKILL')));
  if (!skip) await deleteKeys(prefix);
});

interface Connection {
  readonly at: number;
  readonly upstream: string | undefined;
  readonly lastEventId: string | undefined;
  /** The hub's Last-Event-ID answer: 'earliest' when it did not know the id sent. */
  readonly resumedFrom: string | null;
}
interface Received {
  readonly id: string;
  readonly index: number;
  readonly at: number;
}

/** A browser-like client: the `eventsource` package, with each (re)connection's upstream recorded. */
function follow(url: string) {
  const connections: Connection[] = [];
  const received: Received[] = [];
  const errors: number[] = [];
  let wake: (() => void) | null = null;
  const source = new EventSource(url, {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const headers = (init?.headers ?? {}) as Record<string, string>;
      connections.push({
        at: performance.now(),
        upstream: servedBy(response.headers),
        lastEventId: headers['Last-Event-ID'] ?? headers['last-event-id'],
        resumedFrom: response.headers.get('last-event-id'),
      });
      return response;
    },
  });
  source.addEventListener('message', (event) => {
    received.push({ id: event.lastEventId, index: Number(event.data), at: performance.now() });
    wake?.();
  });
  source.addEventListener('error', () => errors.push(performance.now()));
  const until = async (done: () => boolean, timeoutMs: number, what: string): Promise<void> => {
    const deadline = performance.now() + timeoutMs;
    while (!done()) {
      const left = deadline - performance.now();
      assert.ok(left > 0, `timed out waiting for ${what}; ${received.length} events, ${connections.length} connections`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };
  return { source, connections, received, errors, until };
}

interface PublishOutcome {
  acknowledged: boolean;
  failedAttempts: number;
}

/** A publish through nginx, retried when it did not get an answer; a duplicate-id refusal means an earlier attempt was stored. */
async function publishWithRetry(index: number, token: string): Promise<PublishOutcome> {
  let failedAttempts = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const response = await fetch(`${nginx!.url}/.well-known/mercure`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Bearer ${token}` },
        body: new URLSearchParams({ topic: TOPIC, id: `evt-${index}`, data: String(index) }).toString(),
      });
      const body = await response.text();
      if (response.status === 200) return { acknowledged: true, failedAttempts };
      if (response.status === 400 && body.includes('already in the log')) return { acknowledged: true, failedAttempts };
    } catch {
      // the connection broke: the publish may or may not be stored; the retry tells
    }
    failedAttempts++;
    await sleep(20);
  }
  return { acknowledged: false, failedAttempts };
}

test(`failover: ${TOTAL} events at ~${RATE}/s through nginx, the serving process killed (SIGKILL) mid-stream`, { skip, timeout: 90_000 }, async (t) => {
  const client = follow(hubUrl(nginx!.url, [['topic', TOPIC]]));
  try {
    await client.until(() => client.connections.length === 1 && client.source.readyState === EventSource.OPEN, 10_000, 'the stream to open');
    const victimHost = client.connections[0]!.upstream;
    const victim = heralds.find((h) => new URL(h.url).host === victimHost);
    const survivor = heralds.find((h) => h !== victim);
    assert.ok(victim && survivor, `the stream's upstream ${victimHost} is one of the processes`);

    const token = await publisherToken();
    const acknowledged = new Set<string>();
    let failedAttempts = 0;
    let killedAt = 0;
    let lastBeforeKill: Received | undefined;
    let next = 0;
    const startedAt = performance.now();
    const lane = async (): Promise<void> => {
      for (let i = next++; i < TOTAL; i = next++) {
        const due = startedAt + (i * 1000) / RATE - performance.now();
        if (due > 1) await sleep(due);
        if (i === KILL_AT) {
          lastBeforeKill = client.received.at(-1);
          killedAt = performance.now();
          victim.child.kill('SIGKILL');
        }
        const outcome = await publishWithRetry(i, token);
        failedAttempts += outcome.failedAttempts;
        if (outcome.acknowledged) acknowledged.add(`evt-${i}`);
      }
    };
    await Promise.all(Array.from({ length: LANES }, lane));
    const publishSeconds = (performance.now() - startedAt) / 1000;
    assert.equal(await victim.exited, 'SIGKILL');

    // The order to expect is the log's: read it back through the Broker API.
    const reader = await createRedisBroker({ url: SHARED_REDIS, prefix, retention: { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 1_000_000 } });
    const logIds = (await reader.history({ filter: (u) => u.topics[0] === TOPIC, limit: 100_000 }).finally(() => reader.close())).updates.map((u) => u.id);
    const inLog = new Set(logIds);
    assert.deepEqual([...acknowledged].filter((id) => !inLog.has(id)), [], 'acknowledged but not in the log');
    await client.until(() => client.received.length >= logIds.length, 30_000, `all ${logIds.length} events of the log`);
    const receivedIds = client.received.map((r) => r.id);
    const seen = new Set(receivedIds);
    const lost = [...acknowledged].filter((id) => !seen.has(id));
    assert.deepEqual(lost, [], 'acknowledged events the client never received');
    assert.deepEqual(receivedIds, logIds, 'every event of the log exactly once, in log order');
    for (const r of client.received) assert.equal(r.id, `evt-${r.index}`);
    assert.ok(acknowledged.size >= TOTAL - 5, `only ${acknowledged.size} of ${TOTAL} publishes were acknowledged`);

    // Exactly one reconnection, through nginx, to the other process, resuming after the last event seen.
    assert.equal(client.connections.length, 2, `connections: ${JSON.stringify(client.connections)}`);
    const reconnection = client.connections[1]!;
    assert.equal(reconnection.upstream, new URL(survivor.url).host);
    const resumedFrom = client.received.filter((r) => r.at < reconnection.at).at(-1);
    assert.ok(resumedFrom && lastBeforeKill && client.received.indexOf(resumedFrom) >= client.received.indexOf(lastBeforeKill));
    assert.equal(reconnection.lastEventId, resumedFrom.id, 'the reconnection sent the last event id it had seen');
    assert.notEqual(reconnection.resumedFrom, 'earliest', 'the other process knew that id (no replay from the oldest kept)');

    const firstAfter = client.received.find((r) => r.at > reconnection.at)!;
    const gap = firstAfter.at - killedAt;
    const detected = (client.errors[0] ?? NaN) - killedAt;
    // The default 3 s retry would put it above 3000: the bound is loose for a loaded machine, the figure is printed.
    assert.ok(gap < 2000, `the failover gap with --retry ${RETRY_MS} is ${gap.toFixed(0)} ms`);
    t.diagnostic(
      `failover gap with --retry ${RETRY_MS}: ${gap.toFixed(0)} ms (kill -> stream error ${detected.toFixed(0)} ms, retry delay -> reconnected at ` +
        `${(reconnection.at - killedAt).toFixed(0)} ms, first event ${(firstAfter.at - reconnection.at).toFixed(0)} ms after that); ` +
        `events lost ${lost.length}; received ${receivedIds.length} (log ${logIds.length}), acknowledged ${acknowledged.size}/${TOTAL}, ` +
        `failed publish attempts ${failedAttempts}; ${(TOTAL / publishSeconds).toFixed(0)} publishes/s`,
    );
  } finally {
    client.source.close();
  }
});
