// Half-open streams: a subscriber whose network vanishes (no FIN, no RST) must be
// dropped within a bound, so presence does not show a ghost. The client runs in its own
// network namespace, linked to this one by a veth pair (a private link, no outside
// network); its address is then removed, so every packet Herald sends it vanishes.
// Herald's TCP keepalive on stream sockets must find it: the test measures the time
// from the vanishing to the presence leave event and prints it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { once } from 'node:events';
import type { Config } from '../src/config.js';
import type { Herald } from '../src/herald.js';
import { hubUrl, startTestHerald, subscriberToken } from './support/herald.js';
import { collect } from './support/stream.js';

const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
const tag = process.pid % 10_000;
const NS = `herald-ho-${tag}`;
const HOST_IF = `hho${tag}a`;
const PEER_IF = `hho${tag}b`;
// A /30 of 10.213.0.0/16 chosen by the pid, so parallel runs do not collide.
const NET = `10.213.${Math.floor(tag / 64) % 256}.${(tag % 64) * 4}`;
const [a, b, c, d] = NET.split('.').map(Number) as [number, number, number, number];
const HOST_IP = `${a}.${b}.${c}.${d + 1}`;
const PEER_IP = `${a}.${b}.${c}.${d + 2}`;

function networkNamespaces(): string | false {
  const probe = ip('netns', 'list');
  if (probe.error !== undefined || probe.status !== 0) return `ip netns is not usable here (${probe.error?.message ?? probe.stderr.trim()})`;
  return false;
}

const missing = networkNamespaces();
// In CI the tool must be there: the test fails rather than skip.
const skip = missing !== false && process.env.CI === undefined ? missing : false;
if (skip) process.stdout.write(`# half-open test skipped: ${skip}\n`);

function must(result: ReturnType<typeof ip>, what: string): void {
  assert.equal(result.status, 0, `${what}: ${result.stderr}`);
}

let herald: Herald | undefined;
let client: ChildProcess | undefined;

function removeNamespace(): void {
  client?.kill('SIGKILL');
  ip('link', 'del', HOST_IF);
  ip('netns', 'del', NS);
}

after(async () => {
  // The namespace first: whatever happens below, no link or namespace is left behind.
  removeNamespace();
  await herald?.close();
});

/**
 * A subscriber in its own namespace joins (its presence event seen by a watcher), then
 * its network vanishes; resolves with the time from the vanishing to its leave event.
 */
async function vanishingSubscriber(options: Partial<Config>): Promise<number> {
  must(ip('netns', 'add', NS), 'netns add');
  must(ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', PEER_IF), 'veth');
  must(ip('link', 'set', PEER_IF, 'netns', NS), 'move the peer');
  must(ip('addr', 'add', `${HOST_IP}/30`, 'dev', HOST_IF), 'host address');
  must(ip('link', 'set', HOST_IF, 'up'), 'host link up');
  must(ip('-n', NS, 'addr', 'add', `${PEER_IP}/30`, 'dev', PEER_IF), 'peer address');
  must(ip('-n', NS, 'link', 'set', PEER_IF, 'up'), 'peer link up');

  herald = await startTestHerald({ host: HOST_IP, store: 'memory', chat: false, subscriptions: true, ...options });
  const topic = 'https://example.com/half-open';
  const watcher = collect(hubUrl(herald.url, [['topic', `/.well-known/mercure/subscriptions/exact/${encodeURIComponent(topic)}/{subscriber}`]]), {
    token: await subscriberToken(['/.well-known/mercure/subscriptions/{type}/{topic}/{subscriber}']),
    eventTypes: ['mercure'],
  });
  try {
    await watcher.opened;
    // The client: a plain HTTP stream from inside the namespace, which says when it is open and then only reads.
    const script = `require('http').get(${JSON.stringify(hubUrl(herald.url, [['topic', topic]]))}, (res) => { console.log('open ' + res.statusCode); res.resume(); }).on('error', (e) => console.log('error ' + e.message));`;
    client = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await Promise.race([once(client.stdout!, 'data'), once(client, 'exit').then(() => ['exited'])])) as [Buffer | string];
    assert.equal(String(line).trim(), 'open 200');
    const [joined] = await watcher.waitFor(1, 10_000);
    assert.equal((JSON.parse(joined!.data) as { active: boolean }).active, true);
    assert.equal(herald.hub.subscriberCount, 2);

    // The network vanishes: no FIN, no RST; what Herald sends the client is lost.
    must(ip('-n', NS, 'addr', 'flush', 'dev', PEER_IF), 'remove the client address');
    const vanished = performance.now();
    const [, left] = await watcher.waitFor(2, 60_000);
    const detectedMs = performance.now() - vanished;
    const leave = JSON.parse(left!.data) as { active: boolean; subscriber: string };
    assert.equal(leave.active, false);
    assert.equal(leave.subscriber, (JSON.parse(joined!.data) as { subscriber: string }).subscriber);
    assert.equal(herald.hub.subscriberCount, 1, 'only the watcher is left');
    return detectedMs;
  } finally {
    watcher.close();
    removeNamespace();
    await herald.close();
    herald = undefined;
  }
}

test('a subscriber whose network vanishes is dropped and its leave published within the keepalive bound', { skip, timeout: 90_000 }, async (t) => {
  // No heartbeats, no updates: nothing is in flight, so TCP keepalive probes the peer.
  const detectedMs = await vanishingSubscriber({ heartbeatSeconds: 0, deadPeerRetransmits: 0 });
  t.diagnostic(`half-open subscriber dropped, leave event ${detectedMs.toFixed(0)} ms after its network vanished (keepalive: 5 s idle + 10 probes 1 s apart)`);
  // Keepalive finds it at most ~15 s after its last packet; generous for a loaded machine.
  assert.ok(detectedMs < 40_000, `detected after ${detectedMs.toFixed(0)} ms`);
});

test('with heartbeats in flight (keepalive cannot probe), the retransmission sweep drops it', { skip, timeout: 90_000 }, async (t) => {
  // A heartbeat every second: data is always unacknowledged once the network is gone, so
  // only the kernel's retransmissions say the peer is dead (about 15 min without the sweep).
  const detectedMs = await vanishingSubscriber({ heartbeatSeconds: 1 });
  t.diagnostic(`half-open subscriber with heartbeats dropped, leave event ${detectedMs.toFixed(0)} ms after its network vanished (6 retransmissions, swept every 5 s)`);
  // 1 s to the next heartbeat, ~12.6 s of doubling retransmissions from 200 ms, then at most one 5 s sweep.
  assert.ok(detectedMs < 40_000, `detected after ${detectedMs.toFixed(0)} ms`);
});
