// What a resumed stream keeps once its replay is over: starts Herald in this process
// (memory store, no chat, no presence) with 10 000 updates kept, then, per round, opens
// N plain streams and N streams resuming from `earliest` (a replay of all 10 000) from
// a child process that reads and drops the bytes, waits until every replay handed over
// to live, and compares the heap after a full GC. Nothing is published after the
// replays, so state a replay keeps for its hand-off (the replayed ids, before) stays.
//   node --import tsx bench/probe/replay-heap.ts [streams] [rounds]
import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { Session } from 'node:inspector/promises';
import { publisherToken, startTestHerald } from '../../test/support/herald.js';

const N = Number(process.argv[2] ?? 200);
const ROUNDS = Number(process.argv[3] ?? 5);
const KEPT = 10_000;
const TOPIC = 'urn:heap';

const herald = await startTestHerald({ chat: false, subscriptions: false, replayMax: KEPT, historyMaxPerTopic: 0 });
const port = (herald.app.server.address() as AddressInfo).port;
const session = new Session();
session.connect();

const token = await publisherToken();
const updates = Array.from({ length: KEPT }, (_, i) => ({ topic: TOPIC, data: `update ${i}` }));
const published = await fetch(`${herald.url}/.well-known/mercure`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ updates }) });
if (published.status !== 200) throw new Error(`publish: ${published.status} ${await published.text()}`);

async function heapUsed(): Promise<number> {
  await session.post('HeapProfiler.collectGarbage');
  await session.post('HeapProfiler.collectGarbage');
  return process.memoryUsage().heapUsed;
}

/** Opens `count` streams from a child; resolves once each has its head. Kill the child to close them. */
async function openStreams(count: number, resume: boolean): Promise<ChildProcess> {
  const query = `topic=${encodeURIComponent(TOPIC)}${resume ? '&lastEventID=earliest' : ''}`;
  const request = `GET /.well-known/mercure?${query} HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n`;
  const script = `const net=require('net');let open=0;for(let i=0;i<${count};i++){const s=net.connect(${port},'127.0.0.1',()=>s.write('${request}'));s.once('data',()=>{s.resume();if(++open===${count})console.log('ready')})}`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => String(d).includes('ready') && resolve()));
  return child;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function closeAll(child: ChildProcess): Promise<void> {
  child.kill();
  await until(() => herald.hub.subscriberCount === 0, 'streams closed');
}

/** Heap bytes per stream of N streams, after every replay (if any) is over. */
async function perStream(resume: boolean): Promise<number> {
  const base = await heapUsed();
  const replays = herald.hub.stats().replays;
  const child = await openStreams(N, resume);
  if (resume) await until(() => herald.hub.stats().replays === replays + N, 'replays handed over');
  const used = await heapUsed();
  await closeAll(child);
  return (used - base) / N;
}

await closeAll(await openStreams(20, true)); // warm the code paths
const plain: number[] = [];
const resumed: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  plain.push(await perStream(false));
  resumed.push(await perStream(true));
}
const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b);
const median = (values: number[]): number => sorted(values)[Math.floor(values.length / 2)]!;
const extra = resumed.map((r, i) => r - plain[i]!);
console.log(`${N} streams per round, ${ROUNDS} rounds, replay of ${KEPT} updates each`);
console.log(`plain stream:   median ${kb(median(plain))} (${sorted(plain).map(kb).join(', ')})`);
console.log(`resumed stream: median ${kb(median(resumed))} (${sorted(resumed).map(kb).join(', ')})`);
console.log(`resumed - plain: median ${kb(median(extra))} (min ${kb(Math.min(...extra))}, max ${kb(Math.max(...extra))})`);
await herald.close();
process.exit(0);
