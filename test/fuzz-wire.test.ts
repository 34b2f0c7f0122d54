// Garbage on the wire: 2000 hostile inputs (fixed seed, so every run sends the same
// bytes) over raw sockets, eight at a time, while a legitimate publisher and
// subscriber keep working. Every answer must be a clear 4xx (JSON, with an error
// code), a closed connection, or, for inputs that are odd but valid, a 2xx; never a
// 5xx, never a hang. Afterwards no stream or connection is left over, memory stayed
// bounded, every acknowledged legitimate update was delivered in order, and a fresh
// subscribe/publish works.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Herald } from '../src/herald.js';
import { FRONT_DOORS, hubUrl, publish, publisherToken, startTestHerald, subscriberToken } from './support/herald.js';
import { rawExchange, type RawOutcome } from './support/raw-http.js';
import { rawStream } from './support/stream.js';
import { hostileInputs, type HostileInput } from './support/wire-garbage.js';

const SEED = 0x5eed_2026;
const INPUTS = 2000;
const CONCURRENCY = 8;
const LEGIT_TOPIC = 'https://example.com/legit';

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function problem(input: HostileInput, outcome: RawOutcome): string | undefined {
  if (outcome.hung) return 'no answer and no close within 5 s';
  if (outcome.status >= 500) return `answered ${outcome.status}`;
  if (input.only !== undefined && !input.only.includes(outcome.status)) return `answered ${outcome.status}, expected one of ${input.only.join(', ')}`;
  if (outcome.status >= 200 && outcome.status < 300 && !input.may200) return `accepted with ${outcome.status}`;
  if (outcome.status >= 400 && outcome.status < 500) {
    if (!outcome.headers['content-type']?.startsWith('application/json')) return `${outcome.status} without a JSON body`;
    if (input.head === true || (outcome.closed && outcome.body === '')) return undefined; // HEAD has no body; a close mid-body still left a clear status line
    try {
      const body = JSON.parse(outcome.body) as { error?: unknown; message?: unknown };
      if (typeof body.error !== 'string' || typeof body.message !== 'string') return `${outcome.status} body without error/message: ${outcome.body.slice(0, 100)}`;
    } catch {
      return `${outcome.status} body is not JSON: ${outcome.body.slice(0, 100)}`;
    }
  }
  return undefined;
}

for (const door of FRONT_DOORS) describe(door.name, () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald(door.config);
  });
  after(() => herald.close());

  test(`${INPUTS} hostile inputs: clear 4xx or close, no crash, no leak, nothing lost`, async (t) => {
    const port = (herald.app.server.address() as AddressInfo).port;
    const token = await publisherToken();
    const inputs = hostileInputs(SEED, INPUTS, { publisher: token, subscriber: await subscriberToken(['*']) });
    const legit = await rawStream(hubUrl(herald.url, [['topic', LEGIT_TOPIC]]));
    const acknowledged: string[] = [];
    const tally = new Map<string, Map<string, number>>();
    const failures: string[] = [];
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    try {
      let next = 0;
      const worker = async () => {
        while (next < inputs.length) {
          const index = next++;
          const input = inputs[index]!;
          if (index % 25 === 0) {
            const result = await publish(herald.url, [['topic', LEGIT_TOPIC], ['data', `legit ${index}`]], token);
            assert.equal(result.status, 200, `the legitimate publish during the fuzz: ${result.body}`);
            acknowledged.push(result.body);
          }
          const outcome = await rawExchange(port, input);
          const label = outcome.status === 0 ? 'closed' : outcome.stream ? `${outcome.status} stream` : String(outcome.status);
          const counts = tally.get(input.category) ?? new Map<string, number>();
          tally.set(input.category, counts.set(label, (counts.get(label) ?? 0) + 1));
          const wrong = problem(input, outcome);
          if (wrong !== undefined) failures.push(`#${index} ${input.category}: ${wrong}; sent ${JSON.stringify(input.bytes.subarray(0, 120).toString('latin1'))}`);
          if (index % 100 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      assert.deepEqual(failures.slice(0, 10), [], `${failures.length} wrong answers`);

      // Nothing left over: only the legitimate stream remains, connections drain.
      await until(() => herald.hub.subscriberCount === 1, `streams left: ${herald.hub.subscriberCount}`);
      const connections = () => new Promise<number>((resolve) => herald.app.server.getConnections((_error, count) => resolve(count)));
      await until(async () => (await connections()) <= 2, 'connections to drain');
      const rssAfter = process.memoryUsage().rss;
      assert.ok(rssAfter - rssBefore < 256 * 1024 * 1024, `RSS grew by ${Math.round((rssAfter - rssBefore) / 1048576)} MB`);

      // Nothing lost: every acknowledged legitimate update reached the legitimate subscriber, in order.
      await legit.waitForText(`id: ${acknowledged[acknowledged.length - 1]}\n`);
      const delivered = [...legit.text().matchAll(/^id: (.+)$/gm)].map((m) => m[1]);
      assert.deepEqual(delivered, acknowledged);

      // And the hub still works for a newcomer.
      const fresh = await rawStream(hubUrl(herald.url, [['topic', 'https://example.com/after-fuzz']]));
      try {
        const id = (await publish(herald.url, [['topic', 'https://example.com/after-fuzz'], ['data', 'still alive']], token)).body;
        await fresh.waitForText(`id: ${id}\ndata: still alive\n\n`);
      } finally {
        fresh.close();
      }
      const table = [...tally].sort().map(([category, counts]) => `${category}: ${[...counts].sort().map(([label, n]) => `${label}×${n}`).join(', ')}`);
      t.diagnostic(`${INPUTS} inputs (seed ${SEED.toString(16)}), 0 wrong answers, 0 crashes; ${acknowledged.length} legitimate updates, 0 lost; RSS ${Math.round(rssBefore / 1048576)} -> peak ${Math.round(rssPeak / 1048576)} -> ${Math.round(rssAfter / 1048576)} MB`);
      for (const line of table) t.diagnostic(line);
    } finally {
      legit.close();
    }
  });
});

