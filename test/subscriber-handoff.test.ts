// The replay -> live hand-off under fire: subscribers resume far back (thousands of
// updates to replay, many pages) while a publisher keeps publishing, on the memory
// store and on Redis (one log, and four buckets whose merge holds entries back, so
// history runs ahead of delivery). Each must get exactly the updates after its
// Last-Event-ID that it follows: every one, once, in publish order. The hub keeps one
// id per replay for this (Subscriber.endReplay), not the set of replayed ids.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from '../src/config.js';
import type { Herald } from '../src/herald.js';
import { hubUrl, publisherToken, startTestHerald } from './support/herald.js';
import { deleteKeys, SHARED_REDIS, uniquePrefix } from './support/redis-prefix.js';
import { collect } from './support/stream.js';

const BASE = 'https://example.com/handoff';
const BEFORE = 3000;
const DURING = 1500;
const BATCH = 25;

interface Sent {
  readonly id: string;
  readonly topic: string;
}

/** Publishes `count` updates in batches of BATCH, one batch at a time. */
async function publishBatches(herald: Herald, token: string, from: number, count: number, sent: Sent[]): Promise<void> {
  for (let done = 0; done < count; done += BATCH) {
    const updates = Array.from({ length: Math.min(BATCH, count - done) }, (_, i) => {
      const n = from + done + i;
      return { topic: `${BASE}/${n % 3}`, data: `u${n}` };
    });
    const response = await fetch(`${herald.url}/.well-known/mercure`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ updates }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const { ids } = (await response.json()) as { ids: string[] };
    ids.forEach((id, i) => sent.push({ id, topic: updates[i]!.topic }));
  }
}

const STORES: Array<{ name: string; config: () => Partial<Config> }> = [
  { name: 'memory', config: () => ({ store: 'memory' }) },
  { name: 'redis', config: () => ({ store: SHARED_REDIS, redisPrefix: uniquePrefix('handoff') }) },
  { name: 'redis, 4 log buckets', config: () => ({ store: SHARED_REDIS, redisPrefix: uniquePrefix('handoff4'), redisLogBuckets: 4 }) },
];

describe('replay -> live hand-off', () => {
  const prefixes: string[] = [];
  after(async () => {
    for (const prefix of prefixes) await deleteKeys(prefix);
  });

  for (const store of STORES) {
    test(`${store.name}: resumes replaying ${BEFORE}+ updates while ${DURING} more are published get every update after their id, once, in order`, async () => {
      const config = store.config();
      if (config.redisPrefix !== undefined) prefixes.push(config.redisPrefix);
      const herald = await startTestHerald({ ...config, chat: false, subscriptions: false, replayMax: 100_000, historyMaxPerTopic: 0 });
      const streams: Array<ReturnType<typeof collect>> = [];
      try {
        const token = await publisherToken();
        const sent: Sent[] = [];
        await publishBatches(herald, token, 0, BEFORE, sent);
        // Three publishers at once: the log's own order (read back at the end) is the reference.
        const share = DURING / 3;
        const publishing = Promise.all([0, 1, 2].map((k) => publishBatches(herald, token, BEFORE + k * share, share, sent)));
        // One exact topic (the single-topic fast path), several exact topics, and a template (the generic path).
        const kinds: Array<{ name: string; params: Array<[string, string]>; wants: (topic: string) => boolean }> = [
          { name: 'exact', params: [['topic', `${BASE}/1`]], wants: (t) => t === `${BASE}/1` },
          { name: 'two exact', params: [['topic', `${BASE}/0`], ['topic', `${BASE}/2`]], wants: (t) => t !== `${BASE}/1` },
          { name: 'template', params: [['topic', `${BASE}/{n}`]], wants: () => true },
        ];
        // Resumes spread over the publishing: far back (thousands to replay, many pages),
        // and a few updates back (the replay reaches the live edge while updates stored
        // just before are still on their way to this process's delivery).
        const resumes: Array<{ name: string; from: string; wants: (topic: string) => boolean; stream: ReturnType<typeof collect> }> = [];
        for (let round = 0; round < 8; round++) {
          for (const kind of kinds) {
            const from = round === 0 ? sent[10]!.id : sent[sent.length - 1]!.id;
            const stream = collect(hubUrl(herald.url, [...kind.params, ['lastEventID', from]]));
            streams.push(stream);
            resumes.push({ name: `${kind.name} from ${round === 0 ? 'far back' : 'near the end'}`, from, wants: kind.wants, stream });
            await stream.opened;
          }
          const target = sent.length + 60;
          while (sent.length < target && sent.length < BEFORE + DURING) await new Promise((resolve) => setTimeout(resolve, 1));
        }
        await publishing;
        // Every replay handed over (a replay may still scan slices without matches after
        // its last event); then one more update per topic, which must come live, last.
        const deadline = Date.now() + 30_000;
        while (herald.hub.stats().replays < resumes.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        await publishBatches(herald, token, BEFORE + DURING, 3, sent);
        const log = (await herald.broker.history({ filter: () => true, limit: 100_000 })).updates;
        assert.equal(log.length, BEFORE + DURING + 3);
        for (const resume of resumes) {
          const after = log.findIndex((u) => u.id === resume.from);
          const expected = log.slice(after + 1).filter((u) => resume.wants(u.topics[0]!)).map((u) => u.id);
          const got = (await resume.stream.waitFor(expected.length, 60_000)).map((event) => event.id);
          const seen = new Set<string>();
          const duplicates = got.filter((id) => seen.has(id) || !seen.add(id));
          assert.deepEqual(duplicates.slice(0, 5), [], `${resume.name}: duplicates`);
          const firstWrong = got.findIndex((id, i) => id !== expected[i]);
          assert.equal(firstWrong, -1, `${resume.name}: first difference at ${firstWrong} of ${expected.length}`);
        }
        const stats = herald.hub.stats();
        assert.equal(stats.slowDisconnects, 0, 'no stream was cut (a resume would hide a hand-off bug)');
        assert.equal(stats.replays, resumes.length, `one replay per resume: none reconnected (${JSON.stringify(stats)})`);
        assert.ok(stats.replayedUpdates > BEFORE, `replayed ${stats.replayedUpdates}`);
      } finally {
        for (const stream of streams) stream.close();
        await herald.close();
      }
    });
  }
});
