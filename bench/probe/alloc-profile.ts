// Where a publish's garbage comes from: starts Herald in this process (memory store,
// no chat, no presence), publishes from a child process as fast as 16 keep-alive
// sockets allow, and samples every allocation meanwhile (V8's sampling heap profiler,
// objects collected by GC included), printed per publish by allocating function and
// by the nearest Herald or framework frame. `off` measures with --no-front-door,
// `raw` with --raw-front-door.
//   node --import tsx bench/probe/alloc-profile.ts [on|off|raw] [cpu|heap] [subscribers]
// `cpu`: no heap sampling, so that `node --cpu-prof` sees the publish path alone.
// `subscribers` (e.g. 1000): one event stream per topic, so each publish is also delivered.
import { fileURLToPath } from 'node:url';
import { Session } from 'node:inspector/promises';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { startTestHerald, publisherToken } from '../../test/support/herald.js';
const door = process.argv[2] !== 'off';
const herald = await startTestHerald({ frontDoor: door, rawFrontDoor: process.argv[2] === 'raw', subscriptions: false, chat: false });
const port = (herald.app.server.address() as AddressInfo).port;
const token = await publisherToken();
const subscribers = process.argv[4] ?? '0';
/** Publishes for `seconds`; `measure` starts once the child's streams are open (before its first publish). */
const run = (seconds: number, measure: () => Promise<unknown> = async () => {}) => new Promise<{ ok: number }>((resolve) => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./publish-load.mjs', import.meta.url)), String(port), token, String(seconds), '16', subscribers], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const go = () => void measure().then(() => child.stdin.write('go\n'));
  if (subscribers === '0') void measure();
  child.stdout.on('data', (d) => {
    out += d;
    if (out.startsWith('open\n')) {
      out = out.slice(5);
      go();
    }
  });
  child.on('exit', () => resolve(JSON.parse(out)));
});
await run(2);
const session = new Session(); session.connect();
const sampling = process.argv[3] !== 'cpu';
const startSampling = () => (sampling ? session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never) : Promise.resolve());
const { ok } = await run(3, startSampling);
if (!sampling) {
  console.log(`door ${door}: ${ok} publishes in 3 s`);
  await herald.close();
  process.exit(0);
}
const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: Node } };
interface Node { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] }
const bySelf = new Map<string, number>(); const byStack = new Map<string, number>(); const byPath = new Map<string, number>();
let total = 0;
const walk = (n: Node, path: string[]) => {
  const name = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\/(node_modules\/|src\/)/, '$1')}:${n.callFrame.lineNumber + 1}`;
  const p = [...path, name];
  if (n.selfSize > 0) {
    total += n.selfSize;
    bySelf.set(name, (bySelf.get(name) ?? 0) + n.selfSize);
    // attribute to first frame in our src or fastify
    const owner = [...p].reverse().find((f) => /src\/|fastify|pino|cookie|formbody|querystring|find-my-way|light|avvio/.test(f)) ?? name;
    byStack.set(owner, (byStack.get(owner) ?? 0) + n.selfSize);
    const path = p.slice(-4).reverse().map((f) => f.split(' ')[0]).join(' < ');
    byPath.set(path, (byPath.get(path) ?? 0) + n.selfSize);
  }
  for (const c of n.children) walk(c, p);
};
walk(profile.head, []);
console.log(`door ${door}: ${ok} publishes, sampled ${(total / ok).toFixed(0)} B/publish`);
for (const [k, v] of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(v / ok).toFixed(0).padStart(6)} self  ${k}`);
console.log('--- by nearest project/framework frame');
for (const [k, v] of [...byStack].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(v / ok).toFixed(0).padStart(6)}  ${k}`);
console.log('--- by call path (allocating frame < its callers)');
for (const [k, v] of [...byPath].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${(v / ok).toFixed(0).padStart(6)}  ${k}`);
await herald.close();
process.exit(0);
