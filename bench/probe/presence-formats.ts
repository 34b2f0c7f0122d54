// What --subscriptions-format costs: starts Herald in this process for each format
// (memory store, no chat), opens N streams of one selector each over loopback, closes
// them, and counts the subscription events the store received (events and bytes per
// subscription, join and leave together) and the time one open-and-close round takes,
// as a ratio against 0.x in the same run (rounds interleaved, median of each).
//   node --import tsx bench/probe/presence-formats.ts [streams] [rounds]
import { request, type ClientRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Update } from '../../src/broker/types.js';
import type { SubscriptionsFormat } from '../../src/hub/mercure-paths.js';
import { startTestHerald } from '../../test/support/herald.js';

const STREAMS = Number(process.argv[2] ?? 300);
const ROUNDS = Number(process.argv[3] ?? 5);
const FORMATS: readonly SubscriptionsFormat[] = ['0.x', 'draft', 'both'];
const EVENTS_PER_CHANGE: Record<SubscriptionsFormat, number> = { '0.x': 1, draft: 1, both: 2 };

interface Round {
  readonly events: number;
  readonly bytes: number;
  readonly ms: number;
}

function open(port: number, topic: string): Promise<ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/.well-known/mercure?topic=${encodeURIComponent(topic)}`, headers: { Accept: 'text/event-stream' }, agent: false }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
      res.resume();
      resolve(req);
    });
    req.on('error', () => undefined);
    req.end();
  });
}

async function round(format: SubscriptionsFormat): Promise<Round> {
  const herald = await startTestHerald({ subscriptionsFormat: format, chat: false, store: 'memory' });
  const port = (herald.app.server.address() as AddressInfo).port;
  const expected = STREAMS * 2 * EVENTS_PER_CHANGE[format];
  let events = 0;
  let bytes = 0;
  let reached: () => void = () => {};
  const done = new Promise<void>((resolve) => (reached = resolve));
  const stop = herald.broker.onUpdate((update: Update) => {
    if (!update.topics[0]!.startsWith('/.well-known/mercure/subscriptions/')) return;
    events++;
    bytes += Buffer.byteLength(update.data) + Buffer.byteLength(update.topics[0]!) + Buffer.byteLength(update.id) + (update.type?.length ?? 0);
    if (events === expected) reached();
  });
  const started = performance.now();
  const streams: ClientRequest[] = [];
  for (let i = 0; i < STREAMS; i += 50) {
    streams.push(...(await Promise.all(Array.from({ length: Math.min(50, STREAMS - i) }, (_, j) => open(port, `https://example.com/books/${i + j}`)))));
  }
  for (const stream of streams) stream.destroy();
  const timeout = setTimeout(() => reached(), 30_000);
  await done;
  clearTimeout(timeout);
  const ms = performance.now() - started;
  stop();
  await herald.close();
  return { events, bytes, ms };
}

const results = new Map<SubscriptionsFormat, Round[]>(FORMATS.map((f) => [f, []]));
await round('0.x'); // warm-up, not counted
for (let r = 0; r < ROUNDS; r++) for (const format of FORMATS) results.get(format)!.push(await round(format));

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const baseline = median(results.get('0.x')!.map((r) => r.ms));
console.log(`${STREAMS} streams of one selector each, opened then closed; ${ROUNDS} rounds per format`);
console.log('format | events per subscription | bytes per subscription | round time vs 0.x');
for (const format of FORMATS) {
  const rounds = results.get(format)!;
  const last = rounds.at(-1)!;
  console.log(`${format} | ${(last.events / STREAMS).toFixed(2)} | ${Math.round(last.bytes / STREAMS)} | ${(median(rounds.map((r) => r.ms)) / baseline).toFixed(2)}`);
}
