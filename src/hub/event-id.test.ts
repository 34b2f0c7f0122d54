import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newUuidUrn } from './event-id.js';

const UUID_V4_URN = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('ids are version-4 UUID URNs, distinct across pool refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const id = newUuidUrn();
    assert.match(id, UUID_V4_URN);
    seen.add(id);
  }
  assert.equal(seen.size, 2000);
});

test('every hex digit position varies (no byte left at its template value)', () => {
  const ids = Array.from({ length: 512 }, () => newUuidUrn());
  for (let at = 'urn:uuid:'.length; at < ids[0]!.length; at++) {
    if (ids[0]![at] === '-' || at === 'urn:uuid:'.length + 14) continue;
    assert.ok(new Set(ids.map((id) => id[at])).size >= 4, `position ${at} barely varies`);
  }
});
