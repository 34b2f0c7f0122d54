// Where an idle stream's RSS goes, by V8 heap space: starts Herald in this process
// (--no-chat --no-subscriptions), opens N raw SSE connections from a child process
// (one topic, as scenario 5), and prints per connection the growth of RSS and of each
// space's committed and used size. stream-heap.ts counts the live objects; this shows
// what the heap commits around them (young-generation growth after the burst, slack).
//   node --import tsx bench/probe/heap-spaces.ts [connections]
import type { AddressInfo } from 'node:net';
import { getHeapSpaceStatistics } from 'node:v8';
import { startTestHerald } from '../../test/support/herald.js';
import { openStreams } from './open-streams.js';

const n = Number(process.argv[2] ?? 10_000);
const herald = await startTestHerald({ chat: false, subscriptions: false });
const port = (herald.app.server.address() as AddressInfo).port;

function sample(): Map<string, number> {
  const sizes = new Map<string, number>([['rss', process.memoryUsage().rss]]);
  for (const space of getHeapSpaceStatistics()) {
    sizes.set(`${space.space_name} committed`, space.space_size);
    sizes.set(`${space.space_name} used`, space.space_used_size);
  }
  return sizes;
}

(await openStreams(port, 50)).kill(); // the code paths warm, so that compiled code is not counted
await new Promise((resolve) => setTimeout(resolve, 1000));
const before = sample();
const child = await openStreams(port, n);
await new Promise((resolve) => setTimeout(resolve, 2000)); // scenario 5's settle time
const after = sample();
console.log(`${n} idle streams (--no-chat --no-subscriptions), growth per connection:`);
for (const [name, bytes] of after) {
  const growth = (bytes - (before.get(name) ?? 0)) / n;
  if (Math.abs(growth) >= 1) console.log(`${growth.toFixed(0).padStart(6)} B  ${name}`);
}
child.kill();
await herald.close();
process.exit(0);
