// UpdateLog against a naive model (an array filtered the obvious way), over random
// sequences of publishes, clock moves (backwards too), expiries and history queries; plus the bound
// on its memory when a hot topic is trimmed behind a quiet one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { HistoryQuery, HistoryResult, RetentionOptions, Update } from '../types.js';
import { UpdateLog } from './update-log.js';

interface ModelEntry {
  readonly update: Update;
  readonly seq: number;
  readonly ts: number;
}

/** What UpdateLog must behave like, written for clarity rather than speed. */
class NaiveLog {
  entries: ModelEntry[] = [];
  constructor(private readonly retention: RetentionOptions) {}

  append(update: Update, seq: number, ts: number): void {
    this.entries.push({ update, seq, ts });
    const topic = update.topics[0];
    const same = this.entries.filter((e) => e.update.topics[0] === topic);
    if (this.retention.maxPerTopic > 0 && same.length > this.retention.maxPerTopic) {
      this.entries = this.entries.filter((e) => e !== same[0]);
    }
    while (this.retention.maxTotal > 0 && this.entries.length > this.retention.maxTotal) this.entries.shift();
  }

  // Oldest first, stopping at the first fresh one even if an older clock reading follows it.
  expireBefore(cutoff: number): void {
    while (this.entries[0] !== undefined && this.entries[0].ts < cutoff) this.entries.shift();
  }

  history(q: HistoryQuery): HistoryResult {
    const position = (id: string): number => this.entries.findIndex((e) => e.update.id === id);
    let start = 0;
    let end = this.entries.length;
    if (q.afterId !== undefined && q.afterId !== null) {
      if (position(q.afterId) < 0) return { updates: [], found: false, truncated: false };
      start = position(q.afterId) + 1;
    }
    if (q.beforeId !== undefined) {
      if (position(q.beforeId) < 0) return { updates: [], found: false, truncated: false };
      end = position(q.beforeId);
    }
    const matches = this.entries.slice(start, Math.max(start, end)).map((e) => e.update).filter(q.filter);
    return { updates: matches.slice(Math.max(0, matches.length - q.limit)), found: true, truncated: matches.length > q.limit };
  }
}

const TOPICS = ['urn:a', 'urn:b', 'urn:c', 'urn:d'];

const operation = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('publish' as const), topic: fc.nat(3), alt: fc.option(fc.nat(3)), priv: fc.boolean() }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: -3_000, max: 6_000 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('expire' as const) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('query' as const),
      after: fc.option(fc.nat(60)),
      before: fc.option(fc.nat(60), { nil: undefined }),
      limit: fc.nat(8),
      topic: fc.option(fc.nat(3)),
    }),
    weight: 3,
  },
);

const retentionArb = fc.record({ maxPerTopic: fc.nat(4), maxAgeSeconds: fc.nat(10), maxTotal: fc.nat(12) });

test('UpdateLog behaves like the naive model and reports exactly the rows it drops', () => {
  fc.assert(
    fc.property(retentionArb, fc.constantFrom(0, 2, 1024), fc.array(operation, { maxLength: 120 }), (retention, minHoles, ops) => {
      const dropped = new Set<number>();
      let droppedUpTo = 0;
      const log = new UpdateLog(retention, {
        minHoles,
        onRemove: (seq, fromHead) => (fromHead ? (droppedUpTo = Math.max(droppedUpTo, seq)) : dropped.add(seq)),
      });
      const model = new NaiveLog(retention);
      let now = 1_000_000;
      let seq = 0;
      const cutoff = (): number => (retention.maxAgeSeconds > 0 ? now - retention.maxAgeSeconds * 1000 : -Infinity);
      for (const op of ops) {
        if (op.kind === 'publish') {
          seq++;
          const topics = op.alt === null ? [TOPICS[op.topic]!] : [TOPICS[op.topic]!, TOPICS[op.alt]!];
          const update: Update = { id: `u${seq}`, topics, data: '', private: op.priv };
          log.append(update, seq * 10, now);
          model.append(update, seq * 10, now);
        } else if (op.kind === 'advance') {
          now += op.ms;
        } else if (op.kind === 'expire') {
          log.expireBefore(cutoff());
          model.expireBefore(cutoff());
        } else {
          const filter = (u: Update): boolean => op.topic === null || (u.topics.includes(TOPICS[op.topic]!) && !u.private);
          const query: HistoryQuery = {
            afterId: op.after === null ? null : `u${op.after}`,
            beforeId: op.before === undefined ? undefined : `u${op.before}`,
            limit: op.limit,
            filter,
          };
          assert.deepEqual(log.history(query), model.history(query));
        }
        const kept = model.entries.map((e) => e.seq);
        assert.equal(log.size, kept.length);
        assert.equal(log.newest()?.id, model.entries.at(-1)?.update.id);
        assert.ok(log.footprint <= 2 * log.size + minHoles + 1, `footprint ${log.footprint} for ${log.size}`);
        for (let s = 10; s <= seq * 10; s += 10) {
          const reported = dropped.has(s) || s <= droppedUpTo;
          assert.equal(reported, !kept.includes(s), `seq ${s} reported dropped: ${reported}`);
        }
      }
    }),
    { numRuns: 1000 },
  );
});

test('UpdateLog: a hot topic trimmed behind a quiet one keeps its memory bounded and its lookups right', () => {
  const log = new UpdateLog({ maxPerTopic: 10, maxAgeSeconds: 0, maxTotal: 100_000 });
  log.append({ id: 'quiet', topics: ['urn:quiet'], data: '', private: false }, 1, 0);
  for (let i = 1; i <= 200_000; i++) log.append({ id: `hot${i}`, topics: ['urn:hot'], data: '', private: false }, i + 1, 0);
  assert.equal(log.size, 11);
  assert.ok(log.footprint <= 1024 + 2 * 11, `footprint ${log.footprint}`);
  const all = log.history({ filter: () => true, limit: 100 });
  assert.deepEqual(
    all.updates.map((u) => u.id),
    ['quiet', ...Array.from({ length: 10 }, (_, i) => `hot${199_991 + i}`)],
  );
  const after = log.history({ afterId: 'hot199995', beforeId: 'hot199999', filter: () => true, limit: 100 });
  assert.deepEqual(
    after.updates.map((u) => u.id),
    ['hot199996', 'hot199997', 'hot199998'],
  );
  assert.equal(log.history({ afterId: 'hot199990', filter: () => true, limit: 1 }).found, false);
});
