// Generated ids (`urn:uuid:<version 4 UUID>`) for updates and subscriptions, made
// without crypto.randomUUID's string building: randomUUID concatenates 20 pieces per
// id (about 600 bytes of garbage on the publish path). Here the random bytes come
// from the same source (crypto.randomFillSync, drawn 256 ids at a time, as Node's
// randomUUID caches them too), their hex digits are written into a template Buffer,
// and one latin1 string is read out of it.
import { randomFillSync } from 'node:crypto';

const PREFIX = 'urn:uuid:';
/** Offsets of the 16 bytes' hex pairs in `urn:uuid:xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`. */
const OFFSETS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34].map((at) => PREFIX.length + at);
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const IDS_PER_DRAW = 256;

const text = Buffer.from(`${PREFIX}00000000-0000-0000-0000-000000000000`, 'latin1');
const pool = Buffer.alloc(16 * IDS_PER_DRAW);
let used = IDS_PER_DRAW;

export function newUuidUrn(): string {
  if (used === IDS_PER_DRAW) {
    randomFillSync(pool);
    used = 0;
  }
  const base = 16 * used++;
  for (let i = 0; i < 16; i++) {
    let byte = pool[base + i]!;
    if (i === 6) byte = (byte & 0x0f) | 0x40; // version 4
    else if (i === 8) byte = (byte & 0x3f) | 0x80; // variant 10xx (RFC 9562)
    const at = OFFSETS[i]!;
    text[at] = HEX[byte >> 4]!;
    text[at + 1] = HEX[byte & 0x0f]!;
  }
  return text.toString('latin1');
}
