// Bucket placement: the slot hash matches Redis Cluster's, each bucket's tag lands in
// its own equal share of the slots, and topics spread over the buckets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketOf, bucketTags, keySlot, SLOTS } from './buckets.js';

test('keySlot is Redis Cluster\'s (CRC16/XMODEM mod 16384, hash tags honoured)', () => {
  assert.equal(keySlot('somekey'), 11058);
  assert.equal(keySlot('foo{hash_tag}'), 2515);
  assert.equal(keySlot('herald:{log}:stream'), keySlot('{log}'));
  assert.equal(keySlot('{log}'), 10591);
  assert.equal(keySlot('a{}b'), keySlot('a{}b'), 'an empty tag hashes the whole key');
});

test('one bucket is today\'s {log} layout; N buckets get one tag each in the i-th of N equal slot ranges', () => {
  assert.deepEqual(bucketTags(1), ['log']);
  for (const count of [2, 3, 16, 64, 256]) {
    const tags = bucketTags(count);
    assert.equal(new Set(tags).size, count);
    tags.forEach((tag, i) => {
      const slot = keySlot(`{${tag}}`);
      assert.ok(slot >= Math.floor((i * SLOTS) / count) && slot < Math.floor(((i + 1) * SLOTS) / count), `bucket ${i} of ${count}: slot ${slot}`);
    });
  }
  // Three masters with equal contiguous ranges (redis-cli --cluster create): 5/5/6.
  const perMaster = [0, 0, 0];
  for (const tag of bucketTags(16)) perMaster[Math.min(2, Math.floor(keySlot(`{${tag}}`) / Math.ceil(SLOTS / 3)))]! += 1;
  assert.deepEqual([...perMaster].sort(), [5, 5, 6]);
});

test('topics spread over the buckets, and a topic always has the same one', () => {
  const counts = new Array<number>(16).fill(0);
  for (let i = 0; i < 16_000; i++) counts[bucketOf(`https://example.com/books/${i}`, 16)]! += 1;
  for (const n of counts) assert.ok(n > 800 && n < 1200, `bucket sizes ${counts.join(',')}`);
  assert.equal(bucketOf('urn:a', 16), bucketOf('urn:a', 16));
  assert.equal(bucketOf('urn:a', 1), 0);
});
