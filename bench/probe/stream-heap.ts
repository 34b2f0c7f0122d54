// What an idle event stream holds: starts Herald in this process, opens N raw SSE
// connections from a child process (one topic, as scenario 5), and diffs two heap
// snapshots taken before and after (written to files first, so this probe's own
// analysis is never in them): the new objects per connection by type, and the edges
// that hold them.
//   node --import tsx bench/probe/stream-heap.ts [connections] [lean]
// `lean`: --no-chat --no-subscriptions (no presence records).
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestHerald } from '../../test/support/herald.js';
import { openStreams } from './open-streams.js';

const n = Number(process.argv[2] ?? 1000);
const lean = process.argv[3] === 'lean';
const herald = await startTestHerald(lean ? { chat: false, subscriptions: false } : {});
const port = (herald.app.server.address() as AddressInfo).port;
const session = new Session();
session.connect();
const dir = mkdtempSync(join(tmpdir(), 'stream-heap-'));

async function snapshot(file: string): Promise<void> {
  await session.post('HeapProfiler.collectGarbage');
  writeFileSync(file, '');
  const onChunk = (message: { params: { chunk: string } }): void => appendFileSync(file, message.params.chunk);
  session.on('HeapProfiler.addHeapSnapshotChunk', onChunk as never);
  await session.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false } as never);
  session.off('HeapProfiler.addHeapSnapshotChunk', onChunk as never);
}

(await openStreams(port, 50)).kill(); // the code paths warm, so that compiled code is not counted
await new Promise((resolve) => setTimeout(resolve, 500));
await snapshot(join(dir, 'before'));
const child = await openStreams(port, n);
await snapshot(join(dir, 'after'));

interface Snapshot { snapshot: { meta: Record<string, unknown[]> }; nodes: number[]; edges: number[]; strings: string[] }
const before = JSON.parse(readFileSync(join(dir, 'before'), 'utf8')) as Snapshot;
const after = JSON.parse(readFileSync(join(dir, 'after'), 'utf8')) as Snapshot;
rmSync(dir, { recursive: true });
const meta = after.snapshot.meta;
const nodeFields = meta.node_fields as string[];
const nodeTypes = (meta.node_types as string[][])[0]!;
const edgeFields = meta.edge_fields as string[];
const edgeTypes = (meta.edge_types as string[][])[0]!;
const NF = nodeFields.length, EF = edgeFields.length;
const [TYPE, NAME, ID, SIZE, EDGES] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((f) => nodeFields.indexOf(f)) as [number, number, number, number, number];
const [ETYPE, ENAME, ETO] = ['type', 'name_or_index', 'to_node'].map((f) => edgeFields.indexOf(f)) as [number, number, number];
const old = new Set<number>();
for (let i = 0; i < before.nodes.length; i += NF) old.add(before.nodes[i + ID]!);
const label = (i: number): string => {
  const type = nodeTypes[after.nodes[i + TYPE]!]!;
  // A concatenation keeps its parts alive: it is told apart from a flat string.
  return type.includes('string') ? `(${type})` : `${type}:${String(after.strings[after.nodes[i + NAME]!]).slice(0, 40)}`;
};
const byType = new Map<string, [number, number]>();
const byEdge = new Map<string, [number, number]>();
let total = 0;
for (let i = 0, e = 0; i < after.nodes.length; i += NF) {
  if (!old.has(after.nodes[i + ID]!)) {
    const entry = byType.get(label(i)) ?? [0, 0];
    entry[0]++;
    entry[1] += after.nodes[i + SIZE]!;
    total += after.nodes[i + SIZE]!;
    byType.set(label(i), entry);
  }
  for (let k = 0; k < after.nodes[i + EDGES]!; k++, e += EF) {
    const to = after.edges[e + ETO]!;
    const edgeType = edgeTypes[after.edges[e + ETYPE]!];
    if (old.has(after.nodes[to + ID]!) || edgeType === 'weak') continue;
    const name = edgeType === 'element' || edgeType === 'hidden' ? `[${edgeType}]` : String(after.strings[after.edges[e + ENAME]!]).slice(0, 30);
    const key = `${label(i)} --${name}--> ${label(to)}`;
    const entry = byEdge.get(key) ?? [0, 0];
    entry[0]++;
    entry[1] += after.nodes[to + SIZE]!;
    byEdge.set(key, entry);
  }
}
const line = ([key, [count, bytes]]: [string, [number, number]]): string => `${(bytes / n).toFixed(0).padStart(6)} B ${(count / n).toFixed(2).padStart(6)}/stream  ${key}`;
console.log(`${n} idle streams${lean ? ' (--no-chat --no-subscriptions)' : ''}: ${(total / n).toFixed(0)} B of new heap objects per stream`);
for (const entry of [...byType].sort((a, b) => b[1][1] - a[1][1]).slice(0, 25)) console.log(line(entry));
console.log('--- what holds them (edges to new objects, by bytes of the target)');
for (const entry of [...byEdge].filter(([, [count]]) => count >= n / 2).sort((a, b) => b[1][1] - a[1][1]).slice(0, 40)) console.log(line(entry));
child.kill();
await herald.close();
process.exit(0);
